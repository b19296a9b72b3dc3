"""Waveform-in models: the Keras frontend against the NumPy reference, their export, their
parity in ``verify``, and that ``verify`` catches a wrong frontend constant.

Measured agreement of the Keras frontend (float32 DFT) with the reference (float64 DFT), max
|log-mel diff|: 2.2e-4 on the golden chirp, 1.0e-4 on the 440 Hz tone, 1.1e-6 on white noise,
4.4e-6 on the golden voice and 5.9e-5 on 40 speech-like windows down to -60 dB (mean 1.1e-7):
the largest differences are in low-energy bands, as SPEC.md explains.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import load_benchmark
from test_export_verify import rewrite_checksum, run_verify

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FORMATS, WAVEFORM_FORMATS
from edge_ser.artifacts.manifest import read_manifest
from edge_ser.cli import main
from edge_ser.errors import ModelError
from edge_ser.log_mel_layer import FRONTEND_LAYER, LogMelFrontend, build_waveform_model
from edge_ser.reference_preprocess import (
    mel_matrix,
    params,
    signals,
    waveform_to_log_mel,
    waveform_to_patches,
)
from edge_ser.reference_preprocess.make_golden import read_golden
from edge_ser.runtimes import coreml_numpy_runtime
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.runtimes.mediapipe_runtime import available as mediapipe_available
from edge_ser.windows import synthesize_windows, waveform_windows

pytestmark = pytest.mark.slow
WAVEFORM_FILES = [FORMATS[f].filename for f in WAVEFORM_FORMATS]


def speech_like_windows(count: int, seed: int = 0) -> np.ndarray:
    """``(count, 15600)`` voiced windows: random pitch, loudness (-60..0 dB) and noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        voiced = signals.voice(params.MIN_SAMPLES, seed=seed + i, f0_hz=rng.uniform(90, 300))
        gain = 10.0 ** rng.uniform(-3.0, 0.0)
        noise = 10.0 ** rng.uniform(-5.0, -2.0) * rng.standard_normal(params.MIN_SAMPLES)
        rows.append(np.clip(gain * voiced + noise, -1.0, 1.0))
    return np.asarray(rows, np.float32)


def golden_windows() -> dict[str, np.ndarray]:
    return {name: waveform_windows(wave) for name, (wave, _) in read_golden().items()}


def frontend_log_mel(windows: np.ndarray) -> np.ndarray:
    return np.asarray(LogMelFrontend()(windows))[..., 0]


def reference_log_mel(windows: np.ndarray) -> np.ndarray:
    return np.stack([waveform_to_log_mel(w) for w in windows])


# ---------------------------------------------------------------------------------------
# The frontend and the windows, without export


def test_keras_frontend_matches_the_reference_on_golden_windows():
    for name, windows in golden_windows().items():
        got, expected = frontend_log_mel(windows), reference_log_mel(windows)
        assert got.shape == expected.shape == (len(windows), 96, 64)
        diff = np.abs(got - expected)
        # The port criterion of SPEC.md ("How a port compares").
        assert diff.max() <= 1e-3 and diff.mean() <= 1e-4, name
    silence = frontend_log_mel(golden_windows()["silence"])
    np.testing.assert_allclose(silence, np.log(np.float32(params.LOG_OFFSET)), atol=1e-6)


def test_keras_frontend_matches_the_reference_on_speech_like_windows():
    windows = speech_like_windows(12)
    diff = np.abs(frontend_log_mel(windows) - reference_log_mel(windows))
    assert diff.max() <= 2e-4 and diff.mean() <= 1e-6


def test_waveform_windows_give_the_patches_of_the_clip():
    for num_samples, expected_windows in ((8000, 1), (15600, 1), (23279, 1), (23280, 2)):
        clip = speech_like_windows(1)[0]
        clip = np.resize(clip, num_samples)
        windows = waveform_windows(clip)
        assert windows.shape == (expected_windows, params.MIN_SAMPLES)
        np.testing.assert_allclose(
            reference_log_mel(windows), waveform_to_patches(clip), rtol=0, atol=1e-6
        )
    padded = waveform_windows(np.ones(100, np.float32))[0]
    assert padded[:100].all() and not padded[100:].any()


def test_synthesized_windows_resemble_their_patches_and_are_deterministic():
    patches = reference_log_mel(speech_like_windows(4, seed=3))
    windows = synthesize_windows(patches)
    assert windows.shape == (4, params.MIN_SAMPLES) and windows.dtype == np.float32
    assert np.abs(reference_log_mel(windows) - patches).mean() < 0.15
    np.testing.assert_array_equal(windows, synthesize_windows(patches))


def test_waveform_model_is_the_frontend_then_the_patch_model(model_dir):
    from edge_ser.bundle import ModelBundle

    patch_model = ModelBundle.load(model_dir).keras_model
    waveform_model = build_waveform_model(patch_model)
    assert waveform_model.input_shape == (None, params.MIN_SAMPLES)
    assert waveform_model.get_layer(FRONTEND_LAYER) is not None
    windows = speech_like_windows(3)
    expected = patch_model(reference_log_mel(windows)[..., np.newaxis], training=False)
    np.testing.assert_allclose(waveform_model(windows), expected, atol=1e-5)


# ---------------------------------------------------------------------------------------
# Export and verify


@pytest.fixture(scope="module")
def dist(model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "dist"
    args = ["export", "--model", str(model_dir), "--out", str(out)]
    assert main([*args, "--formats", "tflite-float32", "--waveform"]) == 0
    return out


def test_export_waveform_adds_the_waveform_artifacts(dist):
    manifest = read_manifest(dist)
    assert set(manifest["artifacts"]) == {layout.FLOAT32_TFLITE, *WAVEFORM_FILES}
    assert set(WAVEFORM_FILES) == {
        layout.WAVEFORM_INT8_TFLITE,
        layout.WAVEFORM_FLOAT32_TFLITE,
        layout.WAVEFORM_MLPACKAGE,
    }
    expected_input = {"name": "waveform", "dtype": "float32", "shape": [1, 15600]}
    for name in WAVEFORM_FILES:
        entry = manifest["artifacts"][name]
        assert entry["input"] == expected_input
        assert entry["output"] == (
            {"label": "label", "probabilities": "probabilities"}
            if name.endswith(".mlpackage")
            else {"name": entry["output"]["name"], "dtype": "float32", "shape": [1, 8]}
        )
    index = json.loads((dist / layout.GOLDEN_DIR / "index.json").read_text())
    assert set(WAVEFORM_FORMATS) <= set(index["artifacts"])


def test_golden_probabilities_of_waveform_artifacts_come_from_the_golden_windows(dist):
    runtime = LiteRTRuntime(dist / layout.WAVEFORM_FLOAT32_TFLITE, read_manifest(dist)["labels"])
    for name, windows in golden_windows().items():
        stored = np.fromfile(
            dist / layout.GOLDEN_DIR / f"{name}.probs.tflite-waveform-float32.f32", "<f4"
        ).reshape(len(windows), -1)
        np.testing.assert_allclose(stored, runtime.predict_patches(windows), atol=1e-6)


def test_verify_passes_and_reports_waveform_inputs(dist, model_dir, capsys, emotion_corpus):
    code, report, _ = run_verify(dist, model_dir, capsys, "--data", str(emotion_corpus))
    assert code == 0 and report["passed"]
    inputs = report["inputs"]
    assert inputs["golden_windows"] == inputs["golden_patches"] == 7
    assert inputs["held_out_windows"] == inputs["held_out_patches"] > 0
    assert inputs["data_clips"] == 64
    for result in report["artifacts"].values():
        waveform = result["artifact"] in WAVEFORM_FILES
        assert result["input"] == ("waveform" if waveform else "patch")
        assert result["clips"]["n"] == 64
        if result["precision"] == "float32":
            assert result["patches"]["max_abs_diff"] <= 1e-4
            assert result["clips"]["max_abs_diff"] <= 1e-4
    int8 = report["artifacts"][f"{layout.WAVEFORM_INT8_TFLITE} [litert]"]
    assert int8["patches"]["top1_agreement"] >= 0.97
    mediapipe = [r for r in report["artifacts"].values() if r["runtime"] == "mediapipe"]
    if mediapipe_available():
        assert sorted(r["artifact"] for r in mediapipe) == sorted(
            [layout.WAVEFORM_INT8_TFLITE, layout.WAVEFORM_FLOAT32_TFLITE]
        )
        assert all(r["litert_max_abs_diff"] == 0.0 for r in mediapipe)
    else:
        assert mediapipe == []


def test_int8_waveform_model_keeps_the_frontend_in_float32(dist):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(dist / layout.WAVEFORM_INT8_TFLITE))
    tensors = interpreter.get_tensor_details()
    ops = [
        (op["op_name"], [np.dtype(tensors[i]["dtype"]).name for i in op["outputs"]])
        for op in interpreter._get_ops_details()
        if op["op_name"] != "DELEGATE"
    ]
    names = [name for name, _ in ops]
    first_quantize = names.index("QUANTIZE")
    frontend = ops[:first_quantize]
    assert {"CONV_2D", "SQRT", "LOG", "MEAN", "SUB", "MUL"} <= {name for name, _ in frontend}
    assert all(dtype == "float32" for _, dtypes in frontend for dtype in dtypes)
    classifier = ops[first_quantize + 1 : -1]
    assert "CONV_2D" in {name for name, _ in classifier}
    assert all(dtype == "int8" for _, dtypes in classifier for dtype in dtypes if dtype != "int32")
    assert names[-1] == "DEQUANTIZE"


def test_selective_quantization_needs_the_frontend_layer(model_dir):
    from edge_ser.bundle import ModelBundle
    from edge_ser.export.tflite import to_int8_tflite

    bundle = ModelBundle.load(model_dir)
    with pytest.raises(ModelError, match="no op"):
        to_int8_tflite(bundle.keras_model, bundle.calibration_patches(), float_layers=("nothing",))


def test_numpy_evaluator_covers_the_waveform_program(dist, monkeypatch):
    path = dist / layout.WAVEFORM_MLPACKAGE
    runtime = CoreMLNumpyRuntime(path)
    frontend_ops = {"conv", "square", "reduce_sum", "sqrt", "linear", "log"}
    assert frontend_ops | {"cast", "classify"} <= runtime.op_types
    assert runtime.op_types - {"const"} <= set(coreml_numpy_runtime.MIL_OPS)
    # The frontend computes in float32, the classifier after it in float16.
    from coremltools.models.utils import load_spec

    function = load_spec(str(path)).mlProgram.functions["main"]
    operations = function.block_specializations[function.opset].operations
    float32, float16 = 11, 10  # MIL_pb2.DataType FLOAT32, FLOAT16
    frontend = [op for op in operations if op.outputs[0].name.startswith("frontend_")]
    computing = [op for op in frontend if op.type not in ("const", "cast")]
    assert {op.type for op in computing} >= frontend_ops
    assert all(op.outputs[0].type.tensorType.dataType == float32 for op in computing)
    # One cast hands the log-mel patch to the float16 classifier.
    (cast,) = [op for op in frontend if op.type == "cast"]
    assert cast.outputs[0].type.tensorType.dataType == float16
    for op in sorted(frontend_ops):
        with monkeypatch.context() as patched:
            patched.delitem(coreml_numpy_runtime.MIL_OPS, op)
            with pytest.raises(ModelError, match=op):
                CoreMLNumpyRuntime(path)


def _mel_bytes() -> bytes:
    """The mel weights as the waveform artifacts store them: (bands, bins) float32."""
    used = mel_matrix()[mel_matrix().any(axis=1)]
    return np.ascontiguousarray(used.T, dtype="<f4").tobytes()


def _stored_file(dist: Path, name: str) -> Path:
    if name.endswith(".mlpackage"):
        return dist / name / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    return dist / name


@pytest.mark.parametrize("name", WAVEFORM_FILES)
def test_verify_catches_reversed_mel_bands_in_a_waveform_artifact(
    dist_copy, model_dir, capsys, name
):
    stored = _mel_bytes()
    path = _stored_file(dist_copy, name)
    data = path.read_bytes()
    start = data.find(stored)
    assert start > 0, f"mel weights not found verbatim in {path.name}"
    bands = np.frombuffer(stored, "<f4").reshape(params.NUM_MEL_BANDS, -1)
    path.write_bytes(data[:start] + bands[::-1].tobytes() + data[start + len(stored) :])
    rewrite_checksum(dist_copy, name)
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 1
    # Every runtime of the artifact (LiteRT, and MediaPipe when installed) fails it.
    assert {a["artifact"] for a in report["artifacts"].values() if not a["passed"]} == {name}


def test_export_refuses_a_frontend_with_a_wrong_log_offset(model_dir, tmp_path, capsys):
    # The reference keeps its own LOG_OFFSET; only the graphs built from params change.
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(params, "LOG_OFFSET", 0.02)
        out = tmp_path / "dist"
        args = ["export", "--model", str(model_dir), "--out", str(out)]
        code = main([*args, "--formats", "tflite-waveform-float32"])
    err = capsys.readouterr().err
    assert code == 1 and "nothing written" in err
    assert f"{layout.WAVEFORM_FLOAT32_TFLITE} [litert]" in err and not out.exists()


def test_mediapipe_windowing_benchmark_runs_on_an_export(dist, emotion_corpus, tmp_path):
    """benchmarks/mediapipe_windowing.py on the tiny export and the generated corpus."""
    if not mediapipe_available():
        pytest.skip("mediapipe is not installed (pip install -e '.[mediapipe]')")
    module = load_benchmark("mediapipe_windowing")
    out = tmp_path / "windowing.json"
    assert module.main([str(dist), str(emotion_corpus), "--speakers", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["clips"] == 64
    for row in report["models"].values():
        assert row["max_abs_diff_vs_litert"] == 0.0
        # 1.2 s clips: one edge-ser window each; MediaPipe adds a zero-padded second one.
        assert (row["windows"], row["mediapipe_windows"]) == (64, 128)
        assert 0.0 <= row["clip_label_agreement"] <= 1.0
