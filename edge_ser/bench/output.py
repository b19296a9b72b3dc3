"""How a benchmark hands over its report: Markdown on stdout, JSON and Markdown files, and
the entry point that the scripts under ``benchmarks/`` share."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from edge_ser import quiet
from edge_ser.errors import EdgeSerError


def benchmark_main(
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], dict],
    to_markdown: Callable[[dict], str],
    argv: list[str] | None = None,
) -> int:
    """Entry point of a benchmark script: add ``--json`` and ``--markdown`` to ``parser``,
    run the benchmark on the parsed arguments (other libraries' messages hidden, as ``edge-ser``
    hides them, unless ``EDGE_SER_VERBOSE`` is set) and emit its report; exit code."""
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the results as Markdown here")
    args = parser.parse_args(argv)
    try:
        with quiet.third_party_quieted(quiet.verbose_from_env()):
            report = run(args)
    except EdgeSerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    emit(report, to_markdown(report), args.json, args.markdown)
    return 0


def emit(report: dict, markdown: str, json_path: Path | None, markdown_path: Path | None) -> None:
    """Print a benchmark's Markdown table and write it and the JSON report where asked."""
    print(markdown, end="")
    if json_path:
        json_path.write_text(json.dumps(report, indent=2) + "\n")
    if markdown_path:
        markdown_path.write_text(markdown)
