"""Join training runs of one recipe, differing only in their seed, into one model directory
whose model averages their probabilities (a seed ensemble).

The runs must share labels, data, speakers and every training setting but the seed, so the
ensemble is the recipe's seed ensemble that ``benchmarks/cross_corpus.py --ensemble`` scores.
Its calibration and parity patches are the first run's.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from edge_ser import reports
from edge_ser.atomic import atomic_directory, check_target
from edge_ser.bundle import (
    CALIBRATION_FILE,
    CARD_FILE,
    INFO_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PARITY_FILE,
    RUN_OUTPUT,
    ModelBundle,
)
from edge_ser.errors import ModelError

# What every member must have the same of (its model.json records them).
SHARED_FIELDS = (
    "labels",
    "corpus",
    "corpus_labels",
    "corpus_sizes",
    "n_train_clips",
    "train_speakers",
    "val_speakers",
    "preprocessor_version",
    "aggregation",
)
# What describes one member only: not carried into the ensemble's description.
MEMBER_FIELDS = (
    "validation",
    "train_clip_accuracy",
    "cross_validation",
    "cross_corpus",
    "robustness",
)


def _seed(bundle: ModelBundle) -> int | None:
    return bundle.info["config"].get("seed")


def _settings(bundle: ModelBundle) -> dict:
    """The fields the members must share, flat; the training settings but the seed."""
    config = bundle.info["config"]
    return {
        **{key: bundle.info[key] for key in SHARED_FIELDS},
        **{f"config.{key}": value for key, value in config.items() if key != "seed"},
    }


def check_members(bundles: Sequence[ModelBundle]) -> None:
    """Refuse fewer than two runs, a repeated model or seed, or runs of different recipes."""
    if len(bundles) < 2:
        raise ModelError("an ensemble needs at least two training runs")
    for bundle in bundles:
        if not all(key in bundle.info for key in (*SHARED_FIELDS, "config")):
            raise ModelError(
                f"'{bundle.directory}' is not a training run of edge-ser train (its "
                f"{INFO_FILE} lacks the recipe)"
            )
    ids = [bundle.model_id for bundle in bundles]
    if len(set(ids)) < len(ids):
        raise ModelError(f"a training run is given twice: {', '.join(ids)}")
    seeds = [_seed(bundle) for bundle in bundles]
    if len(set(seeds)) < len(seeds):
        raise ModelError(f"the runs must differ in their seed, got seeds {seeds}")
    first = _settings(bundles[0])
    for bundle in bundles[1:]:
        settings = _settings(bundle)
        differ = [key for key in {**first, **settings} if first.get(key) != settings.get(key)]
        if differ:
            raise ModelError(
                f"'{bundle.directory}' differs from '{bundles[0].directory}' in "
                f"{', '.join(differ)}: an ensemble joins runs that differ only in their seed"
            )


def ensemble_run(run_dirs: Sequence[Path], out_dir: Path, force: bool = False) -> dict:
    """Write the ensemble of the runs ``run_dirs`` into ``out_dir``; return its description.

    ``out_dir`` must be new, empty or (with ``force``) an earlier run directory.
    """
    from edge_ser.model import count_macs, ensemble_model, save_for_inference

    check_target(out_dir, RUN_OUTPUT, force)
    bundles = [ModelBundle.load(path) for path in run_dirs]
    check_members(bundles)
    model = ensemble_model([bundle.keras_model for bundle in bundles])
    ids = [bundle.model_id for bundle in bundles]
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:10]
    first = bundles[0]
    summary = {
        **{key: value for key, value in first.info.items() if key not in MEMBER_FIELDS},
        "model_id": f"edge-ser-ensemble-{digest}",
        "parameters": int(model.count_params()),
        "macs_per_patch": count_macs(model),
        "validation": None,
        "members": [
            {
                "model_id": bundle.model_id,
                "seed": _seed(bundle),
                "validation_uar": (bundle.info.get("validation") or {}).get("uar"),
            }
            for bundle in bundles
        ],
    }
    with atomic_directory(Path(out_dir), RUN_OUTPUT, force) as tmp:
        save_for_inference(model, tmp / MODEL_FILE)
        for name in (CALIBRATION_FILE, PARITY_FILE):
            shutil.copyfile(first.directory / name, tmp / name)
        (tmp / INFO_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / CARD_FILE).write_text(reports.model_card(summary))
    return summary
