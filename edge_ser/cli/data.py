"""`edge-ser data`."""

from __future__ import annotations

import argparse

HELP = "data (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser data: not implemented yet")
