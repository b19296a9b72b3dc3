"""`edge-ser cv`."""

from __future__ import annotations

import argparse

HELP = "cv (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser cv: not implemented yet")
