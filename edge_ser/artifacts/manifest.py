"""``manifest.json``: reading it and checking an export directory against it.

The manifest holds everything an app or CI needs to use and check the exported files.
Fields: format and edge-ser version, model id, label order, clip aggregation rule, every
preprocessing constant from ``reference_preprocess.params``, the model input, and per
artifact its kind, precision, input/output tensors (with int8 scale and zero point), size
and SHA-256, plus the parity measured at export.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from edge_ser.artifacts import layout
from edge_ser.errors import EdgeSerError
from edge_ser.reference_preprocess import params

FORMAT_VERSION = 1


class ArtifactError(EdgeSerError):
    """An exported directory is incomplete, tampered with or inconsistent."""


def preprocessing_constants() -> dict:
    """Every constant of the reference preprocessor, by lower-case name."""
    names = [n for n in dir(params) if n.isupper() and not n.startswith("_")]
    constants = {n.lower(): getattr(params, n) for n in sorted(names)}
    constants["window"] = "periodic_hann"
    constants["mel_scale"] = "htk"
    constants["spectrum"] = "magnitude"
    constants["pad_policy"] = (
        f"zero-pad waveforms shorter than {params.MIN_SAMPLES} samples at the end; "
        "drop trailing frames that do not fill a patch"
    )
    return constants


def digest(path: Path) -> tuple[str, int]:
    """SHA-256 and byte size of a file, or of a directory (``.mlpackage``) as a whole.

    A directory's digest covers each file's relative path and contents in sorted order.
    """
    sha = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    size = 0
    for file in files:
        if file != path:
            sha.update(file.relative_to(path).as_posix().encode() + b"\0")
        data = file.read_bytes()
        sha.update(data)
        size += len(data)
    return sha.hexdigest(), size


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / layout.MANIFEST_JSON
    if not path.is_file():
        raise ArtifactError(f"'{directory}' has no {layout.MANIFEST_JSON}: not an export directory")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise ArtifactError(f"'{path}' is not valid JSON: {exc}") from exc
    for key in ("labels", "artifacts", "model_id"):
        if key not in manifest:
            raise ArtifactError(f"'{path}' lacks the '{key}' field")
    return manifest


def input_quantization(entry: dict) -> tuple[float, int] | None:
    """``(scale, zero_point)`` of an artifact entry's int8 input, ``None`` for float input."""
    tensor = entry.get("input", {})
    return (tensor["scale"], tensor["zero_point"]) if "scale" in tensor else None


def check_artifacts(directory: Path, manifest: dict) -> None:
    """Raise ``ArtifactError`` if an artifact is missing or its checksum differs, or if
    ``labels.txt`` disagrees with the manifest's label order."""
    directory = Path(directory)
    for name, entry in manifest["artifacts"].items():
        path = directory / name
        if not path.exists():
            raise ArtifactError(f"artifact '{name}' listed in the manifest is missing")
        sha, size = digest(path)
        if sha != entry.get("sha256") or size != entry.get("size_bytes"):
            raise ArtifactError(
                f"artifact '{name}' does not match its manifest checksum "
                f"(size {size} vs {entry.get('size_bytes')}): modified or truncated"
            )
    labels_path = directory / layout.LABELS_TXT
    if not labels_path.is_file():
        raise ArtifactError(f"'{directory}' has no {layout.LABELS_TXT}")
    labels = labels_path.read_text().split()
    if labels != list(manifest["labels"]):
        raise ArtifactError(
            f"{layout.LABELS_TXT} ({', '.join(labels)}) does not match the manifest's label order "
            f"({', '.join(manifest['labels'])})"
        )
