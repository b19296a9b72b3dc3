"""``manifest.json``: reading it and checking an export directory against it.

The manifest holds everything an app or CI needs to use and check the exported files.
Fields: format and edge-ser version, model id, label order (and, for an export of a label
set, the source model's labels and which were merged: ``label_set``), clip aggregation rule,
every preprocessing constant from ``reference_preprocess.params``, the model input, and per
artifact its kind, precision, input/output tensors (with int8 scale and zero point), size
and SHA-256, plus the parity measured at export. ``manifest.schema.json`` (JSON Schema
2020-12, shipped beside this module) describes it for apps and CI tools.

An export directory is untrusted input. ``read_manifest`` validates the manifest against
the schema before any value is used; artifact names are only the file names edge-ser
writes, so no path leads out of the directory. ``check_artifacts`` then proves every
contract field against its source of truth (this edge-ser's constants, the files, their
checksums and ``labels.txt``); ``check_fields`` proves an artifact's tensors against the
model file's own. Informational fields (``edge_ser_version``, ``parity``, descriptions,
``source_model``) may differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from edge_ser.aggregate import AGGREGATION_RULE
from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FILENAME_FORMATS
from edge_ser.errors import EdgeSerError
from edge_ser.labels import LabelSet, LabelSetError
from edge_ser.reference_preprocess import params

# 2: the silence rule's constants (preprocessing.speech_edge_frames, speech_frame_drop_db).
FORMAT_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
MAX_MANIFEST_BYTES = 1 << 20  # an export's manifest is about 8 KiB
MODEL_SUFFIXES = (".tflite", ".mlpackage", ".mlmodel")
# The longest part of a value quoted in an error message.
_QUOTE_CHARS = 60


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


def contract_fields() -> dict:
    """The manifest fields that are the same in every export of this edge-ser."""
    return {
        "format_version": FORMAT_VERSION,
        "aggregation": AGGREGATION_RULE,
        "preprocessing": preprocessing_constants(),
        "input": {
            "name": layout.INPUT_NAME,
            "shape": list(layout.INPUT_SHAPE),
            "layout": "NHWC: batch, frames (10 ms each), mel bands (low to high), channel",
            "dtype": "float32 raw log-mel (int8 models: quantize with the artifact's input scale)",
            "normalization": "none in the app: the model removes the mean and scales inside",
        },
        "quantization_rule": layout.QUANTIZATION_RULE,
    }


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


def input_quantization(entry: dict) -> tuple[float, int] | None:
    """``(scale, zero_point)`` of an artifact entry's int8 input, ``None`` for float input."""
    tensor = entry.get("input", {})
    return (tensor["scale"], tensor["zero_point"]) if "scale" in tensor else None


@cache
def _validator():
    # Imported here: jsonschema takes about 80 ms to import, which opening a model without
    # a manifest (and `edge-ser --help`) need not pay.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def quote_value(value: object) -> str:
    """A short one-line rendering of a JSON value for an error message."""
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3] + "..."


def _same(a: object, b: object) -> bool:
    """Equal as JSON: ``1``, ``1.0`` and ``true`` differ, as they do for an app's parser."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def validate_manifest(manifest: object, where: str = "manifest") -> dict:
    """Raise ``ArtifactError`` unless ``manifest`` follows ``manifest.schema.json``.

    A manifest of another format version is refused first, by its version, since its other
    fields need not mean what this schema says.
    """
    from jsonschema.exceptions import best_match  # imported with the validator

    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if type(version) is int and version != FORMAT_VERSION:
        raise ArtifactError(
            f"'{where}' is manifest format {quote_value(version)}, but this edge-ser reads "
            f"format {FORMAT_VERSION}: export the model again with this edge-ser"
        )
    error = best_match(_validator().iter_errors(manifest))
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        if error.validator in ("required", "additionalProperties", "propertyNames", "enum"):
            detail = error.message.splitlines()[0]
        else:
            detail = f"{quote_value(error.instance)} fails '{error.validator}'"
        if len(detail) > 2 * _QUOTE_CHARS:
            detail = detail[: 2 * _QUOTE_CHARS - 3] + "..."
        raise ArtifactError(f"'{where}' does not follow the manifest schema at {field}: {detail}")
    return manifest  # type: ignore[return-value]


def read_manifest(directory: Path) -> dict:
    """The manifest of an export directory, validated against the schema."""
    directory = Path(directory)
    if not directory.exists():
        raise ArtifactError(f"'{directory}' does not exist")
    if not directory.is_dir():
        raise ArtifactError(f"'{directory}' is not a directory")
    path = directory / layout.MANIFEST_JSON
    if path.is_symlink():
        raise ArtifactError(f"'{path}' is a symbolic link: an export holds only its own files")
    if not path.is_file():
        raise ArtifactError(f"'{directory}' has no {layout.MANIFEST_JSON}: not an export directory")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"'{path}' is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if isinstance(exc, ValueError) else "nested too deeply"
        raise ArtifactError(f"'{path}' is not valid JSON: {reason}") from None
    return validate_manifest(manifest, str(path))


def _refuse_links(directory: Path) -> None:
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            if os.path.islink(os.path.join(root, name)):
                link = Path(root, name).relative_to(directory)
                raise ArtifactError(
                    f"'{link}' in '{directory}' is a symbolic link: an export holds only its "
                    "own files"
                )


def _first_difference(key: str, found: object, expected: object) -> tuple[str, object, object]:
    """The innermost field where ``found`` differs from ``expected`` (a field of a dict)."""
    if isinstance(found, dict) and isinstance(expected, dict):
        for name in [*expected, *(k for k in found if k not in expected)]:
            if not _same(found.get(name), expected.get(name)):
                return _first_difference(f"{key}/{name}", found.get(name), expected.get(name))
    return key, found, expected


def _check_contract(manifest: dict) -> None:
    for key, expected in contract_fields().items():
        if not _same(manifest[key], expected):
            field, found, wanted = _first_difference(key, manifest[key], expected)
            raise ArtifactError(
                f"manifest field '{field}' is {quote_value(found)}, but this edge-ser's is "
                f"{quote_value(wanted)}"
            )
    for name, entry in manifest["artifacts"].items():
        fmt = FILENAME_FORMATS[name]
        for key, expected in (
            ("format", fmt.name),
            ("precision", fmt.precision),
            ("runtime", fmt.runtime),
        ):
            if not _same(entry[key], expected):
                raise ArtifactError(
                    f"artifact '{name}' has {key} {quote_value(entry[key])}; "
                    f"a {name} is {expected!r}"
                )


def manifest_label_set(manifest: dict) -> LabelSet:
    """The label set of a (schema-valid) manifest: its ``label_set`` and ``labels``."""
    try:
        return LabelSet.from_manifest(manifest)
    except LabelSetError as exc:
        raise ArtifactError(f"the manifest's label_set does not fit its labels: {exc}") from None


def _check_label_set(manifest: dict) -> None:
    """The label set is consistent and every TFLite entry outputs one value per label."""
    labels = manifest_label_set(manifest).labels
    for name, entry in manifest["artifacts"].items():
        shape = entry["output"].get("shape") if FILENAME_FORMATS[name].runtime == "litert" else None
        if shape is not None and shape[-1] != len(labels):
            raise ArtifactError(
                f"artifact '{name}' outputs {shape[-1]} values in the manifest, but it has "
                f"{len(labels)} labels"
            )


def check_artifacts(directory: Path, manifest: dict) -> None:
    """Raise ``ArtifactError`` unless ``directory`` is exactly what ``manifest`` describes.

    Checks, before any model is opened: no symbolic links; the contract fields equal this
    edge-ser's (``contract_fields``) and each entry's format, precision and runtime its file
    name's; every listed artifact is present with its checksum; no model file is present
    that the manifest does not list; ``labels.txt`` holds the manifest's label order; the
    ``label_set`` (if any) fits the labels and each TFLite entry outputs one value per label.
    """
    directory = Path(directory)
    _refuse_links(directory)
    _check_contract(manifest)
    _check_label_set(manifest)
    for name, entry in manifest["artifacts"].items():
        path = directory / name
        if not path.exists():
            raise ArtifactError(f"artifact '{name}' listed in the manifest is missing")
        sha, size = digest(path)
        if sha != entry["sha256"] or size != entry["size_bytes"]:
            raise ArtifactError(
                f"artifact '{name}' does not match its manifest checksum "
                f"(size {size} vs {entry['size_bytes']}): modified or truncated"
            )
    for path in sorted(directory.iterdir()):
        listed = path.name in manifest["artifacts"]
        if not listed and (path.suffix.lower() in MODEL_SUFFIXES or path.name in FILENAME_FORMATS):
            raise ArtifactError(f"'{path.name}' is a model file that the manifest does not list")
    labels_path = directory / layout.LABELS_TXT
    if not labels_path.is_file():
        raise ArtifactError(f"'{directory}' has no {layout.LABELS_TXT}")
    if labels_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"'{labels_path}' is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        labels = labels_path.read_text().split()
    except UnicodeDecodeError:
        raise ArtifactError(f"'{labels_path}' is not UTF-8 text") from None
    if labels != list(manifest["labels"]):
        raise ArtifactError(
            f"{layout.LABELS_TXT} ({quote_value(labels)}) does not match the manifest's "
            f"label order ({quote_value(manifest['labels'])})"
        )


def check_fields(name: str, entry: dict, fields: dict) -> None:
    """Raise ``ArtifactError`` unless each of ``fields`` (what the model file itself says:
    its tensors' names, types, shapes, int8 scales and zero points) equals the entry's."""
    for key, actual in fields.items():
        if not _same(entry.get(key), actual):
            raise ArtifactError(
                f"artifact '{name}': the manifest's {key} {quote_value(entry.get(key))} differs "
                f"from the model file's {quote_value(actual)}"
            )
