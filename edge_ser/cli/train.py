"""`edge-ser train`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_ser.cli.common import add_corpus_argument, add_patience_argument, show_progress

HELP = "train a model on a labelled corpus with a speaker-independent validation split"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    add_corpus_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("runs/latest"), help="run directory")
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs (default 120; the maximum with --patience)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--val-speakers",
        nargs="+",
        default=None,
        metavar="SPEAKER",
        help="speakers held out for validation, e.g. ravdess:17 (default: ~20%% by seed)",
    )
    add_patience_argument(parser)
    parser.add_argument(
        "--mixup",
        type=float,
        default=0.0,
        metavar="ALPHA",
        help="blend patch pairs with weights ~ Beta(ALPHA, ALPHA) (default 0: off)",
    )


def run(args: argparse.Namespace) -> int:
    from edge_ser.train import TrainConfig, train_run

    config = TrainConfig.with_overrides(args.seed, args.epochs, args.patience, args.mixup)

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    summary = train_run(
        args.data_dir,
        args.out,
        corpus=args.corpus,
        config=config,
        val_speakers=args.val_speakers,
        progress=show_progress(),
        log=log,
    )
    print(f"{args.out}: validation UAR {summary['validation']['uar']:.3f}")
    return 0
