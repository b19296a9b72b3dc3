"""``edge-ser verify``: prove that every exported artifact computes what the Keras model computes.

The same inputs go through the source Keras model and through every artifact in its own
runtime. Artifacts that take a log-mel patch get the golden signals' patches, the held-out
speaker patches shipped with the model and, when a data directory is given, every patch of
its clips. Waveform-in artifacts get waveform windows instead: the golden signals' windows,
windows synthesized from the held-out patches (``windows.synthesize_windows``) and every
window of the data clips; their reference is the Keras model on the reference log-mel
(``reference_preprocess``) of exactly those windows, so the frontend inside the artifact is
checked end to end against the NumPy spec. Checks, in order:

1. the directory is exactly the export its manifest describes, before any model is opened
   (``edge_ser.artifacts.manifest``): the manifest follows its JSON Schema, names only the
   files edge-ser writes, and its contract fields equal this edge-ser's (preprocessing
   constants, input, aggregation rule, quantization rule, format version); checksums,
   ``labels.txt``, no unlisted model file, no symbolic link; otherwise ``ArtifactError``
   (exit 2);
2. the source model (``--model``, else the one recorded at export if it is still there,
   else the bundled model) has the manifest's label order (for an export of a label set,
   its ``source_labels``) and model id (exit 2); the Keras probabilities are then reduced
   to the label set (``LabelSet.reduce``) before every comparison;
3. every model file's own tensors (names, types, shapes, int8 scales and zero points; for
   Core ML also outputs, deployment target and model type) and labels are the manifest's,
   and every ``.tflite`` carries TFLite Model Metadata with the manifest's labels and, for
   waveform-in files, a 16 kHz mono audio input (exit 2);
4. per artifact and runtime: patch (or window) and clip top-1 agreement, max and mean
   absolute probability difference, clip accuracy/UAR when labels are known, and
   reproduction of the probabilities recorded in ``golden/`` at export; judged by
   ``parity.DEFAULT_THRESHOLDS`` for the artifact's precision, whatever its input. When the
   optional ``mediapipe`` package is installed, waveform-in TFLite files also run in
   MediaPipe's ``AudioClassifier`` (``runtimes.mediapipe_runtime``), which must match LiteRT on
   the same windows within ``parity.SAME_MODEL_RUNTIMES``.

The report is a stable JSON object (``REPORT_VERSION``); ``passed`` is false when any
artifact fails (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ser import audio, corpora
from edge_ser.aggregate import clip_probabilities
from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FILENAME_FORMATS, PATCH_INPUT, WAVEFORM_INPUT, ArtifactFormat
from edge_ser.artifacts.manifest import (
    ArtifactError,
    check_artifacts,
    check_fields,
    manifest_label_set,
    quote_value,
    read_manifest,
)
from edge_ser.artifacts.tflite_metadata import AUDIO_PROPERTIES, read_metadata
from edge_ser.bundle import ModelBundle
from edge_ser.errors import ModelError
from edge_ser.evaluate import predict_clips
from edge_ser.export import parity
from edge_ser.export.golden import (
    golden_inputs,
    golden_probabilities,
    read_expected,
    signal_inputs,
)
from edge_ser.features import FeatureCache
from edge_ser.labels import LabelSet
from edge_ser.recognizer import input_levels
from edge_ser.reference_preprocess import params, silent_windows, waveform_to_log_mel
from edge_ser.runtimes import mediapipe_runtime
from edge_ser.runtimes.open_model import open_model
from edge_ser.windows import synthesize_windows, waveform_windows

REPORT_VERSION = 1


@dataclass(frozen=True)
class _Inputs:
    """The inputs of one kind (patches or windows): golden signals' rows, then held-out rows."""

    x: np.ndarray
    keras: np.ndarray  # (n, labels) Keras probabilities of the reference patches of x
    golden: int  # rows from the golden signals
    held_out: int


@dataclass(frozen=True)
class _Clips:
    """Labelled clips of a data directory with the Keras clip probabilities."""

    paths: list[Path]
    log_mels: list[np.ndarray]
    targets: list[int]
    keras: np.ndarray


def _labelled_clips(data_dir: Path, corpus: str, label_set: LabelSet, progress: bool):
    """Paths, log-mels and output label indices of the clips in ``data_dir`` whose label
    the label set keeps or merges (clips that cannot be read are left out)."""
    scan = corpora.discover(Path(data_dir), corpus)
    known = [clip for clip in scan.clips if label_set.output_label(clip.label) is not None]
    features = FeatureCache().load_many([clip.path for clip in known], progress=progress)
    paths = [Path(known[i].path) for i in features.kept]
    targets = [
        label_set.labels.index(label_set.output_label(known[i].label)) for i in features.kept
    ]
    return paths, features.log_mels, targets


def _model_inputs(input_kind: str, keras, held_out: np.ndarray) -> _Inputs:
    """The golden and held-out inputs of artifacts taking ``input_kind``, with Keras's output."""
    golden = golden_inputs()
    per_signal = [signal_inputs(input_kind, wave, patches) for wave, _, patches in golden.values()]
    # Windows only need to be speech-like here (their reference is recomputed from them),
    # so fewer Griffin-Lim rounds than for calibration do.
    held_out_x = (
        synthesize_windows(held_out, iterations=8) if input_kind == WAVEFORM_INPUT else held_out
    )
    x = np.concatenate([*per_signal, held_out_x])
    reference = _reference_patches(x) if input_kind == WAVEFORM_INPUT else x
    return _Inputs(
        x=x,
        keras=keras.predict_patches(reference),
        golden=sum(len(rows) for rows in per_signal),
        held_out=len(held_out_x),
    )


def _reference_patches(windows: np.ndarray) -> np.ndarray:
    """``(n, 96, 64, 1)`` reference log-mel patches of ``(n, 15600)`` windows."""
    return np.stack([waveform_to_log_mel(w) for w in windows])[..., np.newaxis]


def _clip_window_probabilities(runtime, paths: Iterable[Path]) -> np.ndarray:
    """Clip probabilities of a waveform-in runtime: every window of each clip, then the mean of
    the windows that are not silence (levels from the windows' reference log-mel)."""
    rows = []
    for path in paths:
        windows = waveform_windows(audio.load(path, target_sr=params.SAMPLE_RATE))
        silent = silent_windows(input_levels(windows))
        rows.append(clip_probabilities(runtime.predict_patches(windows), silent))
    return np.stack(rows) if rows else np.zeros((0, len(runtime.labels)), np.float32)


def check_source(manifest: dict, bundle: ModelBundle) -> LabelSet:
    """The export must come from ``bundle``: same (source) label order and model id. Returns
    the manifest's label set."""
    label_set = manifest_label_set(manifest)
    if label_set.source != bundle.labels:
        field = "label_set/source_labels" if "label_set" in manifest else "labels"
        raise ArtifactError(
            f"label order in the manifest's {field} ({quote_value(list(label_set.source))}) "
            f"differs from the model's ({quote_value(list(bundle.labels))})"
        )
    if manifest["model_id"] != bundle.model_id:
        raise ArtifactError(
            f"the artifacts were exported from model '{manifest['model_id']}', not "
            f"'{bundle.model_id}': pass the source model with --model"
        )
    return label_set


def check_metadata(dist: Path, formats: dict[str, ArtifactFormat], labels: list[str]) -> None:
    """Every TFLite artifact carries TFLite Model Metadata with the manifest's labels, and a
    waveform-in one describes its input as mono audio at the reference sample rate."""
    for name, fmt in formats.items():
        if fmt.runtime != "litert":
            continue
        metadata = read_metadata((dist / name).read_bytes(), name)
        if metadata is None:
            raise ArtifactError(f"artifact '{name}' carries no TFLite metadata")
        if list(metadata.labels) != labels:
            raise ArtifactError(
                f"the labels in the metadata of '{name}' ({', '.join(metadata.labels)}) differ "
                f"from the manifest's ({', '.join(labels)})"
            )
        audio_input = (AUDIO_PROPERTIES, params.SAMPLE_RATE, 1)
        found = (metadata.input.content, metadata.input.sample_rate, metadata.input.channels)
        if fmt.input == WAVEFORM_INPUT and found != audio_input:
            raise ArtifactError(
                f"the metadata of '{name}' does not describe its input as mono audio at "
                f"{params.SAMPLE_RATE} Hz"
            )


def source_bundle(manifest: dict, model: Path | None) -> ModelBundle:
    """The source model: ``model``; else the model directory the manifest recorded, if a
    model of the manifest's id is still there; else the bundled model.

    The recorded path is untrusted: it must be absolute, and only its ``model.json`` is
    read before the model id is found to match.
    """
    if model is not None:
        return ModelBundle.load(model)
    recorded = manifest.get("source_model", {}).get("path")
    if recorded is None:
        return ModelBundle.load(None)
    path = Path(recorded)
    if "\0" in recorded or not path.is_absolute():
        raise ArtifactError(
            f"the manifest's source_model path {quote_value(recorded)} is not absolute"
        )
    try:
        bundle = ModelBundle.load(path)
    except (ModelError, OSError):
        return ModelBundle.load(None)  # not where it was: the bundled model, or --model
    return bundle if bundle.model_id == manifest["model_id"] else ModelBundle.load(None)


def _open_artifacts(dist: Path, manifest: dict, labels: tuple[str, ...]) -> dict[str, dict]:
    """The runtimes of every artifact, by file name, after proving that each model file's
    own tensors and labels are what its manifest entry says; MediaPipe's ``AudioClassifier``
    joins LiteRT on waveform-in TFLite files when ``mediapipe`` is installed."""
    opened = {}
    for name, entry in manifest["artifacts"].items():
        fmt = FILENAME_FORMATS[name]
        runtimes = dict(open_model(dist / name).runtimes)
        first = next(iter(runtimes.values()))
        check_fields(name, entry, first.manifest_fields())
        if tuple(first.labels) != labels:
            raise ArtifactError(
                f"artifact '{name}' has the labels {quote_value(list(first.labels))}, not the "
                f"manifest's {quote_value(list(labels))}"
            )
        if (
            fmt.runtime == "litert"
            and fmt.input == WAVEFORM_INPUT
            and mediapipe_runtime.available()
        ):
            # MediaPipe's AudioClassifier joins LiteRT on waveform-in TFLite files.
            runtimes["mediapipe"] = mediapipe_runtime.MediaPipeAudioRuntime(dist / name, labels)
        opened[name] = runtimes
    return opened


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
    bundle = source_bundle(manifest, model)
    label_set = check_source(manifest, bundle)
    labels = label_set.labels
    formats = {name: FILENAME_FORMATS[name] for name in manifest["artifacts"]}
    check_metadata(dist, formats, manifest["labels"])
    opened = _open_artifacts(dist, manifest, labels)
    keras = bundle.runtime(label_set)  # the Keras probabilities reduced as the artifacts'

    held_out = bundle.parity_patches()
    kinds = [PATCH_INPUT] + (
        [WAVEFORM_INPUT] * any(f.input == WAVEFORM_INPUT for f in formats.values())
    )
    inputs = {kind: _model_inputs(kind, keras, held_out) for kind in kinds}
    clips = None
    if data_dir is not None:
        paths, log_mels, targets = _labelled_clips(data_dir, corpus, label_set, progress)
        clips = _Clips(paths, log_mels, targets, predict_clips(keras, log_mels))
    golden_dir = dist / layout.GOLDEN_DIR

    artifacts: dict[str, dict] = {}
    for name, fmt in formats.items():
        model_inputs = inputs[fmt.input]
        litert_probs = None
        for runtime_name, runtime in opened[name].items():
            log(f"checking {name} in {runtime_name}")
            probs = runtime.predict_patches(model_inputs.x)
            patch_stats = parity.compare(model_inputs.keras, probs)
            litert_diff = None
            if runtime_name == "litert":
                litert_probs = probs
            elif litert_probs is not None:
                litert_diff = float(np.abs(probs - litert_probs).max())
            golden_diff = 0.0
            for signal, got in golden_probabilities(runtime, fmt.input).items():
                expected = read_expected(golden_dir, fmt.name, signal, len(labels))
                if expected is None or expected.shape != got.shape:
                    raise ArtifactError(f"golden probabilities of '{name}' for '{signal}' missing")
                golden_diff = max(golden_diff, float(np.abs(expected - got).max()))
            clip_stats = None
            if clips is not None:
                clip_probs = (
                    _clip_window_probabilities(runtime, clips.paths)
                    if fmt.input == WAVEFORM_INPUT
                    else predict_clips(runtime, clips.log_mels)
                )
                clip_stats = parity.clip_comparison(clips.keras, clip_probs, clips.targets, labels)
            reasons = parity.failures(fmt.precision, patch_stats, clip_stats, thresholds)
            if golden_diff > parity.GOLDEN_REPRODUCTION:
                reasons.append(
                    f"golden probabilities differ from those recorded at export by "
                    f"{golden_diff:.2e} > {parity.GOLDEN_REPRODUCTION:.0e}"
                )
            if litert_diff is not None and litert_diff > parity.SAME_MODEL_RUNTIMES:
                reasons.append(
                    f"differs from LiteRT on the same {len(probs)} inputs by {litert_diff:.2e} "
                    f"> {parity.SAME_MODEL_RUNTIMES:.0e}"
                )
            artifacts[f"{name} [{runtime_name}]"] = {
                "artifact": name,
                "runtime": runtime_name,
                "input": fmt.input,
                "precision": fmt.precision,
                "passed": not reasons,
                "failures": reasons,
                "patches": patch_stats,
                "clips": clip_stats,
                "golden_max_abs_diff": golden_diff,
                "litert_max_abs_diff": litert_diff,
            }
            if isinstance(runtime, mediapipe_runtime.MediaPipeAudioRuntime):
                runtime.close()
    patches, windows = inputs[PATCH_INPUT], inputs.get(WAVEFORM_INPUT)
    return {
        "report_version": REPORT_VERSION,
        "dist": str(dist),
        "model_id": manifest["model_id"],
        "labels": list(labels),
        "label_set": manifest.get("label_set"),  # the source labels and merges, if reduced
        "inputs": {
            "golden_patches": patches.golden,
            "held_out_patches": patches.held_out,
            "golden_windows": windows.golden if windows else 0,
            "held_out_windows": windows.held_out if windows else 0,
            "data_dir": str(data_dir) if data_dir else None,
            "data_clips": len(clips.paths) if clips else 0,
        },
        "thresholds": thresholds,
        "passed": all(a["passed"] for a in artifacts.values()),
        "artifacts": artifacts,
    }


COLUMNS = ("artifact [runtime]", "patch top1", "(all)", "max|dp|", "mean|dp|")
CLIP_COLUMNS = ("clip top1", "clip acc", "UAR")
BOUND_NAMES = {
    "max_abs_diff": "max|dp| <= {:.0e}",
    "top1_agreement": "top1 >= {:.3f}",
    "clip_accuracy_drop": "clip acc drop <= {:.3f}",
}
LEGEND = f"""\
patch top1: share of patches whose top label is the Keras model's, over those where Keras's
  two highest probabilities are at least {parity.DECISIVE_MARGIN} apart; (all): over every patch
max|dp|, mean|dp|: largest and mean absolute difference from Keras's probabilities
bound: what each precision must meet (--tolerance changes it). int8 and 8-bit-weight models
  are held to top-1 agreement, not to |dp|: rounding to 256 levels can move the probabilities
  of a near-tie far apart while the decision stays Keras's, so a large max|dp| is expected"""
CLIP_LEGEND = "clip top1, clip acc, UAR: clip agreement, accuracy and unweighted average recall"


def _bound(bounds: dict[str, float], clips: bool) -> str:
    return ", ".join(
        BOUND_NAMES[name].format(value)
        for name, value in bounds.items()
        if clips or name != "clip_accuracy_drop"
    )


def _table(rows: list[list[str]]) -> list[str]:
    """Rows of cells, each column as wide as its widest cell; text left, numbers right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 or i >= len(row) - 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def format_report(report: dict) -> str:
    """The verify report as a table whose columns fit their cells, then what they mean."""
    with_clips = bool(report["inputs"]["data_clips"])
    rows = [[*COLUMNS, *(CLIP_COLUMNS if with_clips else ()), "bound", "result"]]
    failures = {}
    for key, a in report["artifacts"].items():
        p, c = a["patches"], a["clips"] or {}
        clip_cells = [f"{c[k]:.3f}" for k in ("top1_agreement", "accuracy", "uar") if with_clips]
        rows.append(
            [
                key,
                f"{p['top1_agreement']:.3f}",
                f"{p['top1_agreement_all']:.3f}",
                f"{p['max_abs_diff']:.2e}",
                f"{p['mean_abs_diff']:.2e}",
                *clip_cells,
                _bound(report["thresholds"][a["precision"]], with_clips),
                "ok" if a["passed"] else "FAIL",
            ]
        )
        notes = [f"    {reason}" for reason in a["failures"]]
        if a.get("litert_max_abs_diff") is not None:
            notes.insert(
                0, f"    same {p['n']} inputs as LiteRT: max|dp| {a['litert_max_abs_diff']:.2e}"
            )
        failures[len(rows) - 1] = notes
    lines = []
    for index, line in enumerate(_table(rows)):
        lines.append(line)
        lines.extend(failures.get(index, ()))
    lines += ["", LEGEND, *([CLIP_LEGEND] if with_clips else [])]
    inputs = report["inputs"]
    windows = (
        f", {inputs['golden_windows']} golden + {inputs['held_out_windows']} synthesized "
        "held-out windows"
        if inputs.get("golden_windows")
        else ""
    )
    lines.append(
        f"\n{inputs['golden_patches']} golden + {inputs['held_out_patches']} held-out patches"
        + windows
        + (
            f", {inputs['data_clips']} clips from {inputs['data_dir']}"
            if inputs["data_clips"]
            else ""
        )
        + f": {'PASSED' if report['passed'] else 'FAILED'}"
    )
    return "\n".join(lines)
