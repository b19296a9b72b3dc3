"""TFLite Model Metadata: written into every TFLite export, read back by edge-ser and by
MediaPipe's ``AudioClassifier``, and leaving the model's outputs unchanged."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FORMATS
from edge_ser.artifacts.tflite_metadata import (
    AUDIO_PROPERTIES,
    FEATURE_PROPERTIES,
    read_metadata,
)
from edge_ser.bundle import ModelBundle
from edge_ser.errors import ModelError
from edge_ser.export.artifacts import BUILDERS, ExportContext
from edge_ser.export.exporter import coreml_metadata
from edge_ser.export.tflite import to_float32_tflite
from edge_ser.export.tflite_metadata import add_metadata
from edge_ser.reference_preprocess import params
from edge_ser.reference_preprocess.signals import voice
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.runtimes.mediapipe_runtime import MediaPipeAudioRuntime, available
from edge_ser.windows import waveform_windows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(model_dir, tmp_path_factory) -> Path:
    """The tiny model's float32 patch and waveform-in TFLite files, as export builds them."""
    out = tmp_path_factory.mktemp("metadata")
    bundle = ModelBundle.load(model_dir)
    context = ExportContext(
        bundle.keras_model, bundle.labels, bundle.calibration_patches(), coreml_metadata(bundle)
    )
    for name in ("tflite-float32", "tflite-waveform-float32"):
        BUILDERS[name](context, out / FORMATS[name].filename)
    return out


def test_metadata_describes_the_model_and_its_input(built, model_dir):
    bundle = ModelBundle.load(model_dir)
    card = coreml_metadata(bundle)
    patch = read_metadata((built / layout.FLOAT32_TFLITE).read_bytes())
    waveform = read_metadata((built / layout.WAVEFORM_FLOAT32_TFLITE).read_bytes())
    for metadata in (patch, waveform):
        assert metadata.labels == bundle.labels
        assert (metadata.name, metadata.version) == (bundle.model_id, card["version"])
        assert (metadata.author, metadata.license) == (card["author"], card["license"])
        assert metadata.output.labels_file == layout.LABELS_TXT
        assert metadata.output.name == layout.OUTPUT_NAME
    assert (patch.input.name, patch.input.content) == (layout.INPUT_NAME, FEATURE_PROPERTIES)
    assert patch.min_parser_version == "1.0.0"
    assert (waveform.input.content, waveform.input.sample_rate, waveform.input.channels) == (
        AUDIO_PROPERTIES,
        params.SAMPLE_RATE,
        1,
    )
    assert waveform.input.name == layout.WAVEFORM_INPUT_NAME
    assert waveform.min_parser_version == "1.3.0"
    assert "0.975 s" in waveform.description


def test_metadata_leaves_the_outputs_unchanged_in_litert(built, model_dir, tmp_path):
    bundle = ModelBundle.load(model_dir)
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(to_float32_tflite(bundle.keras_model))
    assert read_metadata(bare.read_bytes()) is None
    with_metadata = LiteRTRuntime(built / layout.FLOAT32_TFLITE, bundle.labels)
    without = LiteRTRuntime(bare, bundle.labels)
    patches = bundle.parity_patches()
    np.testing.assert_array_equal(
        with_metadata.predict_patches(patches), without.predict_patches(patches)
    )
    assert with_metadata.input["shape"].tolist() == without.input["shape"].tolist()


def test_metadata_is_added_once_and_labels_are_packed_as_a_zip(built):
    data = (built / layout.FLOAT32_TFLITE).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [layout.LABELS_TXT]
        assert archive.getinfo(layout.LABELS_TXT).compress_type == zipfile.ZIP_STORED
    metadata = read_metadata(data)
    with pytest.raises(ValueError, match="already"):
        add_metadata(data, _info_of(metadata))


def _info_of(metadata):
    from edge_ser.export.tflite_metadata import MetadataInfo

    return MetadataInfo(
        name=metadata.name,
        description=metadata.description,
        version=metadata.version,
        author=metadata.author,
        license=metadata.license,
        labels=metadata.labels,
        labels_file=metadata.output.labels_file,
        input_name=metadata.input.name,
        input_description=metadata.input.description,
    )


def test_unreadable_metadata_is_a_model_error(built):
    data = bytearray((built / layout.FLOAT32_TFLITE).read_bytes())
    zip_start = data.rindex(b"PK\x03\x04")
    data[zip_start:] = b"\0" * (len(data) - zip_start)  # the labels file is gone
    with pytest.raises(ModelError, match="unreadable TFLite metadata"):
        read_metadata(bytes(data), "broken.tflite")


def test_mediapipe_audio_classifier_runs_the_waveform_model(built, model_dir):
    if not available():
        pytest.skip("mediapipe is not installed (pip install -e '.[mediapipe]')")
    labels = ModelBundle.load(model_dir).labels
    path = built / layout.WAVEFORM_FLOAT32_TFLITE
    mediapipe = MediaPipeAudioRuntime(path, labels)
    litert = LiteRTRuntime(path, labels)
    waveform = voice(round(2.5 * params.SAMPLE_RATE), seed=3).astype(np.float32)
    windows = waveform_windows(waveform)
    np.testing.assert_array_equal(
        mediapipe.predict_patches(windows), litert.predict_patches(windows)
    )
    # On a clip, MediaPipe cuts non-overlapping windows and zero-pads the last one.
    scores = mediapipe.classify_clip(waveform)
    assert len(scores) == 3  # 40000 samples: two full windows and 8800 samples
    padded = np.zeros(3 * params.MIN_SAMPLES, np.float32)
    padded[: len(waveform)] = waveform
    np.testing.assert_array_equal(
        scores, litert.predict_patches(padded.reshape(3, params.MIN_SAMPLES))
    )
    mediapipe.close()
