"""`edge-ser evaluate`."""

from __future__ import annotations

import argparse

HELP = "evaluate (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser evaluate: not implemented yet")
