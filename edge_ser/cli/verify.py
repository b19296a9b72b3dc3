"""`edge-ser verify`."""

from __future__ import annotations

import argparse

HELP = "verify (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser verify: not implemented yet")
