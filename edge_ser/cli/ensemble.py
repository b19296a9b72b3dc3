"""`edge-ser ensemble`."""

from __future__ import annotations

import argparse

from edge_ser.atomic import check_target
from edge_ser.bundle import RUN_OUTPUT
from edge_ser.cli.common import add_output_arguments, existing_path

HELP = (
    "join training runs that differ only in their seed into one model that averages their "
    "probabilities"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dirs",
        nargs="+",
        type=existing_path,
        metavar="RUN_DIR",
        help="training runs of edge-ser train (two or more), e.g. with --seed 0 and --seed 1",
    )
    add_output_arguments(parser, "runs/ensemble", RUN_OUTPUT)


def run(args: argparse.Namespace) -> int:
    check_target(args.out, RUN_OUTPUT, args.force)
    from edge_ser.ensemble import ensemble_run

    summary = ensemble_run(args.run_dirs, args.out, force=args.force)
    members = ", ".join(member["model_id"] for member in summary["members"])
    print(
        f"{args.out}: {summary['model_id']}, the mean of {len(summary['members'])} models "
        f"({members}); {summary['parameters']:,} parameters"
    )
    return 0
