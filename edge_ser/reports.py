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
    "emodb": (
        'EMO-DB (Burkhardt et al., "A Database of German Emotional Speech", Interspeech 2005, '
        "http://emodb.bilderbar.info) is free for research use; cite the paper."
    ),
}
CORPUS_DESCRIPTIONS = {
    "ravdess": "North American English, acted, two sentences, studio",
    "emodb": "German, acted, ten sentences, anechoic room",
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


def _architecture_text(summary: dict) -> str:
    """The model in a phrase: a compact CNN, or an ensemble of them, and its size."""
    size = (
        f"{summary['parameters']:,} parameters, {summary['macs_per_patch'] / 1e6:.1f} M\n"
        "multiply-accumulates per patch"
    )
    members = summary.get("members")
    if not members:
        return f"Compact CNN ({size})"
    seeds = ", ".join(str(member["seed"]) for member in members)
    return (
        f"Ensemble of {len(members)} compact CNNs (one recipe, trained with seeds {seeds}; it "
        f"outputs the mean\nof their probabilities; {size} in all)"
    )


def _kept_weights_text(summary: dict) -> str:
    kept = summary["kept_weights"]
    if summary["config"]["patience"]:
        return f"The model keeps the {kept}, chosen by early stopping on the held-out speakers."
    return f"The model keeps the {kept}; the held-out speakers chose nothing."


def _data_text(summary: dict) -> str:
    """The card's data section: each corpus, its size and license, and the split."""
    sizes = summary.get("corpus_sizes", {})
    rows = "\n".join(
        f"| {name} | {CORPUS_DESCRIPTIONS.get(name, '')} | {size['clips']} | {size['speakers']} "
        f"| {', '.join(summary['corpus_labels'].get(name, summary['labels']))} |"
        for name, size in sizes.items()
    )
    table = (
        "| corpus | kind | clips | speakers | labels |\n|---|---|---:|---:|---|\n" + rows + "\n\n"
        if rows
        else ""
    )
    source = f"Corpus `{summary['corpus']}` from `{summary['data_dir']}`."
    if not summary["val_speakers"]:
        split = (
            f"Trained on all {summary['n_train_clips']} clips of every speaker "
            f"({', '.join(summary['train_speakers'])}); no speaker was held out, so the model "
            f"is described by the cross-validation of its recipe below. The model keeps the "
            f"{summary['kept_weights']}."
        )
    elif summary["validation"] is None:  # an ensemble: only its members were scored
        uars = ", ".join(f"{member['validation_uar']:.3f}" for member in summary["members"])
        split = (
            f"Speaker-independent split: trained on {summary['n_train_clips']} clips from "
            f"speakers {', '.join(summary['train_speakers'])}; on the held-out speakers "
            f"{', '.join(summary['val_speakers'])} its members scored validation UAR {uars} "
            f"(the ensemble was not scored there). {_kept_weights_text(summary)}"
        )
    else:
        split = (
            f"Speaker-independent split: trained on {summary['n_train_clips']} clips from "
            f"speakers {', '.join(summary['train_speakers'])}; the figures below on "
            f"{summary['n_val_clips']} clips from the held-out speakers "
            f"{', '.join(summary['val_speakers'])}. {_kept_weights_text(summary)}"
        )
    config = summary["config"]
    trim = config.get("trim_silence_db")
    recipe = (
        f"Recipe: {config['epochs']} epochs, {config['crops_per_class']} crops per label and epoch "
        f"(balance {config['balance']}, loss {config['loss']}), "
        + (
            f"each clip's leading and trailing silence (more than {trim:g} dB below its "
            "loudest frame) trimmed before cropping."
            if trim
            else "clips not trimmed."
        )
    )
    return f"## Data and split\n\n{table}{source} {split}\n\n{recipe}\n"


def _validation_text(val: dict | None) -> str:
    if val is None:
        return ""
    return (
        "\n## Validation (held-out speakers, clip level)\n\n"
        f"Accuracy {val['accuracy']:.3f}, UAR (unweighted average recall) {val['uar']:.3f}, "
        f"macro-F1 {val['macro_f1']:.3f} on {val['n_clips']} clips.\n\n{_metric_rows(val)}\n"
    )


def data_license_text(summary: dict) -> str:
    """The license terms of each corpus a model was trained on (its ``model.json``)."""
    names = list(summary.get("corpus_sizes") or summary.get("corpus", "").split("+"))
    known = [DATA_LICENSES[name] for name in names if name in DATA_LICENSES]
    if not known or len(known) < len(names):
        known.append("Inherits the license of the training data; check it.")
    return "\n\n".join(known)


def cross_corpus_rows(report: dict) -> list[dict]:
    """The float32 and int8 edge-ser figures of a ``benchmarks/cross_corpus.py --json``
    report, one row per protocol and test corpus (means over folds); rows scored under another
    silence rule, for comparison, are not the model's."""
    results = {name: r for name, r in report["results"].items() if "silence rule" not in name}
    float_row = next(r for name, r in results.items() if "float32" in name)
    int8_row = next((r for name, r in results.items() if "int8" in name), {})
    config = report["edge_ser_config"]
    rows = []
    for protocol, result in float_row.items():
        folds = len(result["folds"])
        for part, figures in result.items():
            if part == "folds":
                continue
            quantized = int8_row.get(protocol, {}).get(part)
            rows.append(
                {
                    "protocol": protocol,
                    "test_corpus": protocol.split("->")[1] if part == "all" else part,
                    "folds": folds,
                    "of_folds": report["folds"] if "->" not in protocol else 1,
                    "epochs": config["epochs"],
                    "uar": figures["uar"]["mean"],
                    "uar_restricted": figures["uar_restricted"]["mean"],
                    "int8_uar": quantized["uar"]["mean"] if quantized else None,
                    "int8_uar_restricted": (
                        quantized["uar_restricted"]["mean"] if quantized else None
                    ),
                    "collapse": figures["collapse"],
                }
            )
    return rows


def _protocol_text(row: dict) -> str:
    if "->" in row["protocol"]:
        trained, tested = row["protocol"].split("->")
        return f"trained on all of {trained}, tested on {tested}"
    folds = row["folds"]
    if folds < row["of_folds"]:  # a screening run of the first folds only
        folds = f"{folds} of {row['of_folds']}"
    both = " (trained on both corpora)" if row["protocol"] == "joint-cv" else ""
    return f"{folds}-fold leave-speakers-out{both}, scored on {row['test_corpus']}"


def _cross_corpus_text(rows: list[dict] | None) -> str:
    if not rows:
        return ""
    collapsed = sorted({label for row in rows for label in row["collapse"]})
    lines = [
        "| protocol | epochs | UAR strict / restricted | int8 strict / restricted | collapse |",
        "|---|---:|---|---|---|",
    ]
    for row in rows:
        int8 = (
            f"{row['int8_uar']:.3f} / {row['int8_uar_restricted']:.3f}"
            if row["int8_uar"] is not None
            else ""
        )
        lines.append(
            f"| {_protocol_text(row)} | {row['epochs']} | {row['uar']:.3f} / "
            f"{row['uar_restricted']:.3f} | {int8} | {', '.join(row['collapse']) or 'none'} |"
        )
    return (
        "\n## Across speakers and corpora\n\nThe recipe of this model, retrained for each "
        "protocol (`benchmarks/cross_corpus.py`): strict UAR takes the argmax over every label of "
        "the model, restricted UAR over the labels the test corpus has; a collapse is a label "
        "predicted more than twice as often as it occurs. Means over folds.\n\n"
        + "\n".join(lines)
        + "\n"
        + (
            f"\nOver-predicted in these measurements: {', '.join(collapsed)}. Expect this model "
            "to give these labels too often to voices unlike its training corpora.\n"
            if collapsed
            else ""
        )
    )


def model_card(
    summary: dict,
    cross_validation: dict | None = None,
    robustness: dict | None = None,
    cross_corpus: list[dict] | None = None,
) -> str:
    """The Markdown model card of a trained model (with cross-validation figures, figures
    across corpora (``cross_corpus_rows``) and figures under altered recording conditions
    when given)."""
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

{_architecture_text(summary)} that classifies 0.96 s log-mel patches (96 frames x 64 mel bands,
16 kHz, reference preprocessor version {summary["preprocessor_version"]}) into
{", ".join(summary["labels"])}. A clip's prediction is the mean of its patch probabilities.
{_normalization_text(summary["config"]["model"])}

{_data_text(summary)}{_validation_text(summary["validation"])}{cv_text}\
{_cross_corpus_text(cross_corpus)}{_robustness_text(robustness)}
## Intended use and limits

Research and prototyping of on-device emotion recognition from short speech clips. Trained on
acted emotions from a small number of speakers of the languages above, recorded in quiet rooms:
expect lower accuracy on spontaneous speech, other languages, noisy rooms and children's voices,
and compare a corpus's own figures with the figures across corpora before trusting a label.
Not for decisions about people (hiring, health, policing, credit).

## License

{data_license_text(summary)}
"""
