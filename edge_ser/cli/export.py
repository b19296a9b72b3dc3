"""`edge-ser export`."""

from __future__ import annotations

import argparse

from edge_ser.artifacts import layout
from edge_ser.atomic import check_target
from edge_ser.cli.common import (
    add_label_set_arguments,
    add_model_argument,
    add_output_arguments,
    label_set_of,
    progress_log,
)
from edge_ser.reference_preprocess import params

HELP = "export int8/float32 TFLite, Core ML, labels, manifest and golden vectors (atomically)"


def configure(parser: argparse.ArgumentParser) -> None:
    from edge_ser.artifacts.formats import DEFAULT_FORMATS, FORMATS, WAVEFORM_FORMATS

    add_model_argument(parser)
    add_output_arguments(parser, "dist", layout.OUTPUT)
    parser.add_argument(
        "--formats",
        nargs="+",
        default=list(DEFAULT_FORMATS),
        choices=list(FORMATS),
        metavar="FORMAT",
        help=f"formats to build (default: {' '.join(DEFAULT_FORMATS)}; also: "
        f"{' '.join(f for f in FORMATS if f not in DEFAULT_FORMATS)})",
    )
    parser.add_argument(
        "--waveform",
        action="store_true",
        help="also build the waveform-in models (log-mel frontend inside; raw 16 kHz windows "
        f"of {params.MIN_SAMPLES} samples in): {' '.join(WAVEFORM_FORMATS)}",
    )
    add_label_set_arguments(parser)
    parser.add_argument(
        "--no-source-path",
        action="store_true",
        help="leave the model directory's absolute path out of manifest.json (for an export "
        "that ships inside an app); verify then needs --model",
    )


def run(args: argparse.Namespace) -> int:
    check_target(args.out, layout.OUTPUT, args.force)
    label_set = label_set_of(args)
    from edge_ser.export.exporter import export

    manifest = export(
        args.model,
        args.out,
        args.formats,
        force=args.force,
        log=progress_log,
        waveform=args.waveform,
        label_set=label_set,
        record_source=not args.no_source_path,
    )
    print(f"exported {manifest['model_id']} to {args.out}:")
    for name, entry in manifest["artifacts"].items():
        print(f"  {name:<32} {entry['size_bytes'] / 1024:8.1f} KiB  {entry['description']}")
    print(f"parity at export: {'passed' if manifest['parity']['passed'] else 'FAILED'}")
    return 0
