"""`edge-ser bench`."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from edge_ser.cli.common import progress_log
from edge_ser.errors import EdgeSerError

HELP = "measure latency, throughput, real-time factor, artifact sizes and memory of an export"

EPILOG = """\
Latency rows are the median and 90th percentile of timed single-patch calls after warm-up.
The model's int8 and float32 rates are given as a fraction of a matrix-multiplication probe
(1x1 convolutions) timed in the same run, and against the core's peak: the best vector
extension found in /proc/cpuinfo (AVX2, AVX-512, AVX-512 VNNI, AVX-VNNI, AMX, NEON
dot-product) sets the MAC per cycle, at the maximum clock lscpu reports (else the 'cpu MHz'
of /proc/cpuinfo; 2.45 GHz when neither is available). A goal that even the probe cannot
reach on this CPU is shown as not applicable here, with the reason. Preprocessing and
end-to-end figures use one thread.
Memory is the peak RSS of a fresh process predicting a 1-minute and a 1-hour 48 kHz FLAC file
(the 1-hour file is generated in a temporary directory; --skip-hour leaves it out).
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "dist",
        type=Path,
        nargs="?",
        metavar="DIST",
        help="export directory (default: export the model's TFLite files to a temporary one)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="source model directory, timed in Keras and exported when DIST is not given "
        "(default: the bundled model)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the report as JSON")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="write it as Markdown")
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        metavar="N",
        help="seconds of synthetic audio for the preprocessing and end-to-end runs (default 60)",
    )
    parser.add_argument(
        "--repeats", type=int, default=100, help="timed calls per latency row (default 100)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed calls before timing (default 10)"
    )
    parser.add_argument(
        "--skip-hour", action="store_true", help="skip the 1-hour memory measurement"
    )
    parser.add_argument("--note", default="", help="a remark to print under the title")


def run(args: argparse.Namespace) -> int:
    from edge_ser import bench
    from edge_ser.export.tflite import to_tflite_pair

    if args.seconds <= 0 or args.repeats < 1 or args.warmup < 0:
        raise EdgeSerError("--seconds and --repeats must be positive and --warmup >= 0")
    if args.dist is not None and not args.dist.is_dir():
        raise EdgeSerError(f"'{args.dist}' is not an export directory")

    with tempfile.TemporaryDirectory(prefix="edge-ser-bench-dist-") as tmp:
        dist = args.dist
        if dist is None:
            from edge_ser.export.exporter import export

            dist = Path(tmp) / "dist"
            progress_log(
                f"exporting the {'bundled model' if args.model is None else args.model} to {dist}"
            )
            export(args.model, dist, formats=("tflite-int8", "tflite-float32"), log=progress_log)
        report = bench.run(
            dist,
            to_tflite_pair,
            args.model,
            seconds=args.seconds,
            repeats=args.repeats,
            warmup=args.warmup,
            hour=not args.skip_hour,
            log=progress_log,
        )
    report["note"] = args.note
    from edge_ser.bench.output import emit

    emit(report, bench.to_markdown(report), args.json, args.markdown)
    return 0
