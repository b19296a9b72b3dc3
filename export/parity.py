"""Parity statistics between a reference (Keras) and an artifact, and the pass/fail rules."""

from __future__ import annotations

import numpy as np

from edge_ser.metrics import score

# Per artifact precision: the bounds an artifact must meet against Keras.
#   max_abs_diff      largest absolute probability difference on any patch
#   top1_agreement    fraction of decisive patches (and clips) whose arg-max equals Keras's:
#                     those where Keras's two highest probabilities differ by at least
#                     DECISIVE_MARGIN (between near-equal probabilities, any rounding picks
#                     either; the agreement over all patches is reported too)
#   clip_accuracy_drop  Keras clip accuracy minus artifact clip accuracy (labelled data only)
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "float32": {"max_abs_diff": 1e-4},
    "float16": {"max_abs_diff": 1e-2},
    "float16-w8": {"top1_agreement": 0.97, "clip_accuracy_drop": 0.01},
    "int8": {"top1_agreement": 0.97, "clip_accuracy_drop": 0.01},
}
DECISIVE_MARGIN = 0.05
# The recorded golden probabilities of an artifact must be reproduced by its runtime within this.
GOLDEN_REPRODUCTION = 1e-4
# Two runtimes that run the same TFLite file with the same kernels (LiteRT, and MediaPipe's
# AudioClassifier, which embeds it) must agree on the same inputs within this.
SAME_MODEL_RUNTIMES = 1e-6


def compare(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """Top-1 agreement (over all rows and over decisive rows, see ``DECISIVE_MARGIN``) and
    absolute probability differences of two ``(n, labels)`` arrays."""
    reference, candidate = np.asarray(reference), np.asarray(candidate)
    diff = np.abs(reference.astype(np.float64) - candidate.astype(np.float64))
    agree = reference.argmax(1) == candidate.argmax(1)
    top_two = np.sort(reference, axis=1)[:, -2:]
    decisive = top_two[:, 1] - top_two[:, 0] >= DECISIVE_MARGIN
    return {
        "n": int(len(reference)),
        "top1_agreement_all": float(np.mean(agree)) if len(agree) else 1.0,
        "decisive_n": int(decisive.sum()),
        "top1_agreement": float(np.mean(agree[decisive])) if decisive.any() else 1.0,
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
    }


def clip_comparison(
    reference: np.ndarray, candidate: np.ndarray, targets: list[int], labels: tuple[str, ...]
) -> dict:
    """Clip-level agreement plus accuracy and UAR of both, against known labels."""
    ref_scores = score(targets, reference.argmax(1), labels)
    cand_scores = score(targets, candidate.argmax(1), labels)
    return {
        **compare(reference, candidate),
        "accuracy": cand_scores.accuracy,
        "uar": cand_scores.uar,
        "keras_accuracy": ref_scores.accuracy,
        "keras_uar": ref_scores.uar,
    }


def failures(precision: str, patches: dict, clips: dict | None, thresholds: dict) -> list[str]:
    """Human-readable reasons an artifact of ``precision`` fails its bounds (empty: pass)."""
    bounds = thresholds[precision]
    found = []
    if "max_abs_diff" in bounds and patches["max_abs_diff"] > bounds["max_abs_diff"]:
        found.append(
            f"max |p - p_keras| {patches['max_abs_diff']:.2e} > {bounds['max_abs_diff']:.0e}"
        )
    if "top1_agreement" in bounds:
        for where, stats in (("patch", patches), ("clip", clips)):
            if stats and stats["top1_agreement"] < bounds["top1_agreement"]:
                found.append(
                    f"{where} top-1 agreement {stats['top1_agreement']:.3f} "
                    f"< {bounds['top1_agreement']:.3f} (over the {stats['decisive_n']} of "
                    f"{stats['n']} whose Keras top-two margin is at least {DECISIVE_MARGIN})"
                )
    if clips and "clip_accuracy_drop" in bounds:
        drop = clips["keras_accuracy"] - clips["accuracy"]
        if drop > bounds["clip_accuracy_drop"]:
            found.append(f"clip accuracy {drop:.3f} below Keras (> {bounds['clip_accuracy_drop']})")
    return found
