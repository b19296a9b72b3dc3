"""`edge-ser cv`."""

from __future__ import annotations

import argparse
import sys

from edge_ser.cli.common import (
    add_data_dirs_arguments,
    add_epochs_argument,
    add_json_argument,
    add_patience_argument,
    add_seed_argument,
    add_training_choices_arguments,
    corpus_names,
    int_at_least,
    print_json,
    show_progress,
)

HELP = "leave-speakers-out or leave-one-corpus-out cross-validation: mean and spread over folds"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dirs_arguments(parser)
    parser.add_argument(
        "--by",
        choices=("speaker", "corpus"),
        default="speaker",
        help="speaker (default): leave-speakers-out folds; corpus: train on all but one "
        "DATA_DIR, test on it, once per DATA_DIR",
    )
    parser.add_argument(
        "--folds",
        type=int_at_least(2),
        default=5,
        metavar="K",
        help="folds of whole speakers; each is the test set once (default 5; not with --by corpus)",
    )
    add_epochs_argument(parser)
    add_seed_argument(parser)
    add_patience_argument(parser)
    add_training_choices_arguments(parser)
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    from edge_ser.train import TrainConfig, cross_validate

    config = TrainConfig.with_overrides(
        args.seed,
        args.epochs,
        args.patience,
        loss=args.loss,
        balance=args.balance,
        trim_silence_db=args.trim_silence,
    )
    summary = cross_validate(
        args.data_dirs,
        folds=args.folds,
        corpus=corpus_names(args),
        by=args.by,
        config=config,
        progress=show_progress(),
        log=lambda line: print(line, file=sys.stderr),
    )
    if args.json:
        print_json(summary)
        return 0
    for metric in ("accuracy", "uar", "macro_f1", "uar_restricted"):
        m = summary[metric]
        folds = ", ".join(f"{v:.3f}" for v in m["folds"])
        print(f"{metric:<14} {m['mean']:.3f} +- {m['std']:.3f}   folds: {folds}")
    if len(summary["corpora"]) > 1:
        for name, m in summary["per_corpus"].items():
            print(
                f"{name}: UAR {m['uar']['mean']:.3f} +- {m['uar']['std']:.3f}, restricted "
                f"{m['uar_restricted']['mean']:.3f} +- {m['uar_restricted']['std']:.3f}"
            )
    for k, report in enumerate(summary["fold_reports"], start=1):
        for strictness, part in (("strict", report), ("restricted", report["restricted"])):
            if part["collapse"]:
                print(f"fold {k}: collapse ({strictness}): {', '.join(part['collapse'])}")
    return 0
