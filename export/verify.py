"""``edge-ser verify``: prove that every exported artifact computes what the Keras model computes.

The same inputs go through the source Keras model and through every artifact in its own
runtime: the golden signals' patches, the held-out-speaker patches shipped with the model
and, when a data directory is given, every patch of its clips. Checks, in order:

1. the directory is a complete, untampered export (manifest checksums, ``labels.txt``,
   label order and model id equal to the source model's): otherwise ``ArtifactError`` (exit 2);
2. per artifact and runtime: patch and clip top-1 agreement, max and mean absolute
   probability difference, clip accuracy/UAR when labels are known, and reproduction of the
   probabilities recorded in ``golden/`` at export; judged by ``parity.DEFAULT_THRESHOLDS``.

The report is a stable JSON object (``REPORT_VERSION``); ``passed`` is false when any
artifact fails (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_ser import corpora
from edge_ser.bundle import ModelBundle
from edge_ser.evaluate import predict_clips
from edge_ser.export import layout, parity
from edge_ser.export.artifacts import FILENAME_FORMATS, open_runtimes
from edge_ser.export.golden import golden_inputs, read_expected
from edge_ser.export.manifest import ArtifactError, check_artifacts, read_manifest
from edge_ser.features import FeatureCache

REPORT_VERSION = 1


def _labelled_clips(data_dir: Path, corpus: str, labels: tuple[str, ...], progress: bool):
    """Log-mels and label indices of the clips in ``data_dir`` whose label the model knows."""
    scan = corpora.discover(Path(data_dir), corpus)
    known = [clip for clip in scan.clips if clip.label in labels]
    features = FeatureCache().load_many([clip.path for clip in known], progress=progress)
    targets = [labels.index(known[i].label) for i in features.kept]
    return features.log_mels, targets


def check_source(manifest: dict, bundle: ModelBundle) -> None:
    """The export must come from ``bundle``: same label order and model id."""
    if tuple(manifest["labels"]) != bundle.labels:
        raise ArtifactError(
            f"label order in the manifest ({', '.join(manifest['labels'])}) differs from the "
            f"model's ({', '.join(bundle.labels)})"
        )
    if manifest["model_id"] != bundle.model_id:
        raise ArtifactError(
            f"the artifacts were exported from model '{manifest['model_id']}', not "
            f"'{bundle.model_id}': pass the source model with --model"
        )


def verify(
    dist: Path,
    model: Path | None = None,
    data_dir: Path | None = None,
    corpus: str = "auto",
    thresholds: dict | None = None,
    progress: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Run every artifact of ``dist`` against the source Keras model; return the report."""
    dist = Path(dist)
    thresholds = thresholds or parity.DEFAULT_THRESHOLDS
    manifest = read_manifest(dist)
    check_artifacts(dist, manifest)
    bundle = ModelBundle.load(model)
    check_source(manifest, bundle)
    labels = bundle.labels
    keras = bundle.runtime()

    golden = golden_inputs()
    held_out = bundle.parity_patches()
    patches = np.concatenate([g[2] for g in golden.values()] + [held_out])
    keras_patch_probs = keras.predict_patches(patches)
    clip_inputs = None
    if data_dir is not None:
        log_mels, targets = _labelled_clips(data_dir, corpus, labels, progress)
        clip_inputs = (log_mels, targets, predict_clips(keras, log_mels))
    golden_dir = dist / layout.GOLDEN_DIR

    artifacts: dict[str, dict] = {}
    for name, entry in manifest["artifacts"].items():
        fmt = FILENAME_FORMATS.get(name)
        if fmt is None:
            raise ArtifactError(f"artifact '{name}' is of no format edge-ser knows")
        for runtime_name, runtime in open_runtimes(dist / name, entry, labels).items():
            log(f"checking {name} in {runtime_name}")
            probs = runtime.predict_patches(patches)
            patch_stats = parity.compare(keras_patch_probs, probs)
            golden_diff = 0.0
            offset = 0
            for signal, (_, _, signal_patches) in golden.items():
                got = probs[offset : offset + len(signal_patches)]
                offset += len(signal_patches)
                expected = read_expected(golden_dir, fmt.name, signal, len(labels))
                if expected is None or expected.shape != got.shape:
                    raise ArtifactError(f"golden probabilities of '{name}' for '{signal}' missing")
                golden_diff = max(golden_diff, float(np.abs(expected - got).max()))
            clip_stats = None
            if clip_inputs is not None:
                log_mels, targets, keras_clip_probs = clip_inputs
                clip_probs = predict_clips(runtime, log_mels)
                clip_stats = parity.clip_comparison(keras_clip_probs, clip_probs, targets, labels)
            reasons = parity.failures(fmt.precision, patch_stats, clip_stats, thresholds)
            if golden_diff > parity.GOLDEN_REPRODUCTION:
                reasons.append(
                    f"golden probabilities differ from those recorded at export by "
                    f"{golden_diff:.2e} > {parity.GOLDEN_REPRODUCTION:.0e}"
                )
            artifacts[f"{name} [{runtime_name}]"] = {
                "artifact": name,
                "runtime": runtime_name,
                "precision": fmt.precision,
                "passed": not reasons,
                "failures": reasons,
                "patches": patch_stats,
                "clips": clip_stats,
                "golden_max_abs_diff": golden_diff,
            }
    return {
        "report_version": REPORT_VERSION,
        "dist": str(dist),
        "model_id": manifest["model_id"],
        "labels": list(labels),
        "inputs": {
            "golden_patches": int(len(patches) - len(held_out)),
            "held_out_patches": int(len(held_out)),
            "data_dir": str(data_dir) if data_dir else None,
            "data_clips": len(clip_inputs[0]) if clip_inputs else 0,
        },
        "thresholds": thresholds,
        "passed": all(a["passed"] for a in artifacts.values()),
        "artifacts": artifacts,
    }


def format_report(report: dict) -> str:
    """The verify report as a fixed-width table."""
    lines = [
        f"{'artifact [runtime]':<40} {'patch top1':>10} {'max|dp|':>9} {'mean|dp|':>9} "
        f"{'clip top1':>9} {'clip acc':>9} {'UAR':>6}  result"
    ]
    for key, a in report["artifacts"].items():
        p, c = a["patches"], a["clips"] or {}
        clip_cols = (
            f"{c['top1_agreement']:>9.3f} {c['accuracy']:>9.3f} {c['uar']:>6.3f}"
            if c
            else f"{'-':>9} {'-':>9} {'-':>6}"
        )
        lines.append(
            f"{key:<40} {p['top1_agreement']:>10.3f} {p['max_abs_diff']:>9.2e} "
            f"{p['mean_abs_diff']:>9.2e} {clip_cols}  {'ok' if a['passed'] else 'FAIL'}"
        )
        lines.extend(f"    {reason}" for reason in a["failures"])
    inputs = report["inputs"]
    lines.append(
        f"\n{inputs['golden_patches']} golden + {inputs['held_out_patches']} held-out patches"
        + (
            f", {inputs['data_clips']} clips from {inputs['data_dir']}"
            if inputs["data_clips"]
            else ""
        )
        + f": {'PASSED' if report['passed'] else 'FAILED'}"
    )
    return "\n".join(lines)
