"""Training: data plumbing, the run directory, determinism, the feature cache and bad input."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from edge_ser import features
from edge_ser.augment import AugmentConfig
from edge_ser.bundle import (
    CALIBRATION_FILE,
    CARD_FILE,
    INFO_FILE,
    MODEL_FILE,
    PARITY_FILE,
    ModelBundle,
)
from edge_ser.cli import main
from edge_ser.corpora import Clip
from edge_ser.errors import DataError, EdgeSerError
from edge_ser.features import FeatureCache
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.model import ModelConfig
from edge_ser.promote import promote
from edge_ser.reference_preprocess import frame_levels_db, params
from edge_ser.reference_preprocess.log_mel import waveform_to_log_mel
from edge_ser.train import (
    CALIBRATION_PATCHES,
    PARITY_PATCHES,
    LabelledClips,
    TrainConfig,
    WeightAverage,
    cross_validate,
    fold_parts,
    load_labelled_clips,
    sample_crops,
    sample_crops_with_sources,
    split_clips,
    train_run,
    trim_silence,
)

SMALL = TrainConfig(
    epochs=2,
    crops_per_class=16,
    batch_size=32,
    model=ModelConfig(widths=(4, 8)),
    augment=AugmentConfig(mixup_alpha=0.4),
)
RUN_FILES = (
    MODEL_FILE,
    INFO_FILE,
    CALIBRATION_FILE,
    PARITY_FILE,
    CARD_FILE,
    "metrics.json",
    "confusion_matrix.png",
    "training_curves.png",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- data plumbing (no training) ----------------------------------------------------------


def _fake_clips(labels_per_clip: list[str], speakers: list[str], lengths: list[int]):
    """LabelledClips over random log-mels (no audio), labels in canonical order."""
    rng = np.random.default_rng(0)
    labels = tuple(label for label in CANONICAL_LABELS if label in labels_per_clip)
    clips = [
        Clip(Path(f"/clips/{i}.wav"), label, speaker, "test")
        for i, (label, speaker) in enumerate(zip(labels_per_clip, speakers, strict=True))
    ]
    log_mels = [rng.standard_normal((n, params.NUM_MEL_BANDS)).astype(np.float32) for n in lengths]
    targets = np.array([labels.index(label) for label in labels_per_clip])
    return LabelledClips(clips, log_mels, targets, labels)


def test_sample_crops_are_class_balanced_windows_of_clips_of_that_label():
    data = _fake_clips(
        ["sad", "happy", "sad", "neutral", "happy"],
        ["a", "a", "b", "b", "c"],
        [96, 130, 200, 97, 150],
    )
    x, y = sample_crops(data, 10, np.random.default_rng(1))
    assert x.shape == (30, params.PATCH_FRAMES, params.NUM_MEL_BANDS) and x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [10, 10, 10])
    for crop, label in zip(x, y, strict=True):
        sources = [
            (i, start)
            for i in np.flatnonzero(data.targets == label)
            for start in range(len(data.log_mels[i]) - params.PATCH_FRAMES + 1)
            if np.array_equal(data.log_mels[i][start : start + params.PATCH_FRAMES], crop)
        ]
        assert len(sources) == 1  # one window of one clip with the crop's label


@pytest.mark.parametrize("rate", [0.5, 1.5])
def test_tempo_crops_span_rate_times_a_patch_resampled_to_one_patch(rate):
    # Each frame holds its own index, so a crop's first column reads off its time axis.
    frames = np.arange(400, dtype=np.float32)[:, np.newaxis].repeat(params.NUM_MEL_BANDS, 1)
    data = _fake_clips(["happy", "sad"], ["a", "b"], [400, 400])
    data.log_mels = [frames, frames]
    x, _, _ = sample_crops_with_sources(data, 5, np.random.default_rng(0), tempo=(rate, rate))
    span = round(params.PATCH_FRAMES * rate) - 1
    for crop in x:
        assert crop[-1, 0] - crop[0, 0] == pytest.approx(span)
        np.testing.assert_allclose(np.diff(crop[:, 0]), span / (params.PATCH_FRAMES - 1), rtol=1e-4)


def test_tempo_crops_of_a_clip_shorter_than_the_span_stretch_the_whole_clip():
    data = _fake_clips(["happy"], ["a"], [100])
    x, _, _ = sample_crops_with_sources(data, 3, np.random.default_rng(0), tempo=(2.0, 2.0))
    for crop in x:  # the first and last frames of the clip, the rest interpolated
        np.testing.assert_allclose(crop[0], data.log_mels[0][0])
        np.testing.assert_allclose(crop[-1], data.log_mels[0][-1])


def _tone_between_silences(before_s: float, tone_s: float, after_s: float) -> np.ndarray:
    """A 300 Hz tone between stretches of faint noise (60 dB below it), as a log-mel."""
    rate = params.SAMPLE_RATE
    rng = np.random.default_rng(0)
    total = round((before_s + tone_s + after_s) * rate)
    waveform = 1e-3 * rng.standard_normal(total) / 3
    start, stop = round(before_s * rate), round((before_s + tone_s) * rate)
    waveform[start:stop] += 0.5 * np.sin(2 * np.pi * 300 * np.arange(stop - start) / rate)
    return waveform_to_log_mel(waveform.astype(np.float32))


def test_trim_silence_keeps_the_frames_from_the_first_to_the_last_loud_one():
    log_mel = _tone_between_silences(1.0, 1.5, 0.8)
    trimmed = trim_silence(log_mel, 30.0)
    # 10 ms frames of 25 ms: the tone touches 150 + 2 frames, give or take the edges.
    assert 148 <= len(trimmed) <= 154
    start = next(i for i in range(len(log_mel)) if np.array_equal(log_mel[i], trimmed[0]))
    assert 97 <= start <= 100
    assert np.array_equal(log_mel[start : start + len(trimmed)], trimmed)


def test_trim_silence_keeps_a_short_utterance_one_patch_long_around_its_speech():
    log_mel = _tone_between_silences(1.0, 0.3, 1.0)
    trimmed = trim_silence(log_mel, 30.0)
    assert len(trimmed) == params.PATCH_FRAMES
    loud = trimmed.max(axis=1) > log_mel.max() - 3  # the tone's frames, all inside
    assert loud.sum() == (log_mel.max(axis=1) > log_mel.max() - 3).sum()


def test_speech_crops_start_only_where_the_window_holds_speech_at_both_ends():
    log_mel = _tone_between_silences(1.0, 1.5, 0.8)  # the tone: frames ~98 to ~250
    data = _fake_clips(["happy"], ["a"], [len(log_mel)])
    data.log_mels = [log_mel]
    (starts,) = data.speech_starts()
    # A kept window has a tone frame among its first and its last 24 frames.
    assert 73 <= starts.min() <= 77 and 176 <= starts.max() <= 180
    assert np.array_equal(starts, np.arange(starts.min(), starts.max() + 1))
    threshold = frame_levels_db(log_mel).max() - 30

    def speech_at_both_ends(crops: np.ndarray) -> np.ndarray:
        loud = frame_levels_db(crops) > threshold
        return loud[:, :24].any(axis=1) & loud[:, -24:].any(axis=1)

    x, _, _ = sample_crops_with_sources(data, 50, np.random.default_rng(0), starts=[starts])
    assert speech_at_both_ends(x).all()
    uniform, _, _ = sample_crops_with_sources(data, 50, np.random.default_rng(0))
    assert not speech_at_both_ends(uniform).all()  # without the starts, silent ends are drawn


def test_trimming_is_off_at_zero_and_only_shortens_clips():
    data = _fake_clips(["happy", "sad"], ["s1", "s2"], [150, 200])
    assert data.with_silence_trimmed(0.0) is data
    trimmed = data.with_silence_trimmed(10.0)
    assert all(len(t) <= len(m) for t, m in zip(trimmed.log_mels, data.log_mels, strict=True))
    assert trimmed.clips == data.clips and np.array_equal(trimmed.targets, data.targets)


def test_split_clips_holds_out_whole_speakers():
    data = _fake_clips(["sad", "happy"] * 3, ["a", "a", "b", "b", "c", "c"], [100] * 6)
    train, val = split_clips(data, ["b"])
    assert train.speakers == ["a", "a", "c", "c"] and val.speakers == ["b", "b"]
    assert [c.path.name for c in val.clips] == ["2.wav", "3.wav"]
    np.testing.assert_array_equal(val.targets, data.targets[[2, 3]])
    assert val.log_mels[0] is data.log_mels[2]
    with pytest.raises(DataError, match="unknown validation speakers: z"):
        split_clips(data, ["b", "z"])
    with pytest.raises(DataError, match="speakers on both sides"):
        split_clips(data, ["a", "b", "c"])


def test_cross_validation_folds_never_train_on_their_test_speakers():
    speakers = [s for s in "abcdefgh" for _ in range(2)]
    data = _fake_clips(["sad", "happy"] * 8, speakers, [100] * 16)
    test = {"c", "d"}
    fit_part, stop_part, test_part = fold_parts(data, test, seed=0, fold=1, early_stopping=False)
    assert stop_part is None and set(test_part.speakers) == test
    assert set(fit_part.speakers) == set("abcdefgh") - test  # every other speaker is fitted
    fit_part, stop_part, test_part = fold_parts(data, test, seed=0, fold=1, early_stopping=True)
    parts = [set(fit_part.speakers), set(stop_part.speakers), set(test_part.speakers)]
    assert all(parts) and set.union(*parts) == set("abcdefgh")
    assert sum(map(len, parts)) == 8  # disjoint
    assert parts[2] == test


def test_load_labelled_clips_maps_present_labels_in_canonical_order(tmp_path, make_emotion_corpus):
    make_emotion_corpus(tmp_path, speakers=(1, 2), labels=("sad", "neutral"), clips_per_label=1)
    data, skipped = load_labelled_clips(tmp_path, progress=False)
    assert data.labels == ("neutral", "sad") and skipped == []
    assert [data.labels[t] for t in data.targets] == [clip.label for clip in data.clips]
    assert sorted(data.speakers) == ["ravdess:01", "ravdess:01", "ravdess:02", "ravdess:02"]
    for clip, log_mel in zip(data.clips, data.log_mels, strict=True):
        np.testing.assert_array_equal(log_mel, features.file_log_mel(clip.path))


# --- a real (tiny) training run -----------------------------------------------------------


@dataclass
class Runs:
    """Two runs with the same seed and feature cache, and how many features each computed."""

    first: Path
    second: Path
    computed: tuple[int, int]
    cache: FeatureCache


@pytest.fixture(scope="module")
def runs(emotion_corpus, tmp_path_factory) -> Runs:
    root = tmp_path_factory.mktemp("train-runs")
    cache = FeatureCache(root / "cache")
    computed = []
    with pytest.MonkeyPatch.context() as patch:
        calls = []
        real = features.file_log_mel

        def counting(path):
            calls.append(path)
            return real(path)

        patch.setattr(features, "file_log_mel", counting)
        for name in ("first", "second"):
            before = len(calls)
            train_run(emotion_corpus, root / name, config=SMALL, cache=cache, progress=False)
            computed.append(len(calls) - before)
    return Runs(root / "first", root / "second", tuple(computed), cache)


def _windows(data: LabelledClips) -> set[bytes]:
    """Every 96-frame window of every clip, rounded to float16 like the stored patches."""
    return {
        log_mel[start : start + params.PATCH_FRAMES].astype(np.float16).tobytes()
        for log_mel in data.log_mels
        for start in range(len(log_mel) - params.PATCH_FRAMES + 1)
    }


@pytest.mark.slow
def test_run_directory_has_every_output(runs):
    for name in RUN_FILES:
        assert (runs.first / name).stat().st_size > 0, name
    for name in ("confusion_matrix.png", "training_curves.png"):
        assert (runs.first / name).read_bytes().startswith(PNG_SIGNATURE)
    bundle = ModelBundle.load(runs.first)  # model.keras in safe mode
    assert bundle.labels == CANONICAL_LABELS
    patch = np.zeros((1, *bundle.keras_model.input_shape[1:]), dtype=np.float32)
    probs = bundle.runtime().predict_patches(patch)
    assert probs.shape == (1, len(CANONICAL_LABELS))
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_metrics_json_describes_a_speaker_independent_run(runs):
    metrics = json.loads((runs.first / "metrics.json").read_text())
    info = json.loads((runs.first / INFO_FILE).read_text())
    assert set(metrics) == {
        "model_id",
        "labels",
        "corpus",
        "data_dir",
        "corpus_labels",
        "corpus_sizes",
        "train_speakers",
        "val_speakers",
        "n_train_clips",
        "n_val_clips",
        "n_skipped",
        "parameters",
        "macs_per_patch",
        "kept_weights",
        "validation",
        "train_clip_accuracy",
        "preprocessor_version",
        "aggregation",
        "config",
        "history",
    }
    assert {k: v for k, v in metrics.items() if k != "history"} == info
    assert metrics["labels"] == list(CANONICAL_LABELS) and metrics["corpus"] == "ravdess"
    assert metrics["corpus_labels"] == {"ravdess": list(CANONICAL_LABELS)}
    assert metrics["corpus_sizes"] == {"ravdess": {"clips": 64, "speakers": 4}}
    train, val = set(metrics["train_speakers"]), set(metrics["val_speakers"])
    assert not train & val and train | val == {f"ravdess:0{i}" for i in range(1, 5)}
    assert metrics["n_train_clips"] == 16 * len(train) and metrics["n_val_clips"] == 16 * len(val)
    assert metrics["config"] == SMALL.to_dict()
    assert metrics["preprocessor_version"] == params.PREPROCESSOR_VERSION
    assert metrics["parameters"] == ModelBundle.load(runs.first).keras_model.count_params()
    history = metrics["history"]
    assert all(len(history[k]) == SMALL.epochs for k in ("loss", "accuracy", "val_uar"))
    # Two epochs, fewer than ``average_last``: both epochs' weights are averaged.
    assert history["kept_epochs"] == [1, SMALL.epochs]
    assert metrics["kept_weights"] == f"weights averaged over epochs 1-{SMALL.epochs}"
    assert metrics["validation"]["n_clips"] == metrics["n_val_clips"]


@pytest.mark.slow
def test_a_run_with_speech_crops_records_the_setting(emotion_corpus, tmp_path):
    config = replace(SMALL, epochs=1, speech_crops=True)
    train_run(emotion_corpus, tmp_path / "run", config=config, progress=False, log=lambda _: None)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["config"]["speech_crops"] is True and len(metrics["history"]["loss"]) == 1


@pytest.mark.slow
def test_early_stopping_keeps_the_best_validation_epoch(emotion_corpus, tmp_path):
    config = replace(SMALL, epochs=4, patience=1, warmup_epochs=1)
    train_run(emotion_corpus, tmp_path / "run", config=config, progress=False, log=lambda _: None)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    history = metrics["history"]
    best, kept = history["kept_epochs"]
    assert best == kept and metrics["kept_weights"] == f"weights of epoch {best}"
    # The kept weights are the best epoch's: the final validation score is that epoch's.
    assert metrics["validation"]["uar"] == pytest.approx(history["val_uar"][best - 1])
    # Validation selects among the last warm-up epoch and the epochs after it, and training
    # stops one epoch (the patience) after the best one unless the epochs run out.
    eligible = history["val_uar"][config.warmup_epochs - 1 :]
    assert metrics["validation"]["uar"] == pytest.approx(max(eligible))
    assert len(history["loss"]) == min(best + config.patience, config.epochs)


@pytest.mark.slow
def test_cross_validate_scores_every_fold_on_unseen_speakers(emotion_corpus):
    summary = cross_validate(
        emotion_corpus, folds=2, config=SMALL, progress=False, log=lambda _: None
    )
    assert summary["folds"] == 2 and summary["n_clips"] == 4 * 16
    for metric in ("accuracy", "uar", "macro_f1"):
        values = summary[metric]["folds"]
        assert len(values) == 2 and all(0.0 <= v <= 1.0 for v in values)
        assert summary[metric]["mean"] == pytest.approx(np.mean(values))
        assert summary[metric]["std"] == pytest.approx(np.std(values))


def test_weight_average_is_the_running_mean_of_every_sample():
    rng = np.random.default_rng(0)
    samples = [[rng.standard_normal((3, 2)), rng.standard_normal(4)] for _ in range(5)]
    average = WeightAverage()
    for weights in samples:
        average.add(weights)
    for i, mean in enumerate(average.weights()):
        assert mean.dtype == np.float32
        np.testing.assert_allclose(mean, np.mean([s[i] for s in samples], axis=0), rtol=1e-6)


@pytest.mark.slow
def test_model_card_states_split_metrics_and_license(runs):
    card = (runs.first / CARD_FILE).read_text()
    info = json.loads((runs.first / INFO_FILE).read_text())
    assert ", ".join(info["train_speakers"]) in card
    assert ", ".join(info["val_speakers"]) in card
    assert f"UAR (unweighted average recall) {info['validation']['uar']:.3f}" in card
    assert "CC BY-NC-SA 4.0" in card  # the RAVDESS naming marks the data as RAVDESS-derived
    assert "each mel band's mean over the patch is subtracted" in card  # the default model


@pytest.mark.slow
def test_promote_installs_the_run_with_cross_validation_and_robustness_figures(runs, tmp_path):
    info = json.loads((runs.first / INFO_FILE).read_text())
    conditions = {
        "clean": {"accuracy": 0.5, "uar": 0.625},
        "telephone band": {"accuracy": 0.25, "uar": 0.375},
    }
    report = {"n_clips": 9, "speakers": ["test:s1"], "results": {info["model_id"]: conditions}}
    (tmp_path / "robustness.json").write_text(json.dumps(report))
    cv = {
        "folds": 3,
        "n_clips": 27,
        "accuracy": {"mean": 0.4, "std": 0.1, "folds": [0.3, 0.4, 0.5]},
    }
    cv["uar"] = {"mean": 0.45, "std": 0.05, "folds": [0.4, 0.45, 0.5]}
    cv["macro_f1"] = {"mean": 0.42, "std": 0.05, "folds": [0.4, 0.4, 0.46]}
    target = tmp_path / "bundled"
    target.mkdir()
    promote(runs.first, cv, target, tmp_path / "robustness.json")
    bundle = ModelBundle.load(target)
    assert bundle.model_id == info["model_id"]
    assert json.loads((target / INFO_FILE).read_text())["robustness"]["conditions"] == conditions
    card = (target / CARD_FILE).read_text()
    assert "| telephone band | 0.375 | 0.250 |" in card and "UAR 0.450 +- 0.050" in card
    report["results"] = {"another-model": conditions}
    (tmp_path / "robustness.json").write_text(json.dumps(report))
    with pytest.raises(EdgeSerError, match="no results for model"):
        promote(runs.first, None, target, tmp_path / "robustness.json")


@pytest.mark.slow
def test_calibration_and_parity_patches_come_from_the_right_speakers(runs, emotion_corpus):
    info = json.loads((runs.first / INFO_FILE).read_text())
    data, _ = load_labelled_clips(emotion_corpus, cache=runs.cache, progress=False)
    train, val = split_clips(data, info["val_speakers"])
    expected = {CALIBRATION_FILE: (CALIBRATION_PATCHES, train), PARITY_FILE: (PARITY_PATCHES, val)}
    for name, (count, source) in expected.items():
        patches = np.load(runs.first / name)
        assert patches.shape == (count, params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1), name
        assert patches.dtype == np.float16
        windows = _windows(source)
        assert all(p[..., 0].tobytes() in windows for p in patches), name


@pytest.mark.slow
def test_same_seed_gives_the_same_weights(runs):
    first = ModelBundle.load(runs.first).keras_model.get_weights()
    second = ModelBundle.load(runs.second).keras_model.get_weights()
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (runs.first / "metrics.json").read_text() == (runs.second / "metrics.json").read_text()


@pytest.mark.slow
def test_second_run_reads_features_from_the_cache(runs):
    assert runs.computed == (len(CANONICAL_LABELS) * 2 * 4, 0)
    assert len(list(runs.cache.directory.glob("*.npy"))) == runs.computed[0]


@pytest.mark.slow
def test_evaluating_the_run_on_its_validation_speakers_reproduces_its_score(
    runs, emotion_corpus, tmp_path, capsys
):
    info = json.loads((runs.first / INFO_FILE).read_text())
    val_dir = tmp_path / "val"
    for speaker in info["val_speakers"]:
        actor = f"Actor_{speaker.split(':')[1]}"
        (val_dir / actor).mkdir(parents=True)
        for clip in sorted((emotion_corpus / actor).iterdir()):
            (val_dir / actor / clip.name).symlink_to(clip)
    assert main(["evaluate", str(val_dir), "--model", str(runs.first), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["confusion"] == info["validation"]["confusion"]
    assert report["uar"] == pytest.approx(info["validation"]["uar"])


# --- bad input is rejected before any training --------------------------------------------


def _empty(root: Path, make) -> list[str]:
    root.mkdir()
    return []


def _one_speaker(root: Path, make) -> list[str]:
    make(root, speakers=(1,), labels=("neutral", "sad"), clips_per_label=1, seconds=0.5)
    return []


def _label_only_in_validation(root: Path, make) -> list[str]:
    make(root, speakers=(1, 2, 3), labels=("neutral", "happy"), clips_per_label=1, seconds=0.5)
    make(root, speakers=(3,), labels=("sad",), clips_per_label=1, seconds=0.5)
    return ["--val-speakers", "ravdess:03"]


def _label_only_in_training(root: Path, make) -> list[str]:
    make(root, speakers=(1, 2, 3), labels=("neutral", "happy"), clips_per_label=1, seconds=0.5)
    make(root, speakers=(1,), labels=("sad",), clips_per_label=1, seconds=0.5)
    return ["--val-speakers", "ravdess:02"]


def _bare_val_speaker(root: Path, make) -> list[str]:
    make(root, speakers=(1, 2), labels=("neutral", "sad"), clips_per_label=1, seconds=0.5)
    return ["--val-speakers", "02"]


def _unknown_val_speaker(root: Path, make) -> list[str]:
    make(root, speakers=(1, 2), labels=("neutral", "sad"), clips_per_label=1, seconds=0.5)
    return ["--val-speakers", "ravdess:01", "ravdess:99"]


@pytest.mark.parametrize(
    ("make_data", "message"),
    [
        (_empty, "no audio files"),
        (_one_speaker, "has a single speaker: a speaker-independent split is impossible"),
        (_label_only_in_validation, "the training speakers have no clips labelled sad"),
        (_label_only_in_training, "the validation speakers have no clips labelled sad"),
        (_unknown_val_speaker, "unknown validation speakers: ravdess:99"),
        (_bare_val_speaker, "unknown validation speakers: 02 (did you mean ravdess:02?)"),
    ],
)
def test_cli_rejects_untrainable_data_before_training(
    make_data, message, tmp_path, make_emotion_corpus, monkeypatch, capsys
):
    import edge_ser.model

    def no_training(*args, **kwargs):
        raise AssertionError("a model was built for data that cannot be trained on")

    monkeypatch.setattr(edge_ser.model, "build_model", no_training)
    data_dir, out = tmp_path / "data", tmp_path / "run"
    extra = make_data(data_dir, make_emotion_corpus)
    assert main(["train", str(data_dir), "--out", str(out), *extra]) == 2
    stderr = capsys.readouterr().err.strip().splitlines()
    assert stderr[-1].startswith("error: ") and message in stderr[-1]
    assert not out.exists()


def test_training_curves_of_one_epoch_show_their_points():
    from edge_ser.reports import history_figure

    history = {"loss": [1.2], "accuracy": [0.4], "val_uar": [0.3], "val_accuracy": [0.35]}
    figure = history_figure({**history, "kept_epochs": [1, 1]})
    curves = [line for axes in figure.axes for line in axes.lines if len(line.get_xdata()) == 1]
    assert len(curves) == 4
    assert all(line.get_marker() not in (None, "", "None", " ") for line in curves)
