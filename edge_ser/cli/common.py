"""Argument helpers shared by several sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge_ser.corpora import AUTO, CORPORA

CORPUS_CHOICES = (AUTO, *CORPORA)


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
        type=Path,
        default=None,
        help="model directory or its model.keras (default: the bundled model)",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_patience_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--patience",
        type=int,
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
