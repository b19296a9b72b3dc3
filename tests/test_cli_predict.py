"""`edge-ser predict`: files and folders, table/JSON/CSV output, timeline, errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from audio_factory import write_audio, write_not_audio, write_tone
from test_recognizer import tiny_export  # noqa: F401  (session fixture)

from edge_ser import Recognizer
from edge_ser.artifacts import layout
from edge_ser.cli import main
from edge_ser.reference_preprocess.signals import voice


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """A folder with a 3.5 s 16 kHz WAV, a nested 0.5 s 48 kHz stereo FLAC and an OGG."""
    root = tmp_path_factory.mktemp("clips")
    paths = {"long": root / "long.wav", "short": root / "sub" / "short.flac"}
    paths["ogg"] = root / "sub" / "tone.ogg"
    write_audio(paths["long"], voice(56000, seed=1), kind="wav_float")
    write_tone(paths["short"], 0.5, 48000, channels=2)
    write_tone(paths["ogg"], 1.2, 22050)
    return paths


def predict(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["predict", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_per_clip(tiny_export, clips, capsys):  # noqa: F811
    int8 = tiny_export.dist / layout.INT8_TFLITE
    code, out, err = predict(capsys, str(clips["long"].parent), "--artifact", str(int8), "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    by_path = {Path(c["path"]).name: c for c in report["clips"]}
    assert sorted(by_path) == ["long.wav", "short.flac", "tone.ogg"]
    expected = Recognizer.load(int8).predict_file(clips["long"])
    long = by_path["long.wav"]
    assert long["label"] == expected.label and long["num_windows"] == 6
    assert long["probabilities"] == pytest.approx(expected.probabilities, abs=1e-6)
    assert list(long["probabilities"]) == list(tiny_export.labels)
    assert sum(long["probabilities"].values()) == pytest.approx(1.0, abs=0.02)
    assert "windows" not in long and not long["padded"]
    assert by_path["short.flac"]["padded"] and by_path["short.flac"]["num_windows"] == 1
    assert report["errors"] == [] and report["window_hop_s"] == 0.48


def test_json_timeline_and_window_hop(tiny_export, clips, capsys):  # noqa: F811
    argv = [str(clips["long"]), "--model", str(tiny_export.dist), "--json", "--timeline"]
    code, out, _ = predict(capsys, *argv, "--window-hop", "0.25")
    assert code == 0
    (clip,) = json.loads(out)["clips"]
    starts = [w["start_s"] for w in clip["windows"]]
    assert starts == pytest.approx([0.25 * i for i in range(1 + (56000 - 15600) // 4000)])
    assert all(w["end_s"] == pytest.approx(w["start_s"] + 0.975) for w in clip["windows"])
    mean = np.mean([list(w["probabilities"].values()) for w in clip["windows"]], axis=0)
    assert list(clip["probabilities"].values()) == pytest.approx(mean, abs=1e-6)


def test_csv_output(tiny_export, clips, capsys):  # noqa: F811
    folder = str(clips["long"].parent)
    code, out, _ = predict(capsys, folder, "--model", str(tiny_export.dist), "--csv", "--timeline")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "path",
        "window",
        "start_s",
        "end_s",
        "padded",
        "label",
        *tiny_export.labels,
    ]
    clip_rows = [r for r in rows if r["window"] == "clip"]
    assert len(clip_rows) == 3
    long_windows = [r for r in rows if r["path"].endswith("long.wav") and r["window"] != "clip"]
    assert [int(r["window"]) for r in long_windows] == list(range(6))
    for row in rows:
        probs = [float(row[label]) for label in tiny_export.labels]
        assert row["label"] == tiny_export.labels[int(np.argmax(probs))]
    short = next(r for r in clip_rows if r["path"].endswith("short.flac"))
    assert short["padded"] == "true" and float(short["end_s"]) == pytest.approx(0.5)
    code, out, _ = predict(capsys, folder, "--model", str(tiny_export.dist), "--csv")
    assert all(r["window"] == "clip" for r in csv.DictReader(io.StringIO(out)))


def test_table_output_says_padded(tiny_export, clips, capsys):  # noqa: F811
    argv = [str(clips["long"]), str(clips["short"]), "--model", str(tiny_export.dist)]
    code, out, _ = predict(capsys, *argv, "--timeline")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["file", "seconds", "emotion", *tiny_export.labels]
    short_line = next(line for line in lines if line.startswith(str(clips["short"])))
    assert "padded" in short_line
    assert f"{clips['long']}: 6 windows" in out and f"{clips['short']}: 1 window " in out


def test_unreadable_file_is_reported_and_others_still_run(tiny_export, clips, tmp_path, capsys):  # noqa: F811
    bad = write_not_audio(tmp_path / "bad.wav")
    missing = tmp_path / "missing.wav"
    argv = [str(bad), str(clips["long"]), str(missing), "--model", str(tiny_export.dist)]
    code, out, err = predict(capsys, *argv, "--json")
    assert code == 2
    assert err.splitlines()[0] == f"error: {missing}: no such file"  # found before any decoding
    assert err.splitlines()[1].startswith(f"error: {bad}: not a recognised audio file")
    report = json.loads(out)
    assert [Path(c["path"]).name for c in report["clips"]] == ["long.wav"]
    assert [Path(e["path"]).name for e in report["errors"]] == ["missing.wav", "bad.wav"]


def test_empty_folder_is_an_error(tiny_export, tmp_path, capsys):  # noqa: F811
    (tmp_path / "empty").mkdir()
    code, _, err = predict(capsys, str(tmp_path / "empty"), "--model", str(tiny_export.dist))
    assert code == 2 and "folder contains no audio files (.aif, " in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--window-hop", "0.015"], "--window-hop"),
        (["--window-hop", "0"], "--window-hop"),
        (["--artifact", "."], "--artifact must be"),
    ],
)
def test_bad_options_exit_2(clips, capsys, argv, message):
    code, _, err = predict(capsys, str(clips["long"]), *argv)
    assert code == 2 and err.startswith("error: ") and message in err


def test_model_and_artifact_are_exclusive(clips, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(clips["long"]), "--model", "m", "--artifact", "a.tflite"])
    assert exit_info.value.code == 2


def test_missing_model_exits_2(clips, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(clips["long"]), "--artifact", str(tmp_path / "x.tflite")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: argument --artifact: ")


def test_a_long_recording_points_to_the_timeline(tiny_export, tmp_path, capsys):  # noqa: F811
    path = write_audio(tmp_path / "long.wav", voice(16000 * 11))  # 21 windows
    argv = [str(path), "--model", str(tiny_export.dist)]
    code, _, err = predict(capsys, *argv)
    assert code == 0 and "spans 21 windows; --timeline shows" in err
    code, out, err = predict(capsys, *argv, "--timeline")
    assert code == 0 and "--timeline" not in err and "21 windows of 0.975 s" in out


def test_folders_take_every_loadable_format_and_list_what_they_skip(tiny_export, tmp_path, capsys):  # noqa: F811
    folder = tmp_path / "mixed"
    write_audio(folder / "a.aiff", voice(16000))
    write_audio(folder / "b.wav", voice(16000, seed=2))
    (folder / "notes.txt").write_text("not audio")
    code, out, err = predict(capsys, str(folder), "--model", str(tiny_export.dist), "--json")
    assert code == 0
    assert [Path(c["path"]).name for c in json.loads(out)["clips"]] == ["a.aiff", "b.wav"]
    assert "skipped 1 files that are not audio: notes.txt" in err
