"""``open_model``: every kind of model path opens into its runtimes, labels and quantization."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_recognizer import tiny_export  # noqa: F401  (session fixture)

from edge_ser.artifacts import layout
from edge_ser.bundle import BUNDLED_DIR, ModelBundle
from edge_ser.errors import ModelError
from edge_ser.export.coreml import build_neuralnetwork
from edge_ser.export.tflite import to_float32_tflite
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime
from edge_ser.runtimes.keras_runtime import KerasRuntime
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.runtimes.open_model import open_bundled_int8, open_model


def test_open_model_directory_and_keras_file(tiny_export):  # noqa: F811
    for path in (tiny_export.model_dir, tiny_export.model_dir / "model.keras"):
        opened = open_model(path)
        assert isinstance(opened.runtime, KerasRuntime)
        assert opened.labels == tiny_export.labels
        assert opened.bundle.directory == tiny_export.model_dir


def test_open_export_directory_uses_int8_tflite_and_manifest_quantization(
    tiny_export,  # noqa: F811
    tmp_path,
):
    dist = tmp_path / "dist"
    shutil.copytree(tiny_export.dist, dist)
    manifest = json.loads((dist / layout.MANIFEST_JSON).read_text())
    entry = manifest["artifacts"][layout.INT8_TFLITE]["input"]
    entry["scale"], entry["zero_point"] = 0.125, 3  # an app reads these, not the model's own
    (dist / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    opened = open_model(dist, num_threads=1)
    runtime = opened.runtime
    assert isinstance(runtime, LiteRTRuntime)
    assert runtime.path == dist / layout.INT8_TFLITE and runtime.is_int8
    assert runtime.input_quantization == (0.125, 3)
    assert opened.labels == tiny_export.labels


def test_open_tflite_without_manifest_uses_model_quantization(
    tiny_export,  # noqa: F811
    tmp_path,
):
    for name in (layout.INT8_TFLITE, layout.LABELS_TXT):
        shutil.copy(tiny_export.dist / name, tmp_path / name)
    runtime = open_model(tmp_path / layout.INT8_TFLITE).runtime
    assert runtime.input_quantization == tuple(runtime.input["quantization"])


def test_open_tflite_copied_alone_reads_labels_from_its_metadata(
    tiny_export,  # noqa: F811
    tmp_path,
):
    shutil.copy(tiny_export.dist / layout.INT8_TFLITE, tmp_path / "renamed.tflite")
    alone = open_model(tmp_path / "renamed.tflite")
    assert alone.labels == tiny_export.labels
    patches = ModelBundle.load(tiny_export.model_dir).parity_patches()[:8]
    expected = open_model(tiny_export.dist).runtime.predict_patches(patches)
    np.testing.assert_array_equal(alone.runtime.predict_patches(patches), expected)


def test_open_tflite_without_metadata_needs_labels_beside_it(
    tiny_export,  # noqa: F811
    tmp_path,
):
    bare = to_float32_tflite(ModelBundle.load(tiny_export.model_dir).keras_model)
    (tmp_path / "model.tflite").write_bytes(bare)
    with pytest.raises(ModelError, match="no labels in its metadata and has no labels.txt"):
        open_model(tmp_path / "model.tflite")
    shutil.copy(tiny_export.dist / layout.LABELS_TXT, tmp_path / layout.LABELS_TXT)
    assert open_model(tmp_path / "model.tflite").labels == tiny_export.labels


def test_open_rejects_missing_and_unknown_paths(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        open_model(tmp_path / "missing.tflite")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model directory"):
        open_model(tmp_path / "empty")


def test_open_coreml_uses_numpy_evaluator_off_macos(
    tiny_export,  # noqa: F811
    tmp_path,
):
    bundle = ModelBundle.load(tiny_export.model_dir)
    path = tmp_path / layout.MLMODEL
    build_neuralnetwork(bundle.keras_model, bundle.labels, {}).save(str(path))
    opened = open_model(path)
    assert isinstance(opened.runtime, CoreMLNumpyRuntime)
    assert list(opened.runtimes) == ["coreml-numpy"] and opened.bundle is None
    assert opened.labels == tiny_export.labels
    patches = bundle.parity_patches()[:4]
    expected = bundle.runtime().predict_patches(patches)
    np.testing.assert_allclose(opened.runtime.predict_patches(patches), expected, atol=1e-4)


def test_open_bundled_model():
    opened = open_model()
    assert opened.path is None and opened.bundle is not None
    assert opened.source == "bundled Keras model" and list(opened.runtimes) == ["keras"]
    assert opened.labels == opened.bundle.labels


def test_bundled_int8_is_the_recognizer_default_and_matches_the_bundled_model():
    from edge_ser import Recognizer

    recognizer = Recognizer.load()
    bundle = ModelBundle.load(None)
    assert isinstance(recognizer.runtime, LiteRTRuntime)
    assert recognizer.runtime.path == BUNDLED_DIR / layout.INT8_TFLITE
    assert recognizer.labels == bundle.labels and bundle.model_id in recognizer.source
    patches = bundle.parity_patches()[:32]
    int8 = recognizer.runtime.predict_patches(patches)
    keras = bundle.runtime().predict_patches(patches)
    assert np.mean(int8.argmax(axis=1) == keras.argmax(axis=1)) >= 0.9


@pytest.mark.parametrize("damage", ["flip a byte", "remove the manifest"])
def test_bundled_int8_is_refused_when_it_does_not_match_its_manifest(tmp_path, monkeypatch, damage):
    import edge_ser.bundle
    import edge_ser.runtimes.open_model

    copy = tmp_path / "bundled"
    shutil.copytree(BUNDLED_DIR, copy)
    if damage == "flip a byte":
        model = copy / layout.INT8_TFLITE
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    else:
        (copy / layout.MANIFEST_JSON).unlink()
    monkeypatch.setattr(edge_ser.bundle, "BUNDLED_DIR", copy)
    monkeypatch.setattr(edge_ser.runtimes.open_model, "BUNDLED_DIR", copy)
    with pytest.raises(ModelError, match="bundled int8 model cannot be used"):
        open_bundled_int8()
