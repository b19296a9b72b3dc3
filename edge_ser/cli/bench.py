"""`edge-ser bench`."""

from __future__ import annotations

import argparse

HELP = "bench (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser bench: not implemented yet")
