"""Quiet by default: other libraries print nothing on stderr unless ``--verbose`` is given."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from audio_factory import write_audio

from edge_ser.artifacts import layout
from edge_ser.cli.common import progress_log
from edge_ser.quiet import VERBOSE_ENV_VAR
from edge_ser.reference_preprocess.signals import voice

# What TensorFlow, absl, LiteRT and coremltools lines look like (edge-ser's own never do).
THIRD_PARTY = re.compile(
    r"^[IWEF]\d{4} |^(WARNING|INFO|ERROR)\b|absl|coremltools|tensorflow|XNNPACK|oneDNN|"
    r"Running MIL|fully_quantize|Warning"
)


def default_env() -> dict[str, str]:
    """This process's environment without the settings that quiet or unquiet libraries."""
    return {
        k: v for k, v in os.environ.items() if k not in (VERBOSE_ENV_VAR, "TF_CPP_MIN_LOG_LEVEL")
    }


def edge_ser(*argv: str, verbose: bool = False) -> list[str]:
    """stderr lines of ``edge-ser ARGV`` run as users run it; the command must succeed."""
    env = default_env()
    if verbose:
        env[VERBOSE_ENV_VAR] = "1"
    command = [sys.executable, "-m", "edge_ser", *argv]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def third_party(lines: list[str]) -> list[str]:
    return [line for line in lines if THIRD_PARTY.search(line)]


@pytest.fixture(scope="module")
def quiet_export(model_dir, tmp_path_factory) -> tuple[Path, list[str]]:
    """An export of the tiny model (int8 TFLite and Core ML) and its stderr lines."""
    out = tmp_path_factory.mktemp("quiet") / "dist"
    argv = ["export", "--model", str(model_dir), "--out", str(out)]
    return out, edge_ser(*argv, "--formats", "tflite-int8", "mlpackage")


def test_export_verify_predict_print_no_third_party_lines(quiet_export, model_dir, tmp_path):
    dist, export_lines = quiet_export
    clip = tmp_path / "clip.wav"
    write_audio(clip, voice(32000))
    verify_lines = edge_ser("verify", str(dist), "--model", str(model_dir))
    predict_lines = edge_ser("predict", str(clip), "--artifact", str(dist / layout.INT8_TFLITE))
    assert export_lines == []  # its own step lines are progress: terminal only, not CI logs
    assert not third_party(verify_lines)
    assert not third_party(predict_lines)


def test_verbose_brings_the_libraries_messages_back(quiet_export, tmp_path):
    dist, _ = quiet_export
    clip = tmp_path / "clip.wav"
    write_audio(clip, voice(32000))
    lines = edge_ser(
        "predict", str(clip), "--artifact", str(dist / layout.INT8_TFLITE), verbose=True
    )
    assert any("XNNPACK" in line for line in third_party(lines))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_show_in_a_terminal_only(monkeypatch):
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stream)
        progress_log("building emotion_int8.tflite")
        assert ("building" in stream.getvalue()) is shown


def test_benchmarks_print_no_third_party_lines(model_dir, tmp_path):
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "label_sets.py"
    json_path = tmp_path / "label-sets.json"
    argv = [sys.executable, str(script), "--model", str(model_dir), "--repeats", "3"]
    result = subprocess.run(
        [*argv, "--json", str(json_path)], capture_output=True, text=True, env=default_env()
    )
    assert result.returncode == 0, result.stderr
    assert json_path.is_file()
    assert not third_party(result.stderr.splitlines()), result.stderr
