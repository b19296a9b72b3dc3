"""`edge-ser export`."""

from __future__ import annotations

import argparse

HELP = "export (not implemented yet)"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("edge-ser export: not implemented yet")
