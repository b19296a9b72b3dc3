"""Open any model path into the runtimes that run it: the one place a model file is opened.

``Recognizer.load``, ``verify``, ``bench``, ``evaluate`` and the exporter all open models here.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, replace
from pathlib import Path

from edge_ser.artifacts import layout
from edge_ser.artifacts.manifest import (
    ArtifactError,
    check_artifacts,
    input_quantization,
    read_manifest,
)
from edge_ser.artifacts.tflite_metadata import read_metadata
from edge_ser.bundle import BUNDLED_DIR, ModelBundle
from edge_ser.errors import ModelError
from edge_ser.runtimes.base import Runtime
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime
from edge_ser.runtimes.coreml_runtime import CoreMLRuntime
from edge_ser.runtimes.litert_runtime import LiteRTRuntime

COREML_SUFFIXES = (".mlpackage", ".mlmodel")


@dataclass(frozen=True)
class OpenedModel:
    """A model opened for prediction.

    Attributes
    ----------
    runtimes:
        Every runtime that executes the model, by name (``keras``, ``litert``,
        ``coreml-numpy`` and, on macOS, ``coreml-macos``), in the order ``verify`` reports them.
    runtime:
        The one to predict with (Core ML itself where it runs, else the first).
    path:
        The model file or directory opened (an export directory opens its int8 TFLite);
        ``None`` for the bundled model.
    source:
        What was opened, for display (``"LiteRT dist/emotion_int8.tflite"``).
    bundle:
        The model directory of a Keras model, else ``None``.
    """

    runtimes: dict[str, Runtime]
    runtime: Runtime
    path: Path | None
    source: str
    bundle: ModelBundle | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.runtime.labels)


def open_model(
    path: str | os.PathLike[str] | None = None, num_threads: int | None = None
) -> OpenedModel:
    """Open a model path.

    Parameters
    ----------
    path:
        ``None``: the bundled Keras model; a model directory or its ``.keras`` file: Keras;
        a ``.tflite`` file: LiteRT, with labels from its TFLite Model Metadata (else from
        ``labels.txt`` beside it) and the int8 input quantization from ``manifest.json``
        beside it when present (as an app reads it), else the model's own; an export
        directory (with ``manifest.json``): its ``emotion_int8.tflite``; a ``.mlpackage`` /
        ``.mlmodel``: edge-ser's NumPy evaluator, and Core ML on macOS.
    num_threads:
        LiteRT interpreter threads (``None``: LiteRT's default); other runtimes ignore it.

    Raises
    ------
    ModelError
        The path is missing, of no known kind, or its model cannot be loaded.
    """
    if path is None:
        return _keras(ModelBundle.load(None), "bundled Keras model", None)
    path = Path(path)
    if not path.exists():
        raise ModelError(f"model not found: '{path}'")
    if path.is_dir() and (path / layout.MANIFEST_JSON).is_file():
        path = path / layout.INT8_TFLITE
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        return _litert(path, num_threads)
    if suffix in COREML_SUFFIXES:
        return _coreml(path)
    bundle = ModelBundle.load(path)
    return _keras(bundle, f"Keras {bundle.keras_path}", path)


def open_bundled_int8(num_threads: int | None = None) -> OpenedModel:
    """The bundled model's int8 TFLite, the fast default of ``predict`` and ``Recognizer``.

    ``python -m edge_ser.promote`` installs it from an export of the bundled model; its
    checksum, label order and model id are checked against the manifest installed with it
    before it is opened.

    Raises
    ------
    ModelError
        The int8 model is missing, modified, or of another model than the bundled one.
    """
    bundle = ModelBundle.load(None)
    try:
        manifest = read_manifest(BUNDLED_DIR)
        check_artifacts(BUNDLED_DIR, manifest)
    except ArtifactError as exc:
        raise ModelError(f"the bundled int8 model cannot be used: {exc}") from None
    if manifest["model_id"] != bundle.model_id or layout.INT8_TFLITE not in manifest["artifacts"]:
        raise ModelError(
            f"the bundled int8 model is not an export of the bundled model {bundle.model_id}"
        )
    opened = _litert(BUNDLED_DIR / layout.INT8_TFLITE, num_threads)
    return replace(opened, source=f"bundled model {bundle.model_id}, int8 TFLite")


def _keras(bundle: ModelBundle, source: str, path: Path | None) -> OpenedModel:
    runtime = bundle.runtime()
    return OpenedModel({"keras": runtime}, runtime, path, source, bundle)


def _litert(path: Path, num_threads: int | None) -> OpenedModel:
    metadata = read_metadata(path.read_bytes(), str(path)) if path.is_file() else None
    labels_path = path.parent / layout.LABELS_TXT
    if metadata is not None and metadata.labels:
        labels = metadata.labels
    else:
        labels = tuple(labels_path.read_text().split()) if labels_path.is_file() else ()
    if not labels:
        raise ModelError(
            f"'{path}' carries no labels in its metadata and has no {layout.LABELS_TXT} beside it"
        )
    quantization = None
    if (path.parent / layout.MANIFEST_JSON).is_file():
        manifest = read_manifest(path.parent)
        if path.name in manifest["artifacts"] and tuple(manifest["labels"]) != labels:
            raise ModelError(
                f"'{path}' outputs the labels {', '.join(labels)}, but the manifest beside it "
                f"says {', '.join(manifest['labels'])}"
            )
        quantization = input_quantization(manifest["artifacts"].get(path.name, {}))
    runtime = LiteRTRuntime(path, labels, num_threads=num_threads, input_quantization=quantization)
    return OpenedModel({"litert": runtime}, runtime, path, f"LiteRT {path}")


def _coreml(path: Path) -> OpenedModel:
    runtimes: dict[str, Runtime] = {"coreml-numpy": CoreMLNumpyRuntime(path)}
    if platform.system() == "Darwin":
        runtimes["coreml-macos"] = CoreMLRuntime(path)
    preferred = runtimes.get("coreml-macos") or runtimes["coreml-numpy"]
    return OpenedModel(runtimes, preferred, path, f"Core ML {path}")
