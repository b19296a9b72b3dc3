"""Seed ensembles: ``edge-ser ensemble`` joins real training runs, the model averages their
probabilities, every export format translates its branches, and bad members are refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from model_factory import make_model_dir

from edge_ser.artifacts.formats import FORMATS
from edge_ser.artifacts.manifest import read_manifest
from edge_ser.bundle import ModelBundle
from edge_ser.cli import main
from edge_ser.labels import LabelSet
from edge_ser.model import ModelConfig, count_macs
from edge_ser.train import TrainConfig, train_run

pytestmark = pytest.mark.slow
RECIPE = TrainConfig(epochs=2, crops_per_class=16, batch_size=32, model=ModelConfig(widths=(4, 8)))
VAL_SPEAKERS = ["ravdess:04"]


@pytest.fixture(scope="module")
def runs(emotion_corpus, tmp_path_factory) -> dict[str, Path]:
    """Tiny training runs: seeds 0 and 1 of one recipe, and seed 2 trained for 1 epoch."""
    root = tmp_path_factory.mktemp("ensemble-runs")
    configs = {
        "seed0": RECIPE,
        "seed1": replace(RECIPE, seed=1),
        "other_recipe": replace(RECIPE, seed=2, epochs=1),
    }
    for name, config in configs.items():
        train_run(
            emotion_corpus,
            root / name,
            config=config,
            val_speakers=VAL_SPEAKERS,
            progress=False,
            log=lambda _: None,
        )
    return {name: root / name for name in configs}


@pytest.fixture(scope="module")
def ensemble_dir(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ensemble") / "ensemble"
    assert main(["ensemble", str(runs["seed0"]), str(runs["seed1"]), "--out", str(out)]) == 0
    return out


def test_the_ensemble_outputs_the_mean_of_its_members_probabilities(runs, ensemble_dir):
    members = [ModelBundle.load(runs[name]) for name in ("seed0", "seed1")]
    ensemble = ModelBundle.load(ensemble_dir)
    patches = ensemble.parity_patches()
    mean = np.mean([member.runtime().predict_patches(patches) for member in members], axis=0)
    np.testing.assert_allclose(ensemble.runtime().predict_patches(patches), mean, atol=1e-6)
    info = json.loads((ensemble_dir / "model.json").read_text())
    assert [m["model_id"] for m in info["members"]] == [m.model_id for m in members]
    assert [m["seed"] for m in info["members"]] == [0, 1]
    assert info["parameters"] == sum(m.keras_model.count_params() for m in members)
    assert info["macs_per_patch"] == sum(count_macs(m.keras_model) for m in members)
    assert info["validation"] is None and info["val_speakers"] == VAL_SPEAKERS
    card = (ensemble_dir / "MODEL_CARD.md").read_text()
    assert "Ensemble of 2 compact CNNs" in card and "seeds 0, 1" in card


def test_a_label_set_of_the_ensemble_is_the_mean_of_its_members_reduced(runs, ensemble_dir):
    label_set = LabelSet(
        ModelBundle.load(ensemble_dir).labels, ("neutral", "happy", "sad"), (("calm", "neutral"),)
    )
    members = [ModelBundle.load(runs[name]) for name in ("seed0", "seed1")]
    patches = members[0].parity_patches()
    mean = np.mean(
        [label_set.reduce(member.runtime().predict_patches(patches)) for member in members], axis=0
    )
    reduced = ModelBundle.load(ensemble_dir).runtime(label_set).predict_patches(patches)
    np.testing.assert_allclose(reduced, mean, atol=1e-6)
    np.testing.assert_allclose(reduced.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "labels", [[], ["--labels", "neutral,happy,sad", "--merge", "calm=neutral"]]
)
def test_every_format_of_the_ensemble_passes_verify(ensemble_dir, tmp_path, capsys, labels):
    out = tmp_path / "dist"
    argv = ["export", "--model", str(ensemble_dir), "--out", str(out), "--formats", *FORMATS]
    assert main([*argv, *labels]) == 0
    capsys.readouterr()
    assert main(["verify", str(out), "--model", str(ensemble_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and len(report["artifacts"]) >= len(FORMATS)
    manifest = read_manifest(out)
    assert manifest["model_id"] == ModelBundle.load(ensemble_dir).model_id
    assert len(manifest["labels"]) == (3 if labels else 8)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (["seed0"], "an ensemble needs at least two training runs"),
        (["seed0", "seed0"], "a training run is given twice"),
        (["seed0", "other_recipe"], "differs from"),
        (["seed0", "untrained"], "is not a training run of edge-ser train"),
    ],
)
def test_bad_members_are_one_line_errors_and_write_nothing(
    runs, tmp_path, capsys, members, message
):
    dirs = {**runs, "untrained": make_model_dir(tmp_path / "untrained")}
    out = tmp_path / "ensemble"
    assert main(["ensemble", *(str(dirs[name]) for name in members), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists()
