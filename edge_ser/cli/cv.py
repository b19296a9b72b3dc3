"""`edge-ser cv`."""

from __future__ import annotations

import argparse
import sys

from edge_ser.cli.common import (
    add_corpus_argument,
    add_data_dir_argument,
    add_epochs_argument,
    add_json_argument,
    add_patience_argument,
    add_seed_argument,
    int_at_least,
    print_json,
    show_progress,
)

HELP = "leave-speakers-out cross-validation: mean and standard deviation over folds"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dir_argument(parser)
    add_corpus_argument(parser)
    parser.add_argument(
        "--folds",
        type=int_at_least(2),
        default=5,
        metavar="K",
        help="folds of whole speakers; each is the test set once (default 5)",
    )
    add_epochs_argument(parser)
    add_seed_argument(parser)
    add_patience_argument(parser)
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    from edge_ser.train import TrainConfig, cross_validate

    config = TrainConfig.with_overrides(args.seed, args.epochs, args.patience)
    summary = cross_validate(
        args.data_dir,
        folds=args.folds,
        corpus=args.corpus,
        config=config,
        progress=show_progress(),
        log=lambda line: print(line, file=sys.stderr),
    )
    if args.json:
        print_json(summary)
        return 0
    for metric in ("accuracy", "uar", "macro_f1"):
        m = summary[metric]
        folds = ", ".join(f"{v:.3f}" for v in m["folds"])
        print(f"{metric:<9} {m['mean']:.3f} +- {m['std']:.3f}   folds: {folds}")
    return 0
