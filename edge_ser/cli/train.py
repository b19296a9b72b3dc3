"""`edge-ser train`."""

from __future__ import annotations

import argparse
import sys

from edge_ser.atomic import check_target
from edge_ser.bundle import RUN_OUTPUT
from edge_ser.cli.common import (
    add_data_dirs_arguments,
    add_epochs_argument,
    add_output_arguments,
    add_patience_argument,
    add_seed_argument,
    add_training_choices_arguments,
    corpus_names,
    non_negative_float,
    show_progress,
)

HELP = "train a model on one or more labelled corpora with a speaker-independent validation split"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dirs_arguments(parser)
    add_output_arguments(parser, "runs/latest", RUN_OUTPUT)
    add_epochs_argument(parser)
    add_seed_argument(parser)
    parser.add_argument(
        "--val-speakers",
        nargs="+",
        default=None,
        metavar="SPEAKER",
        help="speakers held out for validation, e.g. ravdess:17, or 'none' to train on every "
        "speaker (default: ~20%% of each corpus's speakers, by seed)",
    )
    add_patience_argument(parser)
    parser.add_argument(
        "--mixup",
        type=non_negative_float,
        default=0.0,
        metavar="ALPHA",
        help="blend patch pairs with weights ~ Beta(ALPHA, ALPHA) (default 0: off)",
    )
    add_training_choices_arguments(parser)


def run(args: argparse.Namespace) -> int:
    check_target(args.out, RUN_OUTPUT, args.force)
    from edge_ser.train import TrainConfig, run_result_text, train_run

    config = TrainConfig.with_overrides(
        args.seed,
        args.epochs,
        args.patience,
        args.mixup,
        args.loss,
        args.balance,
        args.trim_silence,
    )
    val_speakers = [] if args.val_speakers == ["none"] else args.val_speakers

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    summary = train_run(
        args.data_dirs,
        args.out,
        corpus=corpus_names(args),
        config=config,
        val_speakers=val_speakers,
        progress=show_progress(),
        log=log,
        force=args.force,
    )
    print(f"{args.out}: {run_result_text(summary)}")
    return 0
