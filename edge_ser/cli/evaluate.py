"""`edge-ser evaluate`."""

from __future__ import annotations

import argparse

from edge_ser.cli.common import (
    add_data_dirs_arguments,
    add_json_argument,
    add_model_argument,
    corpus_names,
    print_confusion,
    print_json,
    print_scores_table,
    show_progress,
)
from edge_ser.reports import count

HELP = "score a model (default: bundled) on one or more labelled corpora, clip level"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dirs_arguments(parser)
    add_model_argument(parser)
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    from edge_ser.evaluate import evaluate
    from edge_ser.runtimes.open_model import open_model

    runtime = open_model(args.model).runtime
    report = evaluate(runtime, args.data_dirs, corpus_names(args), progress=show_progress())
    if args.json:
        print_json(report)
        return 0
    print_scores_table(report)
    print_confusion(report)
    if len(report["per_corpus"]) > 1:
        for name, part in report["per_corpus"].items():
            print(f"\n{name}:")
            print_scores_table(part)
    if report["skipped"]:
        print(f"skipped {count(len(report['skipped']), 'file')}:")
        for item in report["skipped"]:
            print(f"  {item['path']}: {item['reason']}")
    return 0
