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
