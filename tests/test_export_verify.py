"""Export every format from a small model, prove verify passes, and prove it catches drift.

One export (session fixture) is copied for each tampering case: a truncated file, a perturbed
weight (with the manifest checksum updated so only parity can catch it), a swapped label
order, a wrong int8 input scale, and a model mismatch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from model_factory import make_model_dir

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import DEFAULT_FORMATS, FORMATS
from edge_ser.artifacts.manifest import digest, read_manifest
from edge_ser.cli import main
from edge_ser.export import parity
from edge_ser.export.golden import golden_inputs
from edge_ser.quantization import quantize
from edge_ser.reference_preprocess import params

pytestmark = pytest.mark.slow
ALL_FORMATS = list(FORMATS)


@pytest.fixture(scope="session")
def dist(model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "dist"
    assert (
        main(["export", "--model", str(model_dir), "--out", str(out), "--formats", *ALL_FORMATS])
        == 0
    )
    return out


def run_verify(dist: Path, model_dir: Path, capsys, *extra: str) -> tuple[int, dict | None, str]:
    code = main(["verify", str(dist), "--model", str(model_dir), "--json", *extra])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return code, report, captured.err


def rewrite_checksum(dist: Path, name: str) -> None:
    manifest = read_manifest(dist)
    sha, size = digest(dist / name)
    manifest["artifacts"][name].update(sha256=sha, size_bytes=size)
    (dist / layout.MANIFEST_JSON).write_text(json.dumps(manifest))


def test_export_writes_every_artifact_with_a_complete_manifest(dist):
    manifest = read_manifest(dist)
    expected = {FORMATS[f].filename for f in ALL_FORMATS}
    assert set(manifest["artifacts"]) == expected
    for name, entry in manifest["artifacts"].items():
        assert (dist / name).exists()
        assert (entry["sha256"], entry["size_bytes"]) == digest(dist / name)
    for constant in (
        "SAMPLE_RATE",
        "HOP_LENGTH_SAMPLES",
        "MEL_MIN_HZ",
        "LOG_OFFSET",
        "MIN_SAMPLES",
    ):
        assert manifest["preprocessing"][constant.lower()] == getattr(params, constant)
    int8 = manifest["artifacts"][layout.INT8_TFLITE]
    assert int8["input"]["dtype"] == "int8" and int8["output"]["dtype"] == "int8"
    assert int8["input"]["shape"] == list(layout.INPUT_SHAPE)
    assert (dist / layout.LABELS_TXT).read_text().split() == manifest["labels"]
    assert manifest["parity"]["passed"] is True


def test_default_formats_are_the_documented_four():
    assert [FORMATS[f].filename for f in DEFAULT_FORMATS] == [
        layout.INT8_TFLITE,
        layout.FLOAT32_TFLITE,
        layout.MLPACKAGE,
        layout.MLMODEL,
    ]


def test_golden_int8_inputs_follow_the_manifest_rule(dist):
    entry = read_manifest(dist)["artifacts"][layout.INT8_TFLITE]["input"]
    for name, (_, _, patches) in golden_inputs().items():
        stored = np.fromfile(dist / layout.GOLDEN_DIR / f"{name}.int8.i8", dtype=np.int8)
        expected = quantize(patches[..., 0], entry["scale"], entry["zero_point"]).ravel()
        np.testing.assert_array_equal(stored, expected)


def test_verify_passes_on_a_fresh_export(dist, model_dir, capsys):
    code, report, _ = run_verify(dist, model_dir, capsys)
    assert code == 0 and report["passed"]
    runtimes = {(a["artifact"], a["runtime"]) for a in report["artifacts"].values()}
    assert {name for name, _ in runtimes} == set(read_manifest(dist)["artifacts"])
    for result in report["artifacts"].values():
        assert (
            result["patches"]["n"]
            == report["inputs"]["golden_patches"] + report["inputs"]["held_out_patches"]
        )
        if result["precision"] == "float32":
            assert result["patches"]["max_abs_diff"] <= 1e-4
        if result["precision"] == "float16":
            assert result["patches"]["max_abs_diff"] <= 1e-2


def test_verify_rejects_a_truncated_artifact(dist_copy, model_dir, capsys):
    path = dist_copy / layout.INT8_TFLITE
    path.write_bytes(path.read_bytes()[:-100])
    code, report, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and report is None
    assert "error:" in err and layout.INT8_TFLITE in err


def test_verify_catches_a_perturbed_weight_even_with_a_valid_checksum(dist_copy, model_dir, capsys):
    from edge_ser.bundle import ModelBundle

    # TFLite stores the dense kernel transposed, float32, verbatim: find it and flip it.
    kernel = ModelBundle.load(model_dir).keras_model.get_layer("logits").get_weights()[0]
    stored = np.ascontiguousarray(kernel.T, dtype="<f4").tobytes()
    path = dist_copy / layout.FLOAT32_TFLITE
    data = path.read_bytes()
    start = data.find(stored)
    assert start > 0, "dense kernel not found verbatim in the float32 TFLite file"
    flipped = (-np.frombuffer(stored, dtype="<f4")).astype("<f4").tobytes()
    path.write_bytes(data[:start] + flipped + data[start + len(stored) :])
    rewrite_checksum(dist_copy, layout.FLOAT32_TFLITE)
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 1 and not report["passed"]
    failed = [a for a in report["artifacts"].values() if not a["passed"]]
    assert [a["artifact"] for a in failed] == [layout.FLOAT32_TFLITE]


def test_verify_rejects_a_swapped_label_order(dist_copy, model_dir, capsys):
    labels = (dist_copy / layout.LABELS_TXT).read_text().split()
    labels[0], labels[1] = labels[1], labels[0]
    (dist_copy / layout.LABELS_TXT).write_text("\n".join(labels) + "\n")
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "label order" in err

    manifest = read_manifest(dist_copy)
    manifest["labels"] = labels
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "label order" in err


def test_every_tflite_artifact_carries_the_manifest_labels_in_its_metadata(dist):
    from edge_ser.artifacts.tflite_metadata import read_metadata

    manifest = read_manifest(dist)
    tflite = [name for name in manifest["artifacts"] if name.endswith(".tflite")]
    assert len(tflite) == 4
    for name in tflite:
        metadata = read_metadata((dist / name).read_bytes(), name)
        assert list(metadata.labels) == manifest["labels"]
        assert metadata.name == manifest["model_id"]


def test_verify_rejects_metadata_labels_out_of_order(dist_copy, model_dir, capsys):
    import io
    import zipfile

    path = dist_copy / layout.WAVEFORM_INT8_TFLITE
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        model_end = archive.getinfo(layout.LABELS_TXT).header_offset
        labels = archive.read(layout.LABELS_TXT).decode().split()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr(layout.LABELS_TXT, "\n".join(reversed(labels)))
    path.write_bytes(data[:model_end] + packed.getvalue())
    rewrite_checksum(dist_copy, layout.WAVEFORM_INT8_TFLITE)
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "labels in the metadata of 'emotion_waveform_int8.tflite'" in err


def test_verify_catches_a_wrong_quantization_scale(dist_copy, model_dir, capsys):
    manifest = read_manifest(dist_copy)
    manifest["artifacts"][layout.INT8_TFLITE]["input"]["scale"] *= 1.5
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 1
    assert not report["artifacts"][f"{layout.INT8_TFLITE} [litert]"]["passed"]


def test_verify_rejects_artifacts_of_another_model(dist, tmp_path, capsys):
    other = make_model_dir(tmp_path / "other", seed=1)
    code, _, err = run_verify(dist, other, capsys)
    assert code == 2 and "exported from model" in err


def test_verify_rejects_a_directory_without_manifest(tmp_path, model_dir, capsys):
    code, _, err = run_verify(tmp_path, model_dir, capsys)
    assert code == 2 and "manifest.json" in err


def test_export_never_clobbers_without_force(dist, model_dir, tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(
        ["export", "--model", str(model_dir), "--out", str(out), "--formats", "tflite-float32"]
    )
    assert code == 2 and "(keep.txt) and is not an export" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_failed_parity_at_export_leaves_nothing_behind(tmp_path, capsys):
    miscalibrated = make_model_dir(tmp_path / "miscalibrated")
    calibration = miscalibrated / "calibration_patches.npy"
    np.save(calibration, np.load(calibration) * 50)  # ranges far wider than any real patch
    out = tmp_path / "dist"
    code = main(
        ["export", "--model", str(miscalibrated), "--out", str(out), "--formats", "tflite-int8"]
    )
    assert code == 1 and "nothing written" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".dist*"))


def test_top1_agreement_counts_decisive_patches_and_reports_all():
    reference = np.array([[0.51, 0.49], [0.9, 0.1], [0.2, 0.8]])
    candidate = np.array([[0.49, 0.51], [0.9, 0.1], [0.8, 0.2]])  # a near-tie and a real flip
    stats = parity.compare(reference, candidate)
    assert stats["decisive_n"] == 2 and stats["top1_agreement"] == 0.5
    assert stats["top1_agreement_all"] == pytest.approx(1 / 3)
    assert parity.failures("int8", stats, None, parity.DEFAULT_THRESHOLDS)
