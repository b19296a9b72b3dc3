"""Clip aggregation, ``evaluate`` with a runtime whose predictions the test controls, the
``edge-ser evaluate`` CLI, and the bundled model on the shared RAVDESS clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from audio_factory import ravdess_name, write_not_audio, write_tone

from edge_ser import bundle
from edge_ser.aggregate import AGGREGATION_RULE, clip_probabilities, split_by_counts
from edge_ser.cli import main
from edge_ser.corpora import discover
from edge_ser.errors import DataError
from edge_ser.evaluate import evaluate, predict_clips
from edge_ser.features import clip_patches
from edge_ser.labels import CANONICAL_LABELS, LABEL_INDEX
from edge_ser.reference_preprocess import log_mel_to_patches, params

# The fake model's labels and the tone that makes it predict each one.
TONES_HZ = {"neutral": 300.0, "happy": 1000.0, "sad": 2500.0, "angry": 5000.0}
# (true label from the file name, label whose tone the file holds): one clip each.
CLIPS = [
    ("neutral", "neutral"),
    ("neutral", "neutral"),
    ("happy", "happy"),
    ("happy", "sad"),
    ("sad", "sad"),
    ("sad", "angry"),  # "angry" is predicted but never true
]
EXPECTED_CONFUSION = [  # rows true, columns predicted, in TONES_HZ order
    [2, 0, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 1],
    [0, 0, 0, 0],
]


def _mel_band_centres_hz() -> np.ndarray:
    """Centre frequency of each of the 64 HTK mel bands between 125 and 7500 Hz."""
    mel = np.linspace(
        1127 * np.log1p(params.MEL_MIN_HZ / 700),
        1127 * np.log1p(params.MEL_MAX_HZ / 700),
        params.NUM_MEL_BANDS + 2,
    )[1:-1]
    return 700 * np.expm1(mel / 1127)


class ToneRuntime:
    """A stand-in model: predicts the label whose tone is nearest the patch's loudest band.

    The winning label gets probability 0.65, the others share the rest. Records the number of
    patches of every call.
    """

    def __init__(self, tones_hz: dict[str, float] = TONES_HZ) -> None:
        self.labels = tuple(tones_hz)
        self.tones = np.array(list(tones_hz.values()))
        self.centres = _mel_band_centres_hz()
        self.calls: list[int] = []

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        self.calls.append(len(patches))
        loudest = self.centres[patches[..., 0].mean(axis=1).argmax(axis=1)]
        winner = np.abs(loudest[:, None] - self.tones[None, :]).argmin(axis=1)
        probs = np.full((len(patches), len(self.labels)), 0.35 / (len(self.labels) - 1))
        probs[np.arange(len(patches)), winner] = 0.65
        return probs.astype(np.float32)


def _write_clips(root: Path, clips=CLIPS, seconds: float = 1.0) -> list[Path]:
    """One tone file per (true label, tone label), RAVDESS-named, speaker = position % 3 + 1."""
    paths = []
    for i, (true_label, tone_label) in enumerate(clips):
        actor = i % 3 + 1
        name = ravdess_name(LABEL_INDEX[true_label] + 1, actor, statement=i // 3 + 1)
        path = root / f"Actor_{actor:02d}" / name
        write_tone(path, seconds, frequency=TONES_HZ[tone_label])
        paths.append(path)
    return paths


# --- the clip rule ------------------------------------------------------------------------


def test_clip_probabilities_is_the_mean_of_patch_probabilities():
    patches = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.4, 0.4, 0.2]])
    np.testing.assert_allclose(clip_probabilities(patches), [0.4, 1.4 / 3, 0.4 / 3], rtol=1e-6)
    with pytest.raises(ValueError, match="n_patches >= 1"):
        clip_probabilities(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        clip_probabilities(np.zeros(3))


def test_split_by_counts_keeps_rows_in_order():
    groups = split_by_counts(np.arange(12).reshape(6, 2), [1, 3, 2])
    assert [g[:, 0].tolist() for g in groups] == [[0], [2, 4, 6], [8, 10]]
    with pytest.raises(ValueError, match="sum to 5 but there are 6 rows"):
        split_by_counts(np.zeros((6, 2)), [2, 3])


def test_predict_clips_averages_every_hop_48_patch_of_each_clip():
    rng = np.random.default_rng(3)
    log_mels = [rng.standard_normal((n, params.NUM_MEL_BANDS)) for n in (96, 143, 144, 300)]
    runtime = ToneRuntime()
    clip_probs = predict_clips(runtime, log_mels)
    per_clip = [log_mel_to_patches(m, params.PATCH_HOP_FRAMES)[..., None] for m in log_mels]
    assert [len(p) for p in per_clip] == [1, 1, 2, 5]  # (frames - 96) // 48 + 1
    assert runtime.calls == [9]  # one batch for every clip's patches
    expected = [runtime.predict_patches(p).mean(axis=0) for p in per_clip]
    np.testing.assert_allclose(clip_probs, np.stack(expected), rtol=1e-6)
    assert predict_clips(runtime, []).shape == (0, 4)


def test_a_clip_is_decided_by_the_mean_not_by_majority_of_patches():
    # Two patches lean happy, one is sure of sad: a majority vote would say happy.
    class Fixed:
        labels = ("happy", "sad")

        def predict_patches(self, patches):
            return np.array([[0.55, 0.45], [0.55, 0.45], [0.0, 1.0]], dtype=np.float32)

    log_mel = np.zeros((96 + 2 * 48, params.NUM_MEL_BANDS), dtype=np.float32)  # 3 patches
    probs = predict_clips(Fixed(), [log_mel])
    np.testing.assert_allclose(probs, [[1.1 / 3, 1.9 / 3]], rtol=1e-6)
    assert probs.argmax() == 1  # two of three patches voted happy, the mean says sad


# --- evaluate() ---------------------------------------------------------------------------


def test_evaluate_matches_a_hand_computed_confusion(tmp_path):
    _write_clips(tmp_path)
    report = evaluate(ToneRuntime(), tmp_path, progress=False)
    assert report["labels"] == list(TONES_HZ) and report["corpus"] == "ravdess"
    assert report["confusion"] == EXPECTED_CONFUSION
    assert report["n_clips"] == 6 and report["skipped"] == []
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["uar"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)  # angry: no true clips
    f1 = {"neutral": 1.0, "happy": 2 * 1 * 0.5 / 1.5, "sad": 0.5}
    assert report["macro_f1"] == pytest.approx(sum(f1.values()) / 3)
    assert set(report["per_class"]) == set(f1)
    assert report["per_class"]["sad"] == {
        "support": 2,
        "recall": 0.5,
        "precision": 0.5,
        "f1": 0.5,
    }


def test_evaluate_skips_and_lists_labels_the_model_lacks_and_unreadable_files(tmp_path):
    _write_clips(tmp_path)
    calm = tmp_path / "Actor_01" / ravdess_name(LABEL_INDEX["calm"] + 1, 1)
    write_tone(calm, 1.0, frequency=TONES_HZ["neutral"])
    broken = write_not_audio(tmp_path / "Actor_02" / ravdess_name(LABEL_INDEX["sad"] + 1, 2))
    stray = write_not_audio(tmp_path / "notes.wav")
    report = evaluate(ToneRuntime(), tmp_path, progress=False)
    assert report["confusion"] == EXPECTED_CONFUSION  # the skipped files change nothing
    reasons = {Path(item["path"]): item["reason"] for item in report["skipped"]}
    assert set(reasons) == {calm, broken, stray}
    assert reasons[calm] == "label 'calm' unknown"
    assert "RAVDESS pattern" in reasons[stray]
    assert reasons[broken]  # the loader's reason, e.g. not an audio file


def test_evaluate_refuses_data_without_any_known_label(tmp_path):
    write_tone(tmp_path / "Actor_01" / ravdess_name(LABEL_INDEX["calm"] + 1, 1), 1.0)
    with pytest.raises(DataError, match="no clips .* with a label the model predicts"):
        evaluate(ToneRuntime(), tmp_path, progress=False)


# --- the CLI ------------------------------------------------------------------------------


class _FakeBundle:
    keras_path = Path("tone.keras")

    def runtime(self) -> ToneRuntime:
        return ToneRuntime()


@pytest.fixture
def tone_model(monkeypatch) -> list:
    """Make ``--model`` load the tone runtime; the list collects the paths asked for."""
    asked: list = []

    def load(path=None):
        asked.append(path)
        return _FakeBundle()

    monkeypatch.setattr(bundle.ModelBundle, "load", staticmethod(load))
    return asked


def test_cli_json_report(tmp_path, tone_model, capsys):
    _write_clips(tmp_path / "data")
    write_tone(tmp_path / "data" / "Actor_01" / ravdess_name(2, 1), 1.0)  # calm: skipped
    (tmp_path / "m").mkdir()
    argv = ["evaluate", str(tmp_path / "data"), "--model", str(tmp_path / "m"), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert tone_model == [tmp_path / "m"]
    assert set(report) == {
        "n_clips",
        "accuracy",
        "uar",
        "macro_f1",
        "per_class",
        "labels",
        "confusion",
        "skipped",
        "corpus",
        "true_share",
        "predicted_share",
        "collapse",
        "restricted",
        "per_corpus",
    }
    assert set(report["per_corpus"]) == {"ravdess"}
    # The data has no angry: the restricted argmax never picks it.
    assert report["restricted"]["predicted_share"]["angry"] == 0.0
    assert report["predicted_share"]["angry"] == pytest.approx(1 / 6)
    assert report["confusion"] == EXPECTED_CONFUSION and report["n_clips"] == 6
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert [item["reason"] for item in report["skipped"]] == ["label 'calm' unknown"]


def test_cli_table_lists_labels_metrics_and_skipped_files(tmp_path, tone_model, capsys):
    _write_clips(tmp_path)
    calm = tmp_path / "Actor_01" / ravdess_name(2, 1)
    write_tone(calm, 1.0)
    assert main(["evaluate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert tone_model == [None]  # no --model: the bundled model
    assert "6 clips: accuracy 0.667, UAR 0.667, macro-F1 0.722" in out
    assert "restricted to the labels present: accuracy" in out
    # A label with no true clips shows no scores, only its share of the predictions.
    assert "angry           0       -         -      -     0.0        16.7" in out
    assert f"skipped 1 file:\n  {calm}: label 'calm' unknown" in out
    assert "confusion (rows: true label, columns: predicted label):" in out


def test_cli_bad_data_dir(tmp_path, tone_model, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(tmp_path / "missing")])
    assert exit_info.value.code == 2 and tone_model == []  # no model was loaded
    assert capsys.readouterr().err.startswith("error: argument DATA_DIR: ")


# --- the bundled model on RAVDESS ---------------------------------------------------------


@pytest.mark.slow
def test_bundled_model_on_ravdess(ravdess_dir, user_feature_cache, tmp_path):
    """Scores the bundled model on the 1200 shared clips and, when it was validated on some
    of these actors, reproduces its recorded validation confusion from their files alone."""
    path = bundle.BUNDLED_DIR / bundle.MODEL_FILE
    if not path.is_file():
        pytest.skip(f"bundled model not found: {path}")
    model = bundle.ModelBundle.load()
    report = evaluate(model.runtime(), ravdess_dir, cache=user_feature_cache, progress=False)
    assert report["labels"] == list(model.labels) == list(CANONICAL_LABELS)
    assert report["n_clips"] == 1200 and report["skipped"] == []
    assert report["uar"] > 2 / len(CANONICAL_LABELS)  # well above chance (0.125)

    held_out = [s for s in model.info.get("val_speakers", []) if s.startswith("ravdess:")]
    actors = [ravdess_dir / f"Actor_{s.split(':')[1]}" for s in held_out]
    if model.info.get("corpus") != "ravdess" or not actors:
        return
    if not all(actor.is_dir() for actor in actors):
        return
    for actor in actors:  # links to the files: discovery does not follow folder links
        (tmp_path / actor.name).mkdir()
        for clip in actor.iterdir():
            (tmp_path / actor.name / clip.name).symlink_to(clip)
    val_report = evaluate(model.runtime(), tmp_path, cache=user_feature_cache, progress=False)
    assert val_report["n_clips"] == model.info["n_val_clips"]
    if model.info.get("aggregation") == AGGREGATION_RULE:
        assert val_report["confusion"] == model.info["validation"]["confusion"]
        return
    # Trained before silent windows were left out: its record counts every window.
    clips = discover(tmp_path).clips
    features = user_feature_cache.load_many([c.path for c in clips], progress=False)
    runtime = model.runtime()
    probs = [runtime.predict_patches(clip_patches(m)).mean(axis=0) for m in features.log_mels]
    targets = [LABEL_INDEX[clips[i].label] for i in features.kept]
    recorded = np.zeros_like(np.array(val_report["confusion"]))
    np.add.at(recorded, (targets, np.argmax(probs, axis=1)), 1)
    assert recorded.tolist() == model.info["validation"]["confusion"]
