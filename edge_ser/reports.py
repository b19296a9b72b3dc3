"""Training reports: confusion-matrix and learning-curve plots, and the Markdown model card."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_ser.metrics import Scores

DATA_LICENSES = {
    "ravdess": (
        "RAVDESS (Livingstone & Russo 2018, https://doi.org/10.5281/zenodo.1188976) is licensed "
        "CC BY-NC-SA 4.0; this model is derived from it and inherits those terms: "
        "non-commercial use only, share alike, with attribution."
    ),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(scores: Scores, path: Path, title: str) -> None:
    """Row-normalised confusion matrix with counts, saved as PNG."""
    plt = _pyplot()
    counts = scores.confusion
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(scores.labels)), scores.labels, rotation=45, ha="right")
    ax.set_yticks(range(len(scores.labels)), scores.labels)
    for (i, j), value in np.ndenumerate(counts):
        colour = "white" if normalised[i, j] > 0.5 else "black"
        ax.text(j, i, str(value), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: accuracy {scores.accuracy:.3f}, UAR {scores.uar:.3f}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def count(n: int, noun: str) -> str:
    """``"1 speaker"``, ``"2 speakers"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def plot_history(history: dict, path: Path) -> None:
    """Training loss and accuracy with validation clip accuracy and UAR per epoch."""
    fig = history_figure(history)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def history_figure(history: dict):
    """The matplotlib figure of ``plot_history``."""
    plt = _pyplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    dots = {"marker": "o", "markersize": 3}  # a run of one epoch still shows its points
    left.plot(epochs, history["loss"], label="training loss", **dots)
    left.set_xlabel("epoch")
    left.legend()
    right.plot(epochs, history["accuracy"], label="training patch accuracy", **dots)
    if history["val_uar"]:
        right.plot(epochs, history["val_accuracy"], label="validation clip accuracy", **dots)
        right.plot(epochs, history["val_uar"], label="validation clip UAR", **dots)
    first, last = history["kept_epochs"]
    if first == last:
        right.axvline(last, color="grey", linestyle=":", label="kept epoch")
    else:
        right.axvspan(first, last, color="grey", alpha=0.15, label="averaged epochs")
    right.set_xlabel("epoch")
    right.set_ylim(0, 1)
    right.legend()
    fig.tight_layout()
    return fig


def _metric_rows(scores: dict) -> str:
    lines = ["| label | clips | recall | precision | F1 |", "|---|---|---|---|---|"]
    for label, s in scores["per_class"].items():
        lines.append(
            f"| {label} | {s['support']} | {s['recall']:.3f} | {s['precision']:.3f} "
            f"| {s['f1']:.3f} |"
        )
    return "\n".join(lines)


def _normalization_text(model_config: dict) -> str:
    """How the model normalizes its input, from the run's model configuration."""
    if model_config.get("per_band_normalization"):
        removed = "each mel band's mean over the patch is subtracted (removing loudness and "
        removed += "any fixed microphone or channel frequency response)"
    else:
        removed = "the patch's mean log-mel value is subtracted (removing loudness)"
    return f"Input normalization is inside the model: {removed}, then a fixed scale is applied."


def _robustness_text(robustness: dict | None) -> str:
    """The model's rows of a ``benchmarks/robustness.py`` report, as a card section."""
    if not robustness:
        return ""
    rows = "\n".join(
        f"| {condition} | {r['uar']:.3f} | {r['accuracy']:.3f} |"
        for condition, r in robustness["conditions"].items()
    )
    return f"""
## Recording conditions

The {robustness["n_clips"]} clips of {", ".join(robustness["speakers"])}, each altered by one
condition (`benchmarks/robustness.py`):

| condition | UAR | accuracy |
|---|---:|---:|
{rows}
"""


def _kept_weights_text(summary: dict) -> str:
    kept = summary["kept_weights"]
    if summary["config"]["patience"]:
        return f"The model keeps the {kept}, chosen by early stopping on the held-out speakers."
    return f"The model keeps the {kept}; the held-out speakers chose nothing."


def model_card(
    summary: dict, cross_validation: dict | None = None, robustness: dict | None = None
) -> str:
    """The Markdown model card of a trained model (with cross-validation figures and
    figures under altered recording conditions when given)."""
    val = summary["validation"]
    license_text = DATA_LICENSES.get(
        summary.get("corpus", ""), "Inherits the license of the training data; check it."
    )
    cv_text = ""
    if cross_validation:
        cv = cross_validation
        cv_text = (
            f"\n## Speaker-independent cross-validation\n\n{cv['folds']}-fold leave-speakers-out "
            f"on {cv['n_clips']} clips: UAR {cv['uar']['mean']:.3f} +- {cv['uar']['std']:.3f}, "
            f"accuracy {cv['accuracy']['mean']:.3f} +- {cv['accuracy']['std']:.3f}, macro-F1 "
            f"{cv['macro_f1']['mean']:.3f} +- {cv['macro_f1']['std']:.3f} (mean +- std over folds; "
            f"per fold UAR: {', '.join(f'{u:.3f}' for u in cv['uar']['folds'])})"
            + (f"; protocol: {cv['protocol']}" if "protocol" in cv else "")
            + ".\n"
        )
        if "int8" in cv:
            q = cv["int8"]
            cv_text += (
                f"\nThe same fold models as full-integer int8 TFLite: UAR {q['uar']['mean']:.3f} "
                f"+- {q['uar']['std']:.3f}, accuracy {q['accuracy']['mean']:.3f} "
                f"+- {q['accuracy']['std']:.3f}.\n"
            )
    return f"""# Model card: {summary["model_id"]}

Compact CNN ({summary["parameters"]:,} parameters, {summary["macs_per_patch"] / 1e6:.1f} M
multiply-accumulates per patch) that classifies 0.96 s log-mel patches (96 frames x 64 mel bands,
16 kHz, reference preprocessor version {summary["preprocessor_version"]}) into
{", ".join(summary["labels"])}. A clip's prediction is the mean of its patch probabilities.
{_normalization_text(summary["config"]["model"])}

## Data and split

Corpus `{summary["corpus"]}` from `{summary["data_dir"]}`. Speaker-independent split: trained on
{summary["n_train_clips"]} clips from speakers {", ".join(summary["train_speakers"])}; the
figures below on {summary["n_val_clips"]} clips from the held-out speakers
{", ".join(summary["val_speakers"])}. {_kept_weights_text(summary)}

## Validation (held-out speakers, clip level)

Accuracy {val["accuracy"]:.3f}, UAR (unweighted average recall) {val["uar"]:.3f}, macro-F1
{val["macro_f1"]:.3f} on {val["n_clips"]} clips.

{_metric_rows(val)}
{cv_text}{_robustness_text(robustness)}
## Intended use and limits

Research and prototyping of on-device emotion recognition from short speech clips. Trained on
acted emotions from a small number of North American English speakers recorded in a studio:
expect lower accuracy on spontaneous speech, other languages, noisy rooms and children's voices.
Not for decisions about people (hiring, health, policing, credit).

## License

{license_text}
"""
