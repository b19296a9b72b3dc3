"""`edge-ser predict`."""

from __future__ import annotations

import argparse

HELP = "predict (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser predict: not implemented yet")
