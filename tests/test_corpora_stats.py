"""edge_ser.corpora.stats: clips per label and speaker, header statistics and problems."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from audio_factory import (
    ravdess_name,
    write_not_audio,
    write_tone,
    write_tree,
    write_truncated,
    write_zero_samples,
)

from edge_ser.corpora import discover
from edge_ser.corpora.stats import summarise

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RAVDESS_DIR = DATA / "ravdess-speech-actors01-20"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small RAVDESS-named tree with one file of each kind of problem."""
    root = tmp_path / "ravdess"
    write_tree(root, [f"Actor_01/{ravdess_name(e, 1)}" for e in (1, 2, 5)], seconds=0.5)
    write_tone(root / "Actor_02" / ravdess_name(5, 2, extension="flac"), 1.5, 44100, channels=2)
    write_not_audio(root / "Actor_02" / ravdess_name(4, 2))
    write_truncated(root / "Actor_02" / ravdess_name(3, 2))
    write_zero_samples(root / "Actor_02" / ravdess_name(6, 2))
    write_tree(root, ["Actor_02/take_03.wav"], seconds=0.1)
    return root


def test_summary(corpus):
    summary = summarise(discover(corpus))
    assert summary["corpus"] == "ravdess" and summary["auto_detected"]
    assert summary["num_clips"] == 7 and summary["num_speakers"] == 2
    assert summary["labels"] == {
        "neutral": 1,
        "calm": 1,
        "happy": 1,
        "sad": 1,
        "angry": 2,
        "fearful": 1,
    }
    assert summary["missing_labels"] == ["disgust", "surprised"]
    assert summary["speakers"] == {"ravdess:01": 3, "ravdess:02": 4}
    audio = summary["audio"]
    assert audio["num_readable"] == 4
    assert audio["total_duration_s"] == pytest.approx(3 * 0.5 + 1.5)
    assert (audio["min_duration_s"], audio["max_duration_s"]) == pytest.approx((0.5, 1.5))
    assert audio["sample_rates"] == {"16000": 3, "44100": 1}
    assert audio["channels"] == {"1": 3, "2": 1}
    assert audio["formats"] == {"FLAC/PCM_16": 1, "WAV/PCM_16": 3}
    problems = {(Path(p["path"]).name, p["problem"]): p["reason"] for p in summary["problems"]}
    assert problems == {
        ("take_03.wav", "skipped"): "name does not follow the RAVDESS pattern MM-VV-EE-II-SS-RR-AA",
        (ravdess_name(4, 2), "unreadable"): "not a recognised audio file (libsndfile: "
        "Format not recognised)",
        (ravdess_name(3, 2), "unreadable"): "file is truncated: the header declares 32000 bytes "
        "of audio data but only 15978 are present",
        (ravdess_name(6, 2), "no samples"): "the file holds 0 frames",
    }


def test_no_probe_reads_no_headers(corpus):
    summary = summarise(discover(corpus), probe=False)
    assert summary["audio"] is None
    assert summary["num_clips"] == 7
    assert [p["problem"] for p in summary["problems"]] == ["skipped"]


def test_shared_ravdess():
    if not RAVDESS_DIR.is_dir():
        pytest.skip(f"RAVDESS data not found: {RAVDESS_DIR}")
    summary = summarise(discover(RAVDESS_DIR))
    files = sorted(RAVDESS_DIR.glob("Actor_*/*.flac"))
    assert summary["num_clips"] == len(files) == 1200
    assert summary["num_speakers"] == 20 and len(summary["labels"]) == 8
    emotions = Counter(int(path.stem.split("-")[2]) for path in files)
    assert list(summary["labels"].values()) == [emotions[code] for code in range(1, 9)]
    assert summary["problems"] == []
    assert summary["audio"]["sample_rates"] == {"48000": 1200}
    assert summary["audio"]["channels"] == {"1": 1195, "2": 5}  # the data README: 5 stereo
