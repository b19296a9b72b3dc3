"""Install a training run as the bundled default model (``edge_ser/bundled/``).

``python -m edge_ser.promote RUN_DIR [--cv CV_JSON]`` copies the files a model directory
needs (model, description, calibration and parity patches) and rewrites the model card,
adding the cross-validation figures from ``edge-ser cv --json`` when given.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from edge_ser.bundle import (
    BUNDLED_DIR,
    CALIBRATION_FILE,
    CARD_FILE,
    INFO_FILE,
    MODEL_FILE,
    PARITY_FILE,
    ModelBundle,
)
from edge_ser.reports import model_card


def promote(
    run_dir: Path, cross_validation: dict | None = None, target: Path = BUNDLED_DIR
) -> None:
    """Copy a run's model directory files into ``target`` and write its model card."""
    bundle = ModelBundle.load(run_dir)  # validates the run directory
    info = dict(bundle.info)
    if cross_validation:
        info["cross_validation"] = cross_validation
    from edge_ser.model import save_for_inference

    save_for_inference(bundle.keras_model, target / MODEL_FILE)
    for name in (CALIBRATION_FILE, PARITY_FILE):
        shutil.copyfile(bundle.directory / name, target / name)
    (target / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    (target / CARD_FILE).write_text(model_card(info, cross_validation))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_ser.promote", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--cv", type=Path, default=None, help="JSON written by edge-ser cv --json")
    args = parser.parse_args(argv)
    promote(args.run_dir, json.loads(args.cv.read_text()) if args.cv else None)
    print(f"bundled model is now {args.run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
