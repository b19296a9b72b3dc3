"""`edge-ser train`."""

from __future__ import annotations

import argparse

HELP = "train (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser train: not implemented yet")
