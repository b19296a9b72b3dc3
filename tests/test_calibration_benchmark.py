"""``benchmarks/calibration.py`` on generated corpora: every int8 calibration scored against
the float model, each score the one ``edge-ser evaluate`` gives the same model."""

from __future__ import annotations

import json

import pytest
from conftest import load_benchmark

from edge_ser.bundle import ModelBundle
from edge_ser.evaluate import evaluate
from edge_ser.export.tflite import to_int8_tflite
from edge_ser.runtimes.litert_runtime import LiteRTRuntime


@pytest.fixture(scope="module")
def calibration_benchmark():
    return load_benchmark("calibration")


def test_each_calibration_is_scored_as_evaluate_scores_it(
    calibration_benchmark, model_dir, emotion_corpus, make_emotion_corpus, tmp_path
):
    test_dir = tmp_path / "four-labels"
    make_emotion_corpus(test_dir, speakers=(5, 6), labels=("neutral", "happy", "sad", "angry"))
    json_path = tmp_path / "calibration.json"
    argv = ["--model", str(model_dir), "--train", str(emotion_corpus), "--test", str(test_dir)]
    argv += ["--counts", "16", "32", "--draws", "2", "--json", str(json_path)]
    assert calibration_benchmark.main(argv) == 0

    report = json.loads(json_path.read_text())
    rows = report["rows"]
    assert [(r["patches"], r["draw"]) for r in rows] == [
        ("saved with the run", 0), (16, 0), (16, 1), (32, 0), (32, 1)
    ]  # fmt: skip
    assert [r["n"] for r in rows[1:]] == [16, 16, 32, 32]
    bundle = ModelBundle.load(model_dir)
    expected = evaluate(bundle.runtime(), test_dir, progress=False)
    assert report["n_test_clips"] == expected["n_clips"] == 16
    assert report["float"]["uar"] == pytest.approx(expected["uar"])
    assert report["float"]["restricted_uar"] == pytest.approx(expected["restricted"]["uar"])
    assert report["float"]["agreement"] == report["float"]["restricted_agreement"] == 1.0
    int8 = tmp_path / "int8.tflite"
    int8.write_bytes(to_int8_tflite(bundle.keras_model, bundle.calibration_patches()))
    saved = evaluate(LiteRTRuntime(int8, bundle.labels), test_dir, progress=False)
    assert rows[0]["uar"] == pytest.approx(saved["uar"])
    assert rows[0]["restricted_uar"] == pytest.approx(saved["restricted"]["uar"])
    assert all(0.0 <= r[k] <= 1.0 for r in rows for k in ("agreement", "restricted_agreement"))


def test_a_directory_that_is_not_a_model_is_a_one_line_error(
    calibration_benchmark, emotion_corpus, tmp_path, capsys
):
    argv = ["--model", str(tmp_path), "--train", str(emotion_corpus), "--test", str(emotion_corpus)]
    assert calibration_benchmark.main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "is not a model directory" in err and "\n" not in err
