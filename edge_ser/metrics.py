"""Classification metrics for speaker-independent evaluation.

All metrics are computed from one confusion matrix whose rows are true labels and columns
predicted labels, over a fixed label list. ``uar`` (unweighted average recall) and
``macro_f1`` average only over the labels present in the ground truth, so a corpus without
some emotion (TESS has no calm) is scored over its own labels, while predictions of absent
labels still count as errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int) -> np.ndarray:
    """``(n_labels, n_labels)`` int matrix, rows = true label, columns = predicted label."""
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


@dataclass(frozen=True)
class ClassScores:
    support: int
    recall: float
    precision: float
    f1: float


@dataclass(frozen=True)
class Scores:
    """Accuracy, UAR, macro-F1 and per-class scores derived from one confusion matrix."""

    labels: tuple[str, ...]
    confusion: np.ndarray
    n_clips: int
    accuracy: float
    uar: float
    macro_f1: float
    per_class: dict[str, ClassScores]

    def to_dict(self) -> dict:
        return {
            "n_clips": self.n_clips,
            "accuracy": self.accuracy,
            "uar": self.uar,
            "macro_f1": self.macro_f1,
            "labels": list(self.labels),
            "per_class": {label: asdict(s) for label, s in self.per_class.items()},
            "confusion": self.confusion.tolist(),
        }


def scores_from_confusion(confusion: np.ndarray, labels: Sequence[str]) -> Scores:
    """Derive every metric from a confusion matrix (rows true, columns predicted)."""
    confusion = np.asarray(confusion, dtype=np.int64)
    total = int(confusion.sum())
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    correct = np.diag(confusion)
    present = support > 0
    recall = np.divide(correct, support, out=np.zeros(len(labels)), where=present)
    precision = np.divide(correct, predicted, out=np.zeros(len(labels)), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(len(labels)), where=denom > 0)
    per_class = {
        label: ClassScores(int(support[i]), float(recall[i]), float(precision[i]), float(f1[i]))
        for i, label in enumerate(labels)
        if present[i]
    }
    return Scores(
        labels=tuple(labels),
        confusion=confusion,
        n_clips=total,
        accuracy=float(correct.sum() / total) if total else 0.0,
        uar=float(recall[present].mean()) if present.any() else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        per_class=per_class,
    )


def score(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> Scores:
    """Scores of integer predictions against integer ground truth over ``labels``."""
    return scores_from_confusion(confusion_matrix(y_true, y_pred, len(labels)), labels)


# A label "collapses" when it takes more than this many times its true share of predictions.
COLLAPSE_FACTOR = 2.0


def restricted_argmax(probs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Row-wise argmax over the allowed columns only (``allowed``: bool, per row or shared)."""
    return np.where(allowed, probs, -np.inf).argmax(axis=1)


def prediction_shares(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(true_share, predicted_share)`` of every label, from a confusion matrix."""
    confusion = np.asarray(confusion, dtype=np.float64)
    total = max(confusion.sum(), 1.0)
    return confusion.sum(axis=1) / total, confusion.sum(axis=0) / total


def collapsed_labels(confusion: np.ndarray, labels: Sequence[str]) -> list[str]:
    """Labels predicted more than ``COLLAPSE_FACTOR`` times as often as they are true.

    A label the data lacks has no true share; it counts as collapsed when it takes more than
    ``COLLAPSE_FACTOR`` times the mean share of the labels present (``1 / k`` for ``k``).
    """
    true, predicted = prediction_shares(confusion)
    present = true > 0
    reference = np.where(present, true, 1.0 / max(int(present.sum()), 1))
    return [
        label for i, label in enumerate(labels) if predicted[i] > COLLAPSE_FACTOR * reference[i]
    ]


def clip_report(
    targets: Sequence[int], probs: np.ndarray, allowed: np.ndarray, labels: Sequence[str]
) -> dict:
    """Strict and restricted scores of clip probabilities, JSON-ready.

    ``targets`` index ``labels``; ``allowed`` is a bool ``(n_clips, n_labels)`` array of the
    labels each clip's corpus has. The strict scores (top-level keys, as ``Scores.to_dict``)
    take the argmax over every label; ``restricted`` takes it over the allowed labels only
    (the cross-corpus protocol). Both carry the predicted share of each label and the labels
    that collapse (``collapsed_labels``).
    """
    targets = np.asarray(targets, dtype=np.int64)
    strict = score(targets, np.asarray(probs).argmax(axis=1), labels)
    restricted = score(targets, restricted_argmax(np.asarray(probs), allowed), labels)
    true_share, _ = prediction_shares(strict.confusion)
    return {
        **strict.to_dict(),
        "true_share": dict(zip(labels, true_share.tolist(), strict=True)),
        **_distribution(strict.confusion, labels),
        "restricted": {
            **{k: v for k, v in restricted.to_dict().items() if k not in ("n_clips", "labels")},
            **_distribution(restricted.confusion, labels),
        },
    }


def _distribution(confusion: np.ndarray, labels: Sequence[str]) -> dict:
    _, predicted = prediction_shares(confusion)
    return {
        "predicted_share": dict(zip(labels, predicted.tolist(), strict=True)),
        "collapse": collapsed_labels(confusion, labels),
    }
