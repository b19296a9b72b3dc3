"""Benchmark an export and store the results beside this script (``bench.json``, ``bench.md``).

The measurements are those of ``edge-ser bench`` (see ``edge_ser.bench``); every option of
that command is accepted. Without ``--json``/``--markdown`` the results are written to
``benchmarks/bench.json`` and ``benchmarks/bench.md``.

Usage::

    python benchmarks/bench.py [DIST] [--model MODEL] [--seconds 60] [--repeats 100]
        [--skip-hour] [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge_ser.cli import main

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--json" not in argv:
        argv += ["--json", str(HERE / "bench.json")]
    if "--markdown" not in argv:
        argv += ["--markdown", str(HERE / "bench.md")]
    raise SystemExit(main(["bench", *argv]))
