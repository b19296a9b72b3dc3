"""`edge-ser verify`."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_ser.cli.common import (
    add_corpus_argument,
    add_json_argument,
    add_model_argument,
    print_json,
    progress_log,
    show_progress,
)
from edge_ser.errors import EdgeSerError

HELP = "prove exported artifacts match the Keras model (exit 0 ok, 1 parity failed, 2 bad input)"


def parse_tolerance(text: str) -> tuple[str, str, float]:
    """``PRECISION.BOUND=VALUE``, e.g. ``int8.top1_agreement=0.98``."""
    try:
        key, value = text.split("=", 1)
        precision, bound = key.split(".", 1)
        return precision, bound, float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected PRECISION.BOUND=VALUE (e.g. float16.max_abs_diff=0.005), got '{text}'"
        ) from exc


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dist", type=Path, metavar="DIST", help="directory written by export")
    add_model_argument(parser)
    parser.add_argument(
        "--data", type=Path, default=None, metavar="DATA_DIR", help="labelled clips to also run"
    )
    add_corpus_argument(parser)
    add_json_argument(parser)
    parser.add_argument(
        "--tolerance",
        type=parse_tolerance,
        action="append",
        default=[],
        metavar="PRECISION.BOUND=VALUE",
        help="override a bound: precisions float32, float16, float16-w8, int8; bounds "
        "max_abs_diff, top1_agreement, clip_accuracy_drop (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from edge_ser.export.parity import DEFAULT_THRESHOLDS
    from edge_ser.export.verify import format_report, verify

    thresholds = {precision: dict(bounds) for precision, bounds in DEFAULT_THRESHOLDS.items()}
    for precision, bound, value in args.tolerance:
        if precision not in thresholds:
            raise EdgeSerError(f"unknown precision '{precision}' in --tolerance")
        thresholds[precision][bound] = value
    report = verify(
        args.dist,
        model=args.model,
        data_dir=args.data,
        corpus=args.corpus,
        thresholds=thresholds,
        progress=show_progress(),
        log=progress_log,
    )
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0 if report["passed"] else 1
