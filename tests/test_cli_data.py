"""`edge-ser data`: report contents, problems, JSON output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
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

from edge_ser.cli import main

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


def _json(capsys, *argv: str) -> dict:
    assert main(["data", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_summary(corpus, capsys):
    summary = _json(capsys, str(corpus))
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


def test_text_report(corpus, capsys):
    assert main(["data", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "corpus: ravdess (auto-detected)" in out
    assert "clips: 7 from 2 speakers (1 files skipped)" in out
    assert "  angry           2" in out
    assert "no clips for: disgust, surprised" in out
    assert "ravdess:01=3, ravdess:02=4" in out
    assert "sample rates: 16000 Hz x3, 44100 Hz x1" in out
    assert "channels: 1 x3, 2 x1" in out
    assert "duration: total 0h 00m 03s, min 0.50 s, max 1.50 s" in out
    assert "problems: 4" in out
    assert f"unreadable: {corpus / 'Actor_02' / ravdess_name(4, 2)}: not a recognised" in out


def test_no_probe_reads_no_headers(corpus, capsys):
    summary = _json(capsys, str(corpus), "--no-probe")
    assert summary["audio"] is None
    assert summary["num_clips"] == 7
    assert [p["problem"] for p in summary["problems"]] == ["skipped"]


def test_explicit_corpus_and_manifest(tmp_path, capsys):
    write_tree(tmp_path, ["angry/a.wav", "sad/b.wav", "joy/c.wav"], seconds=0.2)
    assert _json(capsys, str(tmp_path), "--corpus", "folders")["labels"] == {
        "happy": 1,
        "sad": 1,
        "angry": 1,
    }
    (tmp_path / "list.csv").write_text("path,label,speaker\nangry/a.wav,angry,x\n")
    summary = _json(capsys, str(tmp_path / "list.csv"))
    assert (summary["corpus"], summary["num_clips"], summary["speakers"]) == ("csv", 1, {"x": 1})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing", "data directory '{root}/missing' does not exist"),
        (lambda root: root, "no audio files (.flac, .ogg, .wav) under data directory '{root}'"),
        (
            lambda root: write_tree(root, ["misc/x.wav"], seconds=0.1) and root,
            "no recognisable clips under '{root}'",
        ),
    ],
)
def test_bad_directories_exit_2(tmp_path, capsys, make, message):
    assert main(["data", str(make(tmp_path))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: " + message.format(root=tmp_path))
    assert captured.err.count("\n") == 1


def test_unknown_corpus_choice_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["data", str(tmp_path), "--corpus", "timit"])
    assert caught.value.code == 2
    assert "invalid choice: 'timit'" in capsys.readouterr().err


def test_shared_ravdess_json(capsys):
    if not RAVDESS_DIR.is_dir():
        pytest.skip(f"RAVDESS data not found: {RAVDESS_DIR}")
    summary = _json(capsys, str(RAVDESS_DIR))
    files = sorted(RAVDESS_DIR.glob("Actor_*/*.flac"))
    assert summary["num_clips"] == len(files) == 1200
    assert summary["num_speakers"] == 20 and len(summary["labels"]) == 8
    emotions = Counter(int(path.stem.split("-")[2]) for path in files)
    assert list(summary["labels"].values()) == [emotions[code] for code in range(1, 9)]
    assert summary["problems"] == []
    assert summary["audio"]["sample_rates"] == {"48000": 1200}
    assert summary["audio"]["channels"] == {"1": 1195, "2": 5}  # the data README: 5 stereo


def test_console_script(corpus):
    script = Path(sys.executable).with_name("edge-ser")
    if not script.exists():
        pytest.skip(f"console script not installed next to the interpreter: {script}")
    ok = subprocess.run(
        [script, "data", str(corpus), "--json"], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["num_clips"] == 7
    bad = subprocess.run(
        [script, "data", str(corpus / "nope")], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr == f"error: data directory '{corpus / 'nope'}' does not exist\n"
