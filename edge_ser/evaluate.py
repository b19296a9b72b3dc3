"""Clip-level evaluation of any runtime (Keras, LiteRT, Core ML) on a labelled corpus."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge_ser import corpora
from edge_ser.aggregate import clip_probabilities, split_by_counts
from edge_ser.errors import DataError
from edge_ser.features import FeatureCache, clip_patches
from edge_ser.metrics import score
from edge_ser.runtimes.base import Runtime


def predict_clips(runtime: Runtime, log_mels: Sequence[np.ndarray]) -> np.ndarray:
    """``(n_clips, n_labels)`` clip probabilities: every hop-48 patch, then the mean per clip."""
    per_clip = [clip_patches(log_mel) for log_mel in log_mels]
    if not per_clip:
        return np.zeros((0, len(runtime.labels)), dtype=np.float32)
    probs = runtime.predict_patches(np.concatenate(per_clip))
    groups = split_by_counts(probs, [len(p) for p in per_clip])
    return np.stack([clip_probabilities(g) for g in groups])


def evaluate(
    runtime: Runtime,
    data_dir: Path,
    corpus: str = "auto",
    cache: FeatureCache | None = None,
    progress: bool = True,
) -> dict:
    """Score ``runtime`` on every clip of ``data_dir`` whose label the model knows.

    Returns a JSON-ready dict: ``n_clips``, ``accuracy``, ``uar`` and ``macro_f1`` (averaged
    over the labels present in the data), ``per_class``, ``labels``, ``confusion`` (rows true,
    columns predicted, in ``labels`` order) and ``skipped`` (files not scored, with the reason).
    """
    scan = corpora.discover(Path(data_dir), corpus)
    skipped = [{"path": str(s.path), "reason": s.reason} for s in scan.skipped]
    known = []
    for clip in scan.clips:
        if clip.label in runtime.labels:
            known.append(clip)
        else:
            skipped.append({"path": str(clip.path), "reason": f"label '{clip.label}' unknown"})
    features = (cache or FeatureCache()).load_many([c.path for c in known], progress=progress)
    skipped += [{"path": str(p), "reason": reason} for p, reason in features.failed]
    if not features.kept:
        raise DataError(f"no clips in '{data_dir}' with a label the model predicts")
    targets = [runtime.labels.index(known[i].label) for i in features.kept]
    predictions = predict_clips(runtime, features.log_mels).argmax(axis=1)
    return {
        **score(targets, predictions, runtime.labels).to_dict(),
        "corpus": scan.corpus,
        "skipped": skipped,
    }
