"""Install a training run as the bundled default model (``edge_ser/bundled/``).

``python -m edge_ser.promote RUN_DIR [--cv CV_JSON] [--robustness JSON]`` copies the files a
model directory needs (model, description, calibration and parity patches) and rewrites the
model card, adding the cross-validation figures from ``edge-ser cv --json`` (or
``benchmarks/accuracy.py --json``) and the figures under altered recording conditions from
``benchmarks/robustness.py --json`` when given.
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
from edge_ser.errors import EdgeSerError
from edge_ser.reports import model_card
from edge_ser.train import recipe_text


def load_cross_validation(path: Path) -> dict:
    """Cross-validation figures for the model card, from ``edge-ser cv --json`` or from
    ``benchmarks/accuracy.py --json`` (its edge-ser float32 row, with the int8 row as ``int8``)."""
    report = json.loads(Path(path).read_text())
    if "results" not in report:
        return report
    edge_rows = {row: r for row, r in report["results"].items() if row.startswith("edge-ser")}
    float_row = next(r for row, r in edge_rows.items() if "float32" in row)
    int8_row = next((r for row, r in edge_rows.items() if "int8" in row), None)
    protocol = "benchmarks/accuracy.py, " + recipe_text(
        report["edge_ser_epochs"],
        report["edge_ser_patience"],
        report.get("edge_ser_average_last", 0),
    )
    figures = {"folds": report["folds"], "n_clips": report["n_clips"], "protocol": protocol}
    return {**figures, **float_row, **({"int8": int8_row} if int8_row else {})}


def load_robustness(path: Path, model_id: str) -> dict:
    """The rows of model ``model_id`` in a ``benchmarks/robustness.py --json`` report."""
    report = json.loads(Path(path).read_text())
    if model_id not in report["results"]:
        raise EdgeSerError(f"'{path}' has no results for model {model_id}")
    return {
        "n_clips": report["n_clips"],
        "speakers": report["speakers"],
        "conditions": report["results"][model_id],
    }


def promote(
    run_dir: Path,
    cross_validation: dict | None = None,
    target: Path = BUNDLED_DIR,
    robustness_path: Path | None = None,
) -> None:
    """Copy a run's model directory files into ``target`` and write its model card."""
    bundle = ModelBundle.load(run_dir)  # validates the run directory
    info = dict(bundle.info)
    if cross_validation:
        info["cross_validation"] = cross_validation
    robustness = None
    if robustness_path:
        robustness = load_robustness(robustness_path, bundle.model_id)
        info["robustness"] = robustness
    from edge_ser.model import save_for_inference

    save_for_inference(bundle.keras_model, target / MODEL_FILE)
    for name in (CALIBRATION_FILE, PARITY_FILE):
        shutil.copyfile(bundle.directory / name, target / name)
    (target / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    (target / CARD_FILE).write_text(model_card(info, cross_validation, robustness))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_ser.promote", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument(
        "--cv",
        type=Path,
        default=None,
        help="JSON of edge-ser cv --json or of benchmarks/accuracy.py --json",
    )
    parser.add_argument(
        "--robustness", type=Path, default=None, help="JSON of benchmarks/robustness.py --json"
    )
    args = parser.parse_args(argv)
    cross_validation = load_cross_validation(args.cv) if args.cv else None
    promote(args.run_dir, cross_validation, robustness_path=args.robustness)
    print(f"bundled model is now {args.run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
