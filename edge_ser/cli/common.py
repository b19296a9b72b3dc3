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

from edge_ser.corpora import AUTO, CORPORA

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


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data_dir",
        type=existing_path,
        metavar="DATA_DIR",
        help="folder of labelled audio files (searched recursively), or a CSV manifest",
    )


def add_corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        default="auto",
        choices=CORPUS_CHOICES,
        help="corpus naming convention of DATA_DIR (default: detect)",
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


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


def print_scores_table(report: dict) -> None:
    """Per-label recall/precision/F1 table followed by the headline metrics."""
    print(f"{'label':<10} {'clips':>6} {'recall':>7} {'precision':>9} {'f1':>6}")
    for label, s in report["per_class"].items():
        print(
            f"{label:<10} {s['support']:>6} {s['recall']:>7.3f} {s['precision']:>9.3f} "
            f"{s['f1']:>6.3f}"
        )
    print(
        f"\n{report['n_clips']} clips: accuracy {report['accuracy']:.3f}, "
        f"UAR {report['uar']:.3f}, macro-F1 {report['macro_f1']:.3f}"
    )
