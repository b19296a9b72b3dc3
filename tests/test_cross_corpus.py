"""Several corpora at once: loading, corpus-balanced crops, the restricted and partial losses,
training on two directories, leave-one-corpus-out, multi-directory evaluation and
``benchmarks/cross_corpus.py``, on small generated corpora (RAVDESS- and EMO-DB-named)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from audio_factory import write_audio
from conftest import emotion_signal, load_benchmark, write_emotion_corpus

from edge_ser import corpora
from edge_ser.bundle import CARD_FILE, METRICS_FILE, ModelBundle
from edge_ser.cli import main
from edge_ser.errors import DataError
from edge_ser.model import (
    GradientReversal,
    ModelConfig,
    PartialCrossentropy,
    RestrictedCrossentropy,
    partial_accuracy,
)
from edge_ser.promote import promote
from edge_ser.reports import cross_corpus_rows
from edge_ser.train import (
    LabelledClips,
    TrainConfig,
    fit,
    load_labelled_clips,
    sample_crops_with_sources,
    train_run,
)

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "cross_corpus.py"
EMODB_LETTERS = {"angry": "W", "disgust": "E", "fearful": "A", "happy": "F", "sad": "T",
                 "neutral": "N"}  # fmt: skip


def write_emodb_corpus(root: Path, speakers=(11, 12, 13, 14), takes: int = 2) -> None:
    """EMO-DB-named clips (``11a01Wa.wav``) of ``emotion_signal``, six labels, plus boredom."""
    for speaker in speakers:
        for label, letter in EMODB_LETTERS.items():
            for take in range(takes):
                signal = emotion_signal(label, speaker, take)
                write_audio(root / f"{speaker:02d}a0{take + 1}{letter}a.wav", signal)
        write_audio(root / f"{speaker:02d}a01La.wav", emotion_signal("calm", speaker, 0))


@pytest.fixture(scope="module")
def two_corpora(tmp_path_factory) -> tuple[Path, Path]:
    """RAVDESS names, 4 speakers x 8 labels x 2 clips; EMO-DB names, 4 speakers x 6 x 2."""
    ravdess = tmp_path_factory.mktemp("ravdess")
    write_emotion_corpus(ravdess)
    emodb = tmp_path_factory.mktemp("emodb")
    write_emodb_corpus(emodb)
    return ravdess, emodb


def test_each_directory_is_read_with_its_own_adapter_and_speakers_are_namespaced(
    two_corpora, tmp_path
):
    ravdess, emodb = two_corpora
    data, skipped = load_labelled_clips([ravdess, emodb], progress=False)
    assert data.corpora == ["emodb", "ravdess"]
    assert data.labels == ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                           "surprised")  # fmt: skip
    assert data.corpus_labels["emodb"] == ("neutral", "happy", "sad", "angry", "fearful", "disgust")
    assert len(data.corpus_labels["ravdess"]) == 8
    emodb_speakers = {s for s in data.speakers if s.startswith("emodb:")}
    assert emodb_speakers == {"emodb:11", "emodb:12", "emodb:13", "emodb:14"}
    assert [s.reason for s in skipped] == ["EMO-DB emotion L (boredom) has no canonical label"] * 4
    mask = data.label_mask()
    emodb_rows = [i for i, c in enumerate(data.clips) if c.corpus == "emodb"]
    assert not mask[emodb_rows][:, [1, 7]].any() and mask[emodb_rows][:, [0, 2, 3]].all()
    # Two folders corpora: unique names, speakers namespaced, never shared.
    for name in ("a", "b"):
        write_audio(tmp_path / name / "sad" / "anna" / "x.wav", emotion_signal("sad", 1, 0))
    scans = corpora.discover_all([tmp_path / "a", tmp_path / "b"])
    assert [s.corpus for s in scans] == ["folders", "folders-2"]
    assert [s.clips[0].speaker for s in scans] == ["folders:anna", "folders-2:anna"]


def test_corpus_arguments_must_match_the_directories(two_corpora):
    ravdess, emodb = two_corpora
    with pytest.raises(DataError, match="once per directory"):
        corpora.discover_all([ravdess, emodb], ["ravdess", "emodb", "tess"])
    with pytest.raises(DataError, match="more than once"):
        corpora.discover_all([ravdess, ravdess])
    scans = corpora.discover_all([ravdess, emodb], ["ravdess", "emodb"])
    assert [s.auto_detected for s in scans] == [False, False]


def test_crops_are_balanced_over_corpora_within_each_label(two_corpora):
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    x, y, sources = sample_crops_with_sources(data, 10, np.random.default_rng(0), "corpus")
    names = np.array([data.clips[i].corpus for i in sources])
    assert np.bincount(y).tolist() == [10] * 8
    happy, calm = data.labels.index("happy"), data.labels.index("calm")
    assert (names[y == happy] == "emodb").sum() == 5  # split evenly between the two corpora
    assert (names[y == calm] == "ravdess").all()  # only RAVDESS has calm
    assert all(data.clips[s].label == data.labels[t] for s, t in zip(sources, y, strict=True))
    # With one EMO-DB speaker left, "label" draws from all of a label's clips, so the larger
    # corpus dominates (8 of 10 happy clips are RAVDESS); "sqrt" weighs the corpora by the
    # square roots of their clip counts (sqrt 8 against sqrt 2: 2 to 1); "corpus" still splits
    # evenly.
    dropped = {"emodb:12", "emodb:13", "emodb:14"}
    few = data.subset([i for i, c in enumerate(data.clips) if c.speaker not in dropped])
    assert sum(c.corpus == "emodb" and c.label == "happy" for c in few.clips) == 2
    for balance, share in (("label", 0.8), ("sqrt", 2 / 3), ("corpus", 0.5)):
        _, y, sources = sample_crops_with_sources(few, 400, np.random.default_rng(0), balance)
        names = np.array([few.clips[i].corpus for i in sources])
        assert (names[y == happy] == "ravdess").mean() == pytest.approx(share, abs=0.06)


def test_pair_balance_gives_every_corpus_and_label_the_same_crops(two_corpora):
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    _, y, sources = sample_crops_with_sources(data, 10, np.random.default_rng(0), "pair")
    names = np.array([data.clips[i].corpus for i in sources])
    for label in data.labels:
        for corpus in data.corpora:
            drawn = np.sum((y == data.labels.index(label)) & (names == corpus))
            assert drawn == (5 if label in data.corpus_labels[corpus] else 0), (label, corpus)
    assert all(data.clips[s].label == data.labels[t] for s, t in zip(sources, y, strict=True))
    # One corpus: every label gets all its crops, as with the other modes.
    alone = data.subset([i for i, c in enumerate(data.clips) if c.corpus == "ravdess"])
    _, y, _ = sample_crops_with_sources(alone, 10, np.random.default_rng(0), "pair")
    assert np.bincount(y).tolist() == [10] * 8


@pytest.mark.slow
def test_the_learning_rate_decays_over_the_crops_pair_balance_draws(two_corpora):
    # "pair" draws fewer crops per epoch than labels x crops_per_class (calm and surprised
    # get half), so the cosine schedule must span the batches actually run, or it ends early.
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    config = TrainConfig(
        epochs=2, crops_per_class=8, batch_size=8, balance="pair", model=ModelConfig(widths=(4, 8))
    )
    model, _ = fit(data, None, config, log=lambda _: None, progress=False)
    batches = int(model.optimizer.iterations)
    assert batches == 2 * (6 * 8 + 2 * 4) // 8  # 7 batches per epoch
    # The last batch ran at the schedule's floor (5% of the peak), not part-way down.
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05 * config.learning_rate)


def test_restricted_loss_ignores_labels_the_corpus_lacks():
    probs = np.array([[0.2, 0.5, 0.3], [0.2, 0.5, 0.3]], dtype=np.float32)
    one_hot = np.array([[1, 0, 0], [1, 0, 0]], dtype=np.float32)
    mask = np.array([[1, 0, 1], [1, 1, 1]], dtype=np.float32)
    targets = np.concatenate([one_hot, mask], 1)
    loss = np.asarray(RestrictedCrossentropy(0.0).call(targets, probs))
    # Row 1: softmax over labels 0 and 2 only = 0.2 / 0.5; row 2: plain cross-entropy.
    np.testing.assert_allclose(loss, [-np.log(0.4), -np.log(0.2)], rtol=1e-5)
    smoothed = np.asarray(RestrictedCrossentropy(0.1).call(targets, probs))
    np.testing.assert_allclose(smoothed[0], -(0.95 * np.log(0.4) + 0.05 * np.log(0.6)), rtol=1e-5)


def test_partial_loss_scores_a_label_set_on_its_summed_probability():
    probs = np.array([[0.2, 0.5, 0.3], [0.2, 0.5, 0.3]], dtype=np.float32)
    targets = np.array([[1, 1, 0], [1, 0, 0]], dtype=np.float32)
    loss = np.asarray(PartialCrossentropy(0.0).call(targets, probs))
    # Row 1: either of labels 0 and 1 is right, p = 0.7; row 2: plain cross-entropy.
    np.testing.assert_allclose(loss, [-np.log(0.7), -np.log(0.2)], rtol=1e-5)
    smoothed = np.asarray(PartialCrossentropy(0.1).call(targets, probs))
    uniform = -np.log(probs[0]).mean()
    np.testing.assert_allclose(smoothed[0], 0.9 * -np.log(0.7) + 0.1 * uniform, rtol=1e-5)
    # With one label per row it is Keras's categorical cross-entropy, smoothing included.
    keras_loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1, reduction=None)
    np.testing.assert_allclose(smoothed[1], np.asarray(keras_loss(targets, probs))[1], rtol=1e-5)
    hits = np.asarray(partial_accuracy(targets, np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])))
    assert hits.tolist() == [1.0, 0.0]


def test_partial_targets_let_a_corpus_without_calm_file_calm_under_neutral(two_corpora):
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    sets = data.target_sets()
    neutral, calm = data.labels.index("neutral"), data.labels.index("calm")
    for clip, row, label in zip(data.clips, sets, data.targets, strict=True):
        expected = np.eye(len(data.labels))[label]
        if clip.corpus == "emodb" and label == neutral:
            expected[calm] = 1  # EMO-DB has no calm: its neutral clips are neutral or calm
        np.testing.assert_array_equal(row, expected)
    assert sets[:, calm].sum() > sum(c.label == "calm" for c in data.clips)


@pytest.mark.slow
def test_train_and_leave_one_corpus_out_on_two_directories(two_corpora, tmp_path, capsys):
    ravdess, emodb = two_corpora
    small = ["--epochs", "2", "--seed", "0"]
    out = tmp_path / "run"
    argv = ["train", str(ravdess), str(emodb), "--out", str(out), "--loss", "restricted", *small]
    assert main(argv) == 0
    info = json.loads((out / "model.json").read_text())
    assert info["corpus"] == "emodb+ravdess" and info["config"]["loss"] == "restricted"
    assert {s.split(":")[0] for s in info["val_speakers"]} == {"emodb", "ravdess"}
    capsys.readouterr()
    argv = ["cv", str(ravdess), str(emodb), "--by", "corpus", "--json", *small]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["by"] == "corpus" and summary["folds"] == 2
    first, second = summary["fold_reports"]  # test emodb, then test ravdess
    assert set(first["per_corpus"]) == {"emodb"} and len(first["labels"]) == 8
    assert set(second["per_corpus"]) == {"ravdess"} and len(second["labels"]) == 6
    assert second["n_clips"] == 4 * 6 * 2  # RAVDESS calm and surprised: unknown to the model
    for report in summary["fold_reports"]:
        assert report["restricted"]["uar"] >= 0 and "collapse" in report
    assert summary["uar_restricted"]["folds"] == [r["restricted"]["uar"] for r in (first, second)]
    # evaluate on both directories: pooled, per corpus, strict and restricted.
    argv = ["evaluate", str(ravdess), str(emodb), "--model", str(out), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["per_corpus"]) == {"emodb", "ravdess"} and report["corpus"] == "ravdess+emodb"
    assert report["n_clips"] == 4 * 16 + 4 * 12
    assert main(["evaluate", str(ravdess), str(emodb), "--model", str(out)]) == 0
    text = capsys.readouterr().out
    assert "restricted to the labels present" in text and "\nemodb:\n" in text


@pytest.mark.slow
def test_train_with_the_partial_loss_on_two_directories(two_corpora, tmp_path):
    out = tmp_path / "run"
    argv = ["train", *map(str, two_corpora), "--out", str(out), "--loss", "partial"]
    assert main([*argv, "--epochs", "1", "--seed", "0"]) == 0
    assert json.loads((out / "model.json").read_text())["config"]["loss"] == "partial"
    history = json.loads((out / METRICS_FILE).read_text())["history"]
    assert 0 < history["accuracy"][0] <= 1 and np.isfinite(history["loss"][0])


def test_gradient_reversal_passes_values_and_reverses_gradients():
    import tensorflow as tf

    layer = GradientReversal()
    layer.strength.assign(0.4)
    x = tf.Variable([[1.0, -2.0, 3.0]])
    with tf.GradientTape() as tape:
        y = layer(x)
        total = tf.reduce_sum(y * [[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(y.numpy(), x.numpy())
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), [[-0.4, -0.8, -1.2]], rtol=1e-6)


@pytest.mark.slow
def test_corpus_adversary_trains_through_the_shared_layers_and_is_left_behind(two_corpora):
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    tiny = TrainConfig(epochs=2, crops_per_class=8, batch_size=16, model=ModelConfig(widths=(4, 8)))
    plain, _ = fit(data, None, tiny, log=lambda _: None, progress=False)
    adversarial = TrainConfig(**{**tiny.__dict__, "corpus_adversary": 1.0})
    model, history = fit(data, None, adversarial, log=lambda _: None, progress=False)
    assert len(history["corpus_accuracy"]) == 2 and 0 <= min(history["corpus_accuracy"]) <= 1
    assert [layer.name for layer in model.layers] == [layer.name for layer in plain.layers]
    assert model.output_shape == (None, len(data.labels))
    # The same crops and draws: only the reversed corpus gradient (zero in epoch 1, then
    # 2 / (1 + e^-5) - 1 of the strength) can make the weights differ.
    assert any(
        not np.allclose(a, b) for a, b in zip(model.get_weights(), plain.get_weights(), strict=True)
    )
    # One corpus: nothing to tell apart, so the run is the plain one.
    ravdess = data.subset([i for i, c in enumerate(data.clips) if c.corpus == "ravdess"])
    alone, _ = fit(ravdess, None, tiny, log=lambda _: None, progress=False)
    alone_adversarial, history = fit(ravdess, None, adversarial, log=lambda _: None, progress=False)
    assert "corpus_accuracy" not in history
    for a, b in zip(alone.get_weights(), alone_adversarial.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def cross_corpus_benchmark():
    return load_benchmark("cross_corpus")


def test_cross_corpus_benchmark_scores_every_protocol(
    cross_corpus_benchmark, two_corpora, tmp_path
):
    ravdess, emodb = two_corpora
    json_path, markdown_path = tmp_path / "cc.json", tmp_path / "cc.md"
    argv = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--folds", "2", "--protocols"]
    argv += ["ravdess->emodb", "emodb->ravdess", "ravdess-cv", "emodb-cv", "joint-cv"]
    argv += ["--methods", "mfcc-svm", "summary-mlp", "--json", str(json_path)]
    argv += ["--markdown", str(markdown_path)]
    assert cross_corpus_benchmark.main(argv) == 0
    report = json.loads(json_path.read_text())
    for row in ("mfcc-svm", "summary-mlp"):
        result = report["results"][row]
        assert set(result) == {
            "ravdess->emodb",
            "emodb->ravdess",
            "ravdess-cv",
            "emodb-cv",
            "joint-cv",
        }
        # Joint folds test speakers of both corpora and are scored per corpus.
        assert set(result["joint-cv"]) == {"folds", "emodb", "ravdess"}
        assert set(result["joint-cv"]["folds"][0]["per_corpus"]) == {"emodb", "ravdess"}
        assert len(result["ravdess-cv"]["folds"]) == 2
        # The generated labels differ in pitch and spectral peak: far above chance.
        assert result["ravdess-cv"]["all"]["uar"]["mean"] > 0.5
        to_emodb = result["ravdess->emodb"]["folds"][0]
        assert to_emodb["n_clips"] == 4 * 12
        assert to_emodb["uar_restricted"] >= to_emodb["uar"] - 1e-9
        assert result["emodb->ravdess"]["folds"][0]["n_clips"] == 4 * 12  # six shared labels
    markdown = markdown_path.read_text()
    assert "ravdess->emodb" in markdown and "Reproduce:" in markdown


def test_first_fold_runs_the_rest_of_a_screen_as_the_full_run_would(
    cross_corpus_benchmark, two_corpora, tmp_path, capsys
):
    ravdess, emodb = two_corpora
    corpora = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--methods", "mfcc-svm"]
    argv = [*corpora, "--folds", "3", "--protocols", "ravdess-cv"]
    reports = []
    for extra in ([], ["--first-fold", "2"]):
        json_path = tmp_path / f"cc{len(reports)}.json"
        assert cross_corpus_benchmark.main([*argv, *extra, "--json", str(json_path)]) == 0
        reports.append(json.loads(json_path.read_text()))
    full, rest = (r["results"]["mfcc-svm"]["ravdess-cv"]["folds"] for r in reports)
    assert len(full) == 3 and rest == full[1:]
    assert "mean over folds 2-3" in capsys.readouterr().out
    # Past the last fold, or on a one-fold protocol: a one-line error.
    assert cross_corpus_benchmark.main([*argv, "--first-fold", "4"]) == 2
    loco = [*corpora, "--protocols", "ravdess->emodb", "--first-fold", "2"]
    assert cross_corpus_benchmark.main(loco) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["error", "error"], errors


def test_combine_joins_fold_ranges_into_the_whole_run(
    cross_corpus_benchmark, two_corpora, tmp_path, capsys
):
    ravdess, emodb = two_corpora
    argv = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--methods", "mfcc-svm"]
    argv += ["--folds", "3", "--protocols", "ravdess-cv", "joint-cv"]
    paths = {}
    for name, extra in [
        ("full", []),
        ("head", ["--max-folds", "1"]),
        ("rest", ["--first-fold", "2"]),
    ]:
        paths[name] = tmp_path / f"{name}.json"
        assert cross_corpus_benchmark.main([*argv, *extra, "--json", str(paths[name])]) == 0
    joined_path = tmp_path / "joined.json"
    combine = ["--combine", str(paths["rest"]), str(paths["head"]), "--json", str(joined_path)]
    assert cross_corpus_benchmark.main([*combine, "--markdown", str(tmp_path / "j.md")]) == 0
    full, joined = (json.loads(p.read_text()) for p in (paths["full"], joined_path))
    assert joined["results"] == full["results"]
    assert joined["max_folds"] is None and joined["first_fold"] == 1
    assert "`head.json`, `rest.json`" in (tmp_path / "j.md").read_text()
    # A gap, an overlap or another run's settings: a one-line error.
    capsys.readouterr()
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(paths["rest"].read_text()), "seed": 1}))
    for parts in ([paths["rest"]], [paths["head"], paths["full"]], [paths["head"], other]):
        assert cross_corpus_benchmark.main(["--combine", *map(str, parts)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["error"] * 3, errors


def test_ensemble_scores_the_mean_of_its_members_clip_probabilities(
    cross_corpus_benchmark, two_corpora, tmp_path, capsys
):
    ravdess, emodb = two_corpora
    argv = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--methods", "mfcc-svm"]
    argv += ["--folds", "2", "--protocols", "joint-cv", "--keep-scores"]

    def run(name: str, *extra: str) -> Path:
        path = tmp_path / f"{name}.json"
        assert cross_corpus_benchmark.main([*argv, *extra, "--json", str(path)]) == 0
        return path

    seed0 = run("seed0", "--set", "seed=0")
    # The second member is joined from two fold ranges: --combine keeps the clip scores.
    parts = [
        run("head", "--set", "seed=1", "--max-folds", "1"),
        run("rest", "--set", "seed=1", "--first-fold", "2"),
    ]
    seed1 = tmp_path / "seed1.json"
    assert cross_corpus_benchmark.main(["--combine", *map(str, parts), "--json", str(seed1)]) == 0
    # The SVM gives both seeds the same scores: make the second member disagree.
    member = json.loads(seed1.read_text())
    rng = np.random.default_rng(0)
    for fold in member["clip_scores"]["mfcc-svm"]["joint-cv"]:
        fold["probs"] = rng.dirichlet(np.ones(len(fold["labels"])), len(fold["clips"])).tolist()
    seed1.write_text(json.dumps(member))
    joined = tmp_path / "ensemble.json"
    markdown = tmp_path / "ensemble.md"
    ensemble = ["--ensemble", str(seed0), str(seed1), "--json", str(joined)]
    assert cross_corpus_benchmark.main([*ensemble, "--markdown", str(markdown)]) == 0
    report = json.loads(joined.read_text())
    members = [
        json.loads(p.read_text())["clip_scores"]["mfcc-svm"]["joint-cv"] for p in (seed0, seed1)
    ]
    for number, fold in enumerate(report["results"]["mfcc-svm"]["joint-cv"]["folds"]):
        a, b = (m[number] for m in members)
        mean = (np.asarray(a["probs"]) + np.asarray(b["probs"])) / 2
        targets = [a["labels"].index(clip[1]) for clip in a["clips"]]
        confusion = np.zeros((len(a["labels"]),) * 2, dtype=int)
        np.add.at(confusion, (targets, mean.argmax(axis=1)), 1)
        assert fold["confusion"] == confusion.tolist()
    assert [m["model_seed"] for m in report["ensemble_of"]] == [0, 1]
    assert "--ensemble seed0.json seed1.json`" in markdown.read_text()
    # A member without scores, a repeated seed or another run's folds: a one-line error.
    capsys.readouterr()
    bare = json.loads(seed0.read_text())
    bare.pop("clip_scores")
    other = {**json.loads(seed1.read_text()), "folds": 3}
    for name, content in (("bare", bare), ("other", other)):
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    for pair in (["bare", "seed1"], ["seed0", "seed0"], ["seed0", "other"]):
        assert (
            cross_corpus_benchmark.main(
                ["--ensemble", *(str(tmp_path / f"{n}.json") for n in pair)]
            )
            == 2
        )
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["error"] * 3, errors


def test_the_reproduce_line_gives_the_conv1d_epochs(cross_corpus_benchmark, two_corpora, tmp_path):
    ravdess, emodb = two_corpora
    markdown_path = tmp_path / "cc.md"
    argv = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--folds", "2", "--protocols"]
    argv += ["ravdess-cv", "--methods", "mfcc-conv1d", "--conv1d-epochs", "2"]
    assert cross_corpus_benchmark.main([*argv, "--markdown", str(markdown_path)]) == 0
    reproduce = markdown_path.read_text().split("Reproduce: `")[1].split("`")[0]
    assert "--methods mfcc-conv1d" in reproduce and "--conv1d-epochs 2" in reproduce


@pytest.mark.slow
def test_a_run_on_every_speaker_is_promoted_with_its_figures_across_corpora(
    cross_corpus_benchmark, two_corpora, tmp_path
):
    ravdess, emodb = two_corpora
    tiny = TrainConfig(epochs=1, crops_per_class=8, batch_size=32, model=ModelConfig(widths=(4, 8)))
    run = tmp_path / "run"
    summary = train_run([ravdess, emodb], run, config=tiny, val_speakers=[], progress=False)
    assert summary["validation"] is None and summary["val_speakers"] == []
    assert len(summary["train_speakers"]) == 8  # every speaker of both corpora
    assert summary["corpus_sizes"] == {
        "emodb": {"clips": 4 * 12, "speakers": 4},
        "ravdess": {"clips": 4 * 16, "speakers": 4},
    }
    json_path = tmp_path / "cc.json"
    argv = ["--ravdess", str(ravdess), "--emodb", str(emodb), "--folds", "2", "--protocols"]
    argv += ["ravdess->emodb", "joint-cv", "--methods", "edge-ser", "--epochs", "1"]
    argv += ["--set", "model.widths=4,8", "--set", "crops_per_class=8", "--json", str(json_path)]
    assert cross_corpus_benchmark.main(argv) == 0
    target = tmp_path / "bundled"
    target.mkdir()
    promote(run, target=target, cross_corpus_paths=[json_path])
    card = (target / CARD_FILE).read_text()
    assert "no speaker was held out" in card and "## Validation" not in card
    assert "| ravdess |" in card and "| emodb |" in card  # each corpus with its size
    assert "CC BY-NC-SA 4.0" in card and "Burkhardt" in card  # each corpus's license
    results = json.loads(json_path.read_text())["results"]
    # The same models under the level-only silence rule are scored beside, not on the card.
    assert sum("level-only silence rule" in name for name in results) == 2
    for row, column in (("float32", 2), ("int8", 3)):
        figures = next(r for name, r in results.items() if row in name)
        cells = {
            "trained on all of ravdess, tested on emodb": figures["ravdess->emodb"]["all"],
            "2-fold leave-speakers-out (trained on both corpora), scored on emodb": figures[
                "joint-cv"
            ]["emodb"],
        }
        for protocol, cell in cells.items():
            line = next(line for line in card.splitlines() if line.startswith(f"| {protocol} |"))
            expected = f"{cell['uar']['mean']:.3f} / {cell['uar_restricted']['mean']:.3f}"
            assert line.split(" | ")[column] == expected, (row, protocol)
    rows = cross_corpus_rows(json.loads(json_path.read_text()))
    collapsed = sorted({label for row in rows for label in row["collapse"]})
    if collapsed:  # the card names every label over-predicted in any row
        assert f"Over-predicted in these measurements: {', '.join(collapsed)}." in card
    else:
        assert "Over-predicted" not in card
    assert ModelBundle.load(target).model_id == summary["model_id"]


def test_excluded_labels_leave_both_corpora_and_their_label_sets(
    cross_corpus_benchmark, two_corpora
):
    data, _ = load_labelled_clips(list(two_corpora), ["ravdess", "emodb"], progress=False)
    kept = cross_corpus_benchmark.without_labels(data, ["calm", "angry"])
    assert "calm" not in kept.labels and "angry" not in kept.labels
    assert {c.label for c in kept.clips} == set(kept.labels)
    assert len(kept.clips) == sum(c.label not in ("calm", "angry") for c in data.clips)
    assert [kept.labels[t] for t in kept.targets] == [c.label for c in kept.clips]
    for name, labels in kept.corpus_labels.items():
        assert list(labels) == [x for x in data.corpus_labels[name] if x not in ("calm", "angry")]


def test_cross_corpus_benchmark_refuses_an_unknown_setting(cross_corpus_benchmark, capsys):
    assert cross_corpus_benchmark.main(["--methods", "edge-ser", "--set", "nope=1"]) == 2
    assert capsys.readouterr().err.strip() == "error: --set: TrainConfig has no field 'nope'"


def test_labelled_clips_keep_corpus_labels_in_subsets(two_corpora):
    data, _ = load_labelled_clips(list(two_corpora), progress=False)
    part = data.subset([i for i, c in enumerate(data.clips) if c.corpus == "emodb"][:3])
    assert isinstance(part, LabelledClips) and part.corpus_labels == data.corpus_labels
    reduced = part.with_present_labels()
    assert set(reduced.labels) == {c.label for c in part.clips}


def test_egemaps_functionals_run_beside_tensorflow(tmp_path):
    pytest.importorskip("opensmile", reason="opensmile not installed (pip install -e .[bench])")
    sys.path.insert(0, str(SCRIPT.parent))
    import egemaps
    import tensorflow  # noqa: F401  (openSMILE in this process would crash beside it)

    paths = [tmp_path / f"{i}.wav" for i in range(2)]
    for i, path in enumerate(paths):
        write_audio(path, emotion_signal(("sad", "angry")[i], 1, 0))
    features = egemaps.functionals(paths)
    assert features.shape == (2, 88) and np.isfinite(features).all()
    assert not np.allclose(features[0], features[1])


def test_corpus_differences_measure_silence_and_level_of_a_constructed_clip():
    sys.path.insert(0, str(SCRIPT.parent))
    import corpus_differences as cd

    from edge_ser.reference_preprocess import params, waveform_to_padded_log_mel

    sr = params.SAMPLE_RATE
    t = np.arange(sr) / sr
    speech = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    # 0.5 s of silence, 1 s of tone, 1 s of silence (a faint noise floor).
    noise = 1e-5 * np.random.default_rng(0).standard_normal(int(2.5 * sr))
    wave = noise.copy()
    wave[sr // 2 : sr // 2 + sr] += speech
    log_mel = waveform_to_padded_log_mel(wave.astype(np.float32))
    octaves = np.linspace(-3, 3, params.NUM_MEL_BANDS)
    m = cd.clip_measures(log_mel, octaves)
    assert m["duration_s"] == pytest.approx(2.5, abs=0.05)
    assert m["leading_silence_s"] == pytest.approx(0.5, abs=0.05)
    assert m["trailing_silence_s"] == pytest.approx(1.0, abs=0.05)
    assert m["silence_share"] == pytest.approx(0.6, abs=0.05)
    assert m["noise_floor_db"] > 60  # the floor is far below the tone
