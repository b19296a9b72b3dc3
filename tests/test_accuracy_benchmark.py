"""``benchmarks/accuracy.py`` on a generated corpus: every method scored on the same
leave-speakers-out folds, and the report written as JSON and Markdown."""

from __future__ import annotations

import json

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def accuracy_benchmark():
    return load_benchmark("accuracy")


def test_methods_are_scored_on_the_same_speaker_folds(accuracy_benchmark, emotion_corpus, tmp_path):
    json_path, markdown_path = tmp_path / "accuracy.json", tmp_path / "accuracy.md"
    argv = [str(emotion_corpus), "--folds", "2", "--methods", "mfcc-svm", "summary-mlp"]
    argv += ["--json", str(json_path), "--markdown", str(markdown_path)]
    assert accuracy_benchmark.main(argv) == 0

    report = json.loads(json_path.read_text())
    test_speakers = [set(fold) for fold in report["fold_test_speakers"]]
    assert len(test_speakers) == 2 and not test_speakers[0] & test_speakers[1]
    assert test_speakers[0] | test_speakers[1] == {f"ravdess:{n:02d}" for n in (1, 2, 3, 4)}
    assert set(report["results"]) == {"mfcc-svm", "summary-mlp"}
    for result in report["results"].values():
        assert len(result["uar"]["folds"]) == 2
        # The generated labels differ in pitch and spectral peak: far above chance (0.125).
        assert result["uar"]["mean"] > 0.5
    assert report["edge_ser_augment"]["warp"] == [0.9, 1.1]
    markdown = markdown_path.read_text()
    for row in report["results"]:
        assert accuracy_benchmark.DESCRIPTIONS[row] in markdown


def test_an_empty_data_dir_is_a_one_line_error(accuracy_benchmark, tmp_path, capsys):
    assert accuracy_benchmark.main([str(tmp_path), "--methods", "mfcc-svm"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_a_bad_training_option_is_refused_before_any_method_runs(
    accuracy_benchmark, emotion_corpus, capsys
):
    argv = [str(emotion_corpus), "--methods", "mfcc-svm", "--patience", "-1"]
    assert accuracy_benchmark.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: --patience must be >= 0, got -1"
    assert captured.out == ""
