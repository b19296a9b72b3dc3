"""Argument helpers shared by several sub-commands.

Every numeric and path argument is checked here, by its argparse ``type``, while the command
line is parsed: before any heavy library is imported, so a typo is reported at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from edge_ser.atomic import OutputKind
from edge_ser.corpora import AUTO, CORPORA
from edge_ser.labels import BALANCES, LOSSES, LabelSet, LabelSetError, parse_label_list, parse_merge

CORPUS_CHOICES = (AUTO, *CORPORA)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def existing_path(text: str) -> Path:
    """An argparse type: a file or folder that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"'{text}' does not exist")
    return path


def _label_type(parse: Callable[[str], object], name: str) -> Callable[[str], object]:
    """An argparse type from a ``LabelSetError``-raising parser of ``edge_ser.labels``."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except LabelSetError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def add_label_set_arguments(parser: argparse.ArgumentParser) -> None:
    """``--labels A,B,...`` and ``--merge SOURCE=TARGET`` (repeatable) of ``LabelSet``."""
    parser.add_argument(
        "--labels",
        type=_label_type(parse_label_list, "label list"),
        default=None,
        metavar="A,B,...",
        help="the labels the exported models output, in this order (at least 2 of the model's "
        "labels); the others are dropped and the probabilities renormalized over these "
        "(default: every label of the model)",
    )
    parser.add_argument(
        "--merge",
        type=_label_type(parse_merge, "SOURCE=TARGET"),
        action="append",
        default=[],
        metavar="SOURCE=TARGET",
        help="add the probability of model label SOURCE to TARGET, one of --labels "
        "(e.g. calm=neutral); repeat for more",
    )


def label_set_of(args: argparse.Namespace) -> LabelSet:
    """The ``LabelSet`` of ``--labels``/``--merge`` for ``--model``'s labels (model.json only:
    no model is loaded), so that a wrong spec fails before TensorFlow is imported."""
    from edge_ser.bundle import ModelBundle

    return LabelSet.build(ModelBundle.load(args.model).labels, args.labels, args.merge)


def add_corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        default="auto",
        choices=CORPUS_CHOICES,
        help="corpus naming convention of DATA_DIR (default: detect)",
    )


def add_data_dirs_arguments(parser: argparse.ArgumentParser) -> None:
    """``DATA_DIR [DATA_DIR ...]`` and ``--corpus`` once for all or once per directory."""
    parser.add_argument(
        "data_dirs",
        type=existing_path,
        nargs="+",
        metavar="DATA_DIR",
        help="folder of labelled audio files (searched recursively), or a CSV manifest; "
        "several: one corpus each",
    )
    parser.add_argument(
        "--corpus",
        action="append",
        choices=CORPUS_CHOICES,
        help="corpus naming convention (default: detect); give it once for every DATA_DIR "
        "or once per DATA_DIR, in order",
    )


def corpus_names(args: argparse.Namespace) -> list[str]:
    """The ``--corpus`` values of ``add_data_dirs_arguments`` (default: detect)."""
    return args.corpus or [AUTO]


def add_training_choices_arguments(parser: argparse.ArgumentParser) -> None:
    """How several corpora are sampled, how labels one corpus lacks enter the loss, and how
    much of each training clip's silent ends is kept."""
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default=None,
        help="pooled (default): each clip's softmax runs over every label; restricted: over "
        "its corpus's labels only; partial: pooled, but a clip of a corpus without calm that "
        "is neutral counts as neutral or calm",
    )
    parser.add_argument(
        "--balance",
        choices=BALANCES,
        default=None,
        help="corpus (default): each label's training crops split evenly over the corpora "
        "that have it; sqrt: in proportion to the square root of each corpus's clips of the "
        "label; label: drawn from all of the label's clips; pair: split evenly, but a label "
        "some corpora lack gets only the shares of those that have it",
    )
    parser.add_argument(
        "--trim-silence",
        type=non_negative_float,
        default=None,
        metavar="DB",
        help="trim each training clip to its first and last frame within DB of its loudest "
        "(default 0: off)",
    )


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=existing_path,
        default=None,
        help="model directory or its model.keras (default: the bundled model)",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_output_arguments(parser: argparse.ArgumentParser, default: str, kind: OutputKind) -> None:
    """``--out DIR`` and ``--force`` of a command that writes a directory of ``kind``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default),
        metavar="DIR",
        help=f"directory to write {kind.description} into: new or empty (default {default})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"replace {kind.description} already in --out (its {kind.marker}); other files stay",
    )


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=int_at_least(0),
        default=0,
        help="seed of the speaker split, the crops and the model's initial weights (default 0)",
    )


def add_epochs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--epochs",
        type=int_at_least(1),
        default=None,
        metavar="N",
        help="training epochs (default 120; the maximum with --patience)",
    )


def add_patience_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--patience",
        type=int_at_least(0),
        default=None,
        metavar="N",
        help="stop when the validation UAR has not improved for N epochs and keep the best "
        "epoch (default 0: train every epoch and average the last 20 epochs' weights)",
    )


def show_progress() -> bool:
    """Progress bars only when a person is watching stderr."""
    return sys.stderr.isatty()


def progress_log(line: str) -> None:
    """A step of a long command, shown in a terminal and left out of CI logs."""
    if show_progress():
        print(line, file=sys.stderr)


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


def print_scores_table(report: dict) -> None:
    """Per-label recall/precision/F1 and predicted shares, then the headline metrics: strict
    (argmax over every model label) and restricted (over the labels the data has)."""
    restricted = report.get("restricted")
    print(
        f"{'label':<10} {'clips':>6} {'recall':>7} {'precision':>9} {'f1':>6} "
        f"{'true %':>7} {'predicted %':>11}"
    )
    for label in report["labels"]:
        s = report["per_class"].get(label)
        cells = (
            f"{s['support']:>6} {s['recall']:>7.3f} {s['precision']:>9.3f} {s['f1']:>6.3f}"
            if s
            else f"{0:>6} {'-':>7} {'-':>9} {'-':>6}"
        )
        shares = ""
        if "predicted_share" in report:
            shares = (
                f" {100 * report['true_share'][label]:>7.1f} "
                f"{100 * report['predicted_share'][label]:>11.1f}"
            )
        print(f"{label:<10} {cells}{shares}")
    print(
        f"\n{report['n_clips']} clips: accuracy {report['accuracy']:.3f}, "
        f"UAR {report['uar']:.3f}, macro-F1 {report['macro_f1']:.3f}"
    )
    if restricted:
        print(
            f"restricted to the labels present: accuracy {restricted['accuracy']:.3f}, "
            f"UAR {restricted['uar']:.3f}, macro-F1 {restricted['macro_f1']:.3f}"
        )
        for name, part in (("strict", report), ("restricted", restricted)):
            if part["collapse"]:
                print(
                    f"collapse ({name}): {', '.join(part['collapse'])} predicted more than twice "
                    "as often as they occur"
                )


def print_confusion(report: dict) -> None:
    """The confusion matrix as text: rows true labels, columns predicted labels (labels that
    never occur on either side are left out)."""
    labels = report["labels"]
    confusion = report["confusion"]
    rows = [i for i, row in enumerate(confusion) if sum(row)]
    columns = [j for j in range(len(labels)) if sum(row[j] for row in confusion) or j in rows]
    width = max(len(labels[j]) for j in columns) + 1
    corner = "true / predicted"
    name_width = max(len(corner), *(len(labels[i]) for i in rows))
    print("\nconfusion (rows: true label, columns: predicted label):")
    print(f"{corner:<{name_width}}" + "".join(f"{labels[j]:>{width}}" for j in columns))
    for i in rows:
        cells = "".join(f"{confusion[i][j]:>{width}}" for j in columns)
        print(f"{labels[i]:<{name_width}}{cells}")
