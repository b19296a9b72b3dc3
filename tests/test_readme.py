"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from audio_factory import write_audio

from edge_ser.reference_preprocess.signals import voice

README = Path(__file__).resolve().parents[1] / "README.md"


def python_example() -> str:
    section = README.read_text().split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_python_api_example_runs(tmp_path, monkeypatch, capsys):
    write_audio(tmp_path / "clip.wav", voice(48000), sample_rate=16000)
    monkeypatch.chdir(tmp_path)
    exec(compile(python_example(), "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 1 + 5  # the clip's label, then one line per window of 3 s
    assert lines[1].split()[:2] == ["0.0", "0.975"]
