"""``edge-ser export``: every artifact, labels, manifest and golden vectors, written atomically.

Artifacts are built into a temporary directory beside ``out``; golden probabilities are
recorded by running each artifact in its runtime (on the golden signals' patches, or on
their windows for waveform-in artifacts); parity against the Keras model is measured by
``verify`` and stored in the manifest. Only when every artifact passes is the directory
moved into place (an earlier export in ``out`` is replaced only with ``force``; other files
there are kept; see ``edge_ser.atomic``), so a failed export never leaves a partial or
clobbered directory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge_ser import __version__
from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import DEFAULT_FORMATS, FORMATS, WAVEFORM_FORMATS
from edge_ser.artifacts.manifest import (
    contract_fields,
    digest,
    input_quantization,
    preprocessing_constants,
)
from edge_ser.atomic import atomic_directory
from edge_ser.bundle import ModelBundle
from edge_ser.errors import CheckFailed, EdgeSerError
from edge_ser.export.artifacts import BUILDERS, ExportContext
from edge_ser.export.golden import golden_probabilities, write_golden
from edge_ser.export.verify import format_report, verify
from edge_ser.labels import LabelSet
from edge_ser.model import with_label_set
from edge_ser.reports import data_license_text
from edge_ser.runtimes.open_model import open_model


def coreml_metadata(bundle: ModelBundle, labels: tuple[str, ...] | None = None) -> dict:
    """String metadata stored in Core ML models (version, license, preprocessing constants);
    ``labels``: those the models output (default: the model's)."""
    return {
        "author": "edge-ser",
        "version": __version__,
        "model_id": bundle.model_id,
        "license": data_license_text(bundle.info),
        "short_description": "Speech emotion from one 0.96 s log-mel patch: "
        + ", ".join(labels or bundle.labels),
        "preprocessing": {k: str(v) for k, v in preprocessing_constants().items()},
    }


def build_manifest(
    bundle: ModelBundle,
    artifacts: dict,
    parity: dict,
    source: Path | None = None,
    label_set: LabelSet | None = None,
) -> dict:
    """Assemble the manifest (``artifacts`` maps file name to its description); ``source``
    is the model directory exported (``None``: the bundled model); ``label_set`` what the
    models output (``None``: the model's labels)."""
    contract = contract_fields()
    label_set = label_set or LabelSet.full(bundle.labels)
    label_fields = {} if label_set.is_identity else {"label_set": label_set.to_manifest()}
    return {
        "format_version": contract["format_version"],
        "edge_ser_version": __version__,
        "model_id": bundle.model_id,
        "source_model": {"path": None if source is None else str(bundle.directory.resolve())},
        "labels": list(label_set.labels),
        **label_fields,
        "aggregation": contract["aggregation"],
        "preprocessing": contract["preprocessing"],
        "input": contract["input"],
        "quantization_rule": contract["quantization_rule"],
        "artifacts": artifacts,
        "parity": parity,
    }


def build_artifact(context: ExportContext, name: str, directory: Path) -> dict:
    """Write the artifact of format ``name`` into ``directory``; return its manifest entry."""
    fmt = FORMATS[name]
    fields = BUILDERS[name](context, directory / fmt.filename)
    sha, size = digest(directory / fmt.filename)
    return {
        "format": fmt.name,
        "precision": fmt.precision,
        "runtime": fmt.runtime,
        "description": fmt.description,
        "sha256": sha,
        "size_bytes": size,
        **fields,
    }


def write_manifest(directory: Path, manifest: dict) -> None:
    (directory / layout.MANIFEST_JSON).write_text(json.dumps(manifest, indent=2) + "\n")


def _record_golden(directory: Path, entries: dict) -> None:
    probabilities: dict[str, dict[str, np.ndarray]] = {}
    for filename, entry in entries.items():
        runtime = next(iter(open_model(directory / filename).runtimes.values()))
        probabilities[entry["format"]] = golden_probabilities(
            runtime, FORMATS[entry["format"]].input
        )
    quant = input_quantization(entries.get(layout.INT8_TFLITE, {}))
    write_golden(directory / layout.GOLDEN_DIR, probabilities, quant)


def export(
    model: Path | None = None,
    out: Path = Path("dist"),
    formats: Sequence[str] = DEFAULT_FORMATS,
    force: bool = False,
    log: Callable[[str], None] = print,
    waveform: bool = False,
    label_set: LabelSet | None = None,
    record_source: bool = True,
) -> dict:
    """Export ``model`` (default: bundled) into ``out``; return the manifest.

    ``record_source=False`` leaves the model directory's absolute path out of the manifest
    (``verify`` then needs its ``--model``).
    ``waveform`` adds the waveform-in formats (``WAVEFORM_FORMATS``) to ``formats``.
    ``label_set`` (of the model's labels) makes every model output its labels instead
    (``edge_ser.model.with_label_set``).
    """
    formats = list(formats) + list(WAVEFORM_FORMATS if waveform else ())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise EdgeSerError(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    bundle = ModelBundle.load(model)
    label_set = label_set or LabelSet.full(bundle.labels)
    if label_set.source != bundle.labels:
        raise EdgeSerError(
            f"the label set is made of the labels {', '.join(label_set.source)}, but the "
            f"model's are {', '.join(bundle.labels)}"
        )
    context = ExportContext(
        with_label_set(bundle.keras_model, label_set),
        label_set.labels,
        bundle.calibration_patches(),
        coreml_metadata(bundle, label_set.labels),
    )
    with atomic_directory(Path(out), layout.OUTPUT, force) as tmp:
        entries: dict[str, dict] = {}
        for name in dict.fromkeys(formats):
            fmt = FORMATS[name]
            log(f"building {fmt.filename} ({fmt.description})")
            entries[fmt.filename] = build_artifact(context, name, tmp)
        (tmp / layout.LABELS_TXT).write_text("\n".join(label_set.labels) + "\n")
        _record_golden(tmp, entries)
        source = model if record_source else None
        manifest = build_manifest(bundle, entries, parity={}, source=source, label_set=label_set)
        write_manifest(tmp, manifest)
        log("measuring parity against the Keras model")
        report = verify(tmp, model=model)
        manifest["parity"] = {
            "inputs": report["inputs"],
            "passed": report["passed"],
            "artifacts": {
                key: {k: a[k] for k in ("input", "patches", "golden_max_abs_diff", "passed")}
                for key, a in report["artifacts"].items()
            },
        }
        write_manifest(tmp, manifest)
        if not report["passed"]:
            raise CheckFailed(
                "exported artifacts do not match the Keras model; nothing written",
                report=format_report(report),
            )
    return manifest
