"""`edge-ser data`: report contents, problems, JSON output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from audio_factory import ravdess_name, write_tree
from test_corpora_stats import corpus  # noqa: F401  (fixture)

from edge_ser.cli import main
from edge_ser.corpora import AUDIO_EXTENSIONS, discover
from edge_ser.corpora.stats import summarise


def _json(capsys, *argv: str) -> dict:
    assert main(["data", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_text_report(corpus, capsys):  # noqa: F811
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


def test_json_output(corpus, capsys):  # noqa: F811
    summary = _json(capsys, str(corpus))
    assert summary == summarise(discover(corpus))


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
        (
            lambda root: root,
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under data directory '{{root}}'",
        ),
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


def test_console_script(corpus):  # noqa: F811
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
