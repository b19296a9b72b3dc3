"""Bad arguments are one-line errors found before any heavy library is imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY_MODULES = ("tensorflow", "keras", "coremltools", "ai_edge_litert")

# Runs the command line in a fresh interpreter and reports which heavy modules it imported.
PROBE = """
import sys
from edge_ser.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print(code, ",".join(heavy) or "-")
"""


def run_cli(*argv: str, cwd) -> tuple[int, str, str]:
    """``(exit code, heavy modules imported, stderr)`` of ``edge-ser ARGV``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY_MODULES), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    code, heavy = result.stdout.splitlines()[-1].split()  # after what the command printed
    return int(code), heavy, result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "DATA", "--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
        (["train", "DATA", "--epochs", "-3"], "argument --epochs: must be >= 1, got -3"),
        (["train", "DATA", "--mixup", "-1"], "argument --mixup: must be a number >= 0"),
        (["train", "DATA", "--seed", "-1"], "argument --seed: must be >= 0"),
        (["train", "missing"], "argument DATA_DIR: 'missing' does not exist"),
        (["train", "DATA", "--out", "notes.txt"], "exists and is not a directory"),
        (["cv", "DATA", "--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
        (["cv", "DATA", "--folds", "1"], "argument --folds: must be >= 2, got 1"),
        (["cv", "DATA", "--patience", "-2"], "argument --patience: must be >= 0"),
        (["evaluate", "missing"], "argument DATA_DIR: 'missing' does not exist"),
        (["ensemble", "DATA", "missing"], "argument RUN_DIR: 'missing' does not exist"),
        (["ensemble", "DATA", "DATA", "--out", "notes.txt"], "exists and is not a directory"),
        (["export", "--model", "missing"], "argument --model: 'missing' does not exist"),
        (["export", "--out", "notes.txt"], "exists and is not a directory"),
        (["predict", "missing.wav"], "missing.wav: no such file"),
        (["predict", "DATA", "--artifact", "x.tflite"], "argument --artifact: 'x.tflite'"),
    ],
)
def test_bad_arguments_fail_before_heavy_imports(tmp_path, argv, message):
    (tmp_path / "DATA").mkdir()
    (tmp_path / "notes.txt").write_text("precious")
    code, heavy, err = run_cli(*argv, cwd=tmp_path)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert heavy == "-", f"imported {heavy} before reporting the error"
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_predict_by_default_runs_the_bundled_int8_model_without_tensorflow(tmp_path):
    from audio_factory import write_audio

    from edge_ser.reference_preprocess.signals import voice

    write_audio(tmp_path / "clip.wav", voice(32000))
    code, heavy, err = run_cli("predict", "clip.wav", cwd=tmp_path)
    assert code == 0, err
    assert heavy == "ai_edge_litert"


def test_version_is_looked_up_only_when_asked(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "edge_ser", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("edge-ser ")
    probe = "import sys, edge_ser.cli; print('importlib.metadata' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout == (
        "False\n"
    )
