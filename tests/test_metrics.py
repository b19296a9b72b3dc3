"""edge_ser.metrics: confusion matrix and every derived score, by hand and against sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_ser.metrics import (
    clip_report,
    collapsed_labels,
    confusion_matrix,
    restricted_argmax,
    score,
    scores_from_confusion,
)

LABELS = ("neutral", "happy", "sad", "angry")
# Ground truth has no "angry"; one "sad" clip is predicted "angry".
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 2, 2, 2, 0, 3]


def test_confusion_matrix_counts_rows_true_columns_predicted():
    expected = np.array(
        [
            [2, 1, 0, 0],  # neutral: 2 right, 1 called happy
            [0, 1, 1, 0],  # happy: 1 right, 1 called sad
            [1, 0, 2, 1],  # sad: 2 right, 1 called neutral, 1 called angry
            [0, 0, 0, 0],  # angry: never true
        ]
    )
    matrix = confusion_matrix(Y_TRUE, Y_PRED, len(LABELS))
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64


def test_scores_by_hand_with_a_predicted_label_absent_from_ground_truth():
    scores = score(Y_TRUE, Y_PRED, LABELS)
    assert scores.n_clips == 9
    assert scores.accuracy == pytest.approx(5 / 9)  # the "angry" prediction is an error
    recall = {"neutral": 2 / 3, "happy": 1 / 2, "sad": 2 / 4}
    precision = {"neutral": 2 / 3, "happy": 1 / 2, "sad": 2 / 3}
    f1 = {k: 2 * precision[k] * recall[k] / (precision[k] + recall[k]) for k in recall}
    # UAR and macro-F1 average over the three labels present in the ground truth only.
    assert scores.uar == pytest.approx(sum(recall.values()) / 3)
    assert scores.macro_f1 == pytest.approx(sum(f1.values()) / 3)
    assert set(scores.per_class) == {"neutral", "happy", "sad"}
    for label in recall:
        s = scores.per_class[label]
        assert s.support == Y_TRUE.count(LABELS.index(label))
        assert s.recall == pytest.approx(recall[label])
        assert s.precision == pytest.approx(precision[label])
        assert s.f1 == pytest.approx(f1[label])


def test_scores_agree_with_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 6, size=200)  # labels 6 and 7 are never true but are predicted
    y_pred = np.where(rng.random(200) < 0.5, y_true, rng.integers(0, 8, size=200))
    labels = tuple(f"label{i}" for i in range(8))
    present = sorted(set(y_true.tolist()))
    scores = score(y_true, y_pred, labels)
    np.testing.assert_array_equal(
        scores.confusion, metrics.confusion_matrix(y_true, y_pred, labels=range(8))
    )
    assert scores.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert scores.uar == pytest.approx(
        metrics.recall_score(y_true, y_pred, labels=present, average="macro")
    )
    assert scores.macro_f1 == pytest.approx(
        metrics.f1_score(y_true, y_pred, labels=present, average="macro")
    )
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=present, zero_division=0
    )
    for i, label in enumerate(present):
        s = scores.per_class[labels[label]]
        assert (s.support, s.recall, s.precision, s.f1) == pytest.approx(
            (support[i], recall[i], precision[i], f1[i])
        )


def test_perfect_and_all_wrong():
    perfect = score([0, 1, 2, 2], [0, 1, 2, 2], LABELS)
    assert (perfect.accuracy, perfect.uar, perfect.macro_f1) == (1.0, 1.0, 1.0)
    wrong = score([0, 1, 2], [1, 2, 0], LABELS)
    assert (wrong.accuracy, wrong.uar, wrong.macro_f1) == (0.0, 0.0, 0.0)
    assert all(s.precision == 0.0 and s.f1 == 0.0 for s in wrong.per_class.values())


def test_empty_confusion_scores_zero():
    scores = scores_from_confusion(np.zeros((4, 4), dtype=int), LABELS)
    assert (scores.n_clips, scores.accuracy, scores.uar, scores.macro_f1) == (0, 0.0, 0.0, 0.0)
    assert scores.per_class == {}


def test_to_dict_is_json_ready_and_complete():
    data = score(Y_TRUE, Y_PRED, LABELS).to_dict()
    assert json.loads(json.dumps(data)) == data
    keys = {"n_clips", "accuracy", "uar", "macro_f1", "labels", "per_class", "confusion"}
    assert set(data) == keys
    assert data["labels"] == list(LABELS)
    assert data["confusion"] == confusion_matrix(Y_TRUE, Y_PRED, 4).tolist()
    assert data["per_class"]["sad"] == {
        "support": 4,
        "recall": 0.5,
        "precision": pytest.approx(2 / 3),
        "f1": pytest.approx(4 / 7),
    }


# --- strict and restricted scores, predicted shares, collapse ------------------------------


def test_restricted_uar_takes_the_argmax_over_the_corpus_labels_only():
    labels = ("neutral", "calm", "happy", "sad")  # the corpus has no calm
    targets = [0, 0, 2, 2, 3, 3]
    probs = np.array(
        [
            [0.60, 0.20, 0.10, 0.10],  # neutral, neutral
            [0.30, 0.50, 0.10, 0.10],  # calm, restricted neutral
            [0.00, 0.40, 0.35, 0.25],  # calm, restricted happy
            [0.10, 0.20, 0.20, 0.50],  # sad, sad
            [0.25, 0.45, 0.00, 0.30],  # calm, restricted sad
            [0.10, 0.10, 0.70, 0.10],  # happy, happy
        ]
    )
    allowed = np.tile([True, False, True, True], (6, 1))
    report = clip_report(targets, probs, allowed, labels)
    # Strict confusion by hand: rows true, columns predicted.
    assert report["confusion"] == [[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 1, 0]]
    assert report["uar"] == pytest.approx((1 / 2 + 0 + 0) / 3)
    restricted = report["restricted"]
    assert restricted["confusion"] == [[2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    assert restricted["uar"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert restricted["accuracy"] == pytest.approx(4 / 6)
    assert report["predicted_share"] == pytest.approx(
        {"neutral": 1 / 6, "calm": 3 / 6, "happy": 1 / 6, "sad": 1 / 6}
    )
    assert restricted["predicted_share"]["calm"] == 0.0
    assert report["true_share"] == pytest.approx(
        {"neutral": 1 / 3, "calm": 0.0, "happy": 1 / 3, "sad": 1 / 3}
    )
    # calm takes 1/2 of predictions, not more than twice the 1/3 of a present label.
    assert report["collapse"] == [] and restricted["collapse"] == []


def test_restricted_argmax_per_row():
    probs = np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]])
    allowed = np.array([[True, True, True], [False, False, True]])
    assert restricted_argmax(probs, allowed).tolist() == [0, 2]


def test_collapse_flags_labels_predicted_more_than_twice_their_true_share():
    labels = ("neutral", "happy", "sad", "disgust")
    # True shares 8/20, 2/20, 10/20, 0; predicted 4/20, 5/20, 10/20, 1/20.
    confusion = np.array([[4, 4, 0, 0], [0, 1, 0, 1], [0, 0, 10, 0], [0, 0, 0, 0]])
    assert collapsed_labels(confusion, labels) == ["happy"]  # 5/20 > 2 x 2/20
    exactly_twice = np.array([[2, 2, 0, 0], [0, 2, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]])
    assert collapsed_labels(exactly_twice, labels) == []  # 4/10 = 2 x 2/10 is not more
    # Most clips called disgust, which the data lacks: 3/4 of predictions > 2 x 1/3.
    into_absent = np.array([[1, 0, 0, 3], [0, 1, 0, 3], [0, 0, 1, 3], [0, 0, 0, 0]])
    assert collapsed_labels(into_absent, labels) == ["disgust"]
