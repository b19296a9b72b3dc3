"""Install a training run as the bundled default model (``edge_ser/bundled/``).

``python -m edge_ser.promote RUN_DIR --export EXPORT_DIR [--cv CV_JSON] [--robustness JSON]
[--cross-corpus JSON ...]`` copies the files a model directory needs (model, description,
calibration and parity patches) and rewrites the model card, adding the cross-validation
figures from ``edge-ser cv --json`` (or ``benchmarks/accuracy.py --json``), the figures under
altered recording conditions from ``benchmarks/robustness.py --json`` and the figures across
speakers and corpora from ``benchmarks/cross_corpus.py --json`` when given. ``--export`` installs
the int8 TFLite of an ``edge-ser export`` of the same model (with its ``labels.txt`` and a
manifest listing only it): the fast default of ``predict`` and ``Recognizer.load()``. Without
RUN_DIR only that int8 model is installed, for the model already bundled.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from edge_ser import quiet
from edge_ser.artifacts import layout
from edge_ser.artifacts.manifest import check_artifacts, read_manifest
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
from edge_ser.reports import cross_corpus_rows, model_card


def load_cross_validation(path: Path) -> dict:
    """Cross-validation figures for the model card, from ``edge-ser cv --json`` or from
    ``benchmarks/accuracy.py --json`` (its edge-ser float32 row, with the int8 row as ``int8``)."""
    from edge_ser.train import recipe_text  # imports TensorFlow: after the CLI quieted it

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
    cross_corpus_paths: Sequence[Path] = (),
) -> None:
    """Copy a run's model directory files into ``target`` and write its model card."""
    bundle = ModelBundle.load(run_dir)  # validates the run directory
    info = dict(bundle.info)
    if cross_validation:
        info["cross_validation"] = cross_validation
    reports = [json.loads(Path(path).read_text()) for path in cross_corpus_paths]
    cross_corpus = [row for report in reports for row in cross_corpus_rows(report)]
    if cross_corpus:
        info["cross_corpus"] = cross_corpus
    robustness = None
    if robustness_path:
        robustness = load_robustness(robustness_path, bundle.model_id)
        info["robustness"] = robustness
    from edge_ser.model import save_for_inference

    save_for_inference(bundle.keras_model, target / MODEL_FILE)
    for name in (CALIBRATION_FILE, PARITY_FILE):
        shutil.copyfile(bundle.directory / name, target / name)
    (target / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    card = model_card(info, cross_validation, robustness, cross_corpus)
    (target / CARD_FILE).write_text(card)


def install_int8(export_dir: Path, target: Path = BUNDLED_DIR) -> str:
    """Copy an export's int8 TFLite and labels into the model directory ``target``, with a
    manifest that lists only the int8 artifact; return the model id.

    The export must be of ``target``'s model, intact (checksums) and have passed parity.
    """
    manifest = read_manifest(export_dir)
    check_artifacts(export_dir, manifest)
    model_id = ModelBundle.load(target).model_id
    if manifest["model_id"] != model_id:
        raise EdgeSerError(
            f"'{export_dir}' is an export of {manifest['model_id']}, not of {model_id}"
        )
    if layout.INT8_TFLITE not in manifest["artifacts"]:
        raise EdgeSerError(f"'{export_dir}' has no {layout.INT8_TFLITE}")
    if not manifest.get("parity", {}).get("passed"):
        raise EdgeSerError(f"'{export_dir}' did not pass parity at export")
    manifest["artifacts"] = {layout.INT8_TFLITE: manifest["artifacts"][layout.INT8_TFLITE]}
    manifest["source_model"] = {"path": None}  # it is the bundled model now
    parity = manifest["parity"]
    parity["artifacts"] = {
        key: value
        for key, value in parity.get("artifacts", {}).items()
        if key.startswith(layout.INT8_TFLITE)
    }
    for name in (layout.INT8_TFLITE, layout.LABELS_TXT):
        shutil.copyfile(Path(export_dir) / name, target / name)
    (target / layout.MANIFEST_JSON).write_text(json.dumps(manifest, indent=2) + "\n")
    return model_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_ser.promote", description=__doc__)
    parser.add_argument("run_dir", type=Path, nargs="?", help="training run to bundle")
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="EXPORT_DIR",
        help="edge-ser export of the model (with tflite-int8): installs its int8 TFLite",
    )
    parser.add_argument(
        "--cv",
        type=Path,
        default=None,
        help="JSON of edge-ser cv --json or of benchmarks/accuracy.py --json",
    )
    parser.add_argument(
        "--robustness", type=Path, default=None, help="JSON of benchmarks/robustness.py --json"
    )
    parser.add_argument(
        "--cross-corpus",
        type=Path,
        nargs="+",
        default=[],
        metavar="JSON",
        help="JSON of benchmarks/cross_corpus.py --json (the model's recipe)",
    )
    args = parser.parse_args(argv)
    if args.run_dir is None and args.export is None:
        parser.error("give RUN_DIR, --export EXPORT_DIR or both")
    with quiet.third_party_quieted(quiet.verbose_from_env()):
        if args.run_dir is not None:
            cross_validation = load_cross_validation(args.cv) if args.cv else None
            promote(
                args.run_dir,
                cross_validation,
                robustness_path=args.robustness,
                cross_corpus_paths=args.cross_corpus,
            )
            print(f"bundled model is now {args.run_dir}")
        if args.export is not None:
            model_id = install_int8(args.export)
            print(f"bundled int8 TFLite of {model_id} installed from {args.export}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
