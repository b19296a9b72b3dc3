"""Clip-level evaluation of any runtime (Keras, LiteRT, Core ML) on labelled corpora."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge_ser import corpora
from edge_ser.aggregate import clip_probabilities, split_by_counts
from edge_ser.errors import DataError
from edge_ser.features import FeatureCache, clip_patches
from edge_ser.metrics import clip_report
from edge_ser.reference_preprocess import WindowLevels, silent_windows, window_levels
from edge_ser.runtimes.base import Runtime


def predict_clips(
    runtime: Runtime,
    log_mels: Sequence[np.ndarray],
    silence_rule: Callable[[WindowLevels], np.ndarray] = silent_windows,
) -> np.ndarray:
    """``(n_clips, n_labels)`` clip probabilities: every hop-48 patch, then the mean per clip
    of the patches that are not silence (``edge_ser.aggregate``; ``silence_rule`` another
    rule, for comparisons)."""
    per_clip = [clip_patches(log_mel) for log_mel in log_mels]
    if not per_clip:
        return np.zeros((0, len(runtime.labels)), dtype=np.float32)
    probs = runtime.predict_patches(np.concatenate(per_clip))
    groups = split_by_counts(probs, [len(p) for p in per_clip])
    return np.stack(
        [
            clip_probabilities(g, silence_rule(window_levels(p)))
            for g, p in zip(groups, per_clip, strict=True)
        ]
    )


def corpora_report(probs: np.ndarray, labels: Sequence[str], clips: Sequence[corpora.Clip]) -> dict:
    """``metrics.clip_report`` of clips from one or more corpora, pooled and per corpus.

    Every clip's label must be in ``labels``. A corpus's restricted argmax runs over the
    labels its clips have; ``per_corpus`` maps each corpus name to its own report.
    """
    index = {label: i for i, label in enumerate(labels)}
    targets = np.array([index[clip.label] for clip in clips], dtype=np.int64)
    names = [clip.corpus for clip in clips]
    allowed = np.zeros((len(clips), len(labels)), dtype=bool)
    per_corpus = {}
    for name in sorted(set(names)):
        rows = np.array([n == name for n in names])
        allowed[np.ix_(rows, np.unique(targets[rows]))] = True
        per_corpus[name] = clip_report(targets[rows], probs[rows], allowed[rows], labels)
    return {**clip_report(targets, probs, allowed, labels), "per_corpus": per_corpus}


def evaluate(
    runtime: Runtime,
    data_dirs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    corpus: str | Sequence[str] = corpora.AUTO,
    cache: FeatureCache | None = None,
    progress: bool = True,
) -> dict:
    """Score ``runtime`` on every clip of ``data_dirs`` whose label the model knows.

    ``corpus`` is one adapter for every directory or one per directory. Returns a JSON-ready
    dict over all clips: ``n_clips``, ``accuracy``, ``uar`` and ``macro_f1`` (averaged over
    the labels present in the data), ``per_class``, ``labels``, ``confusion`` (rows true,
    columns predicted, in ``labels`` order), ``predicted_share`` and ``collapse``, the same
    under ``restricted`` for the argmax over each corpus's own labels, ``per_corpus`` (all of
    that per corpus), ``corpus`` (the corpus names, joined by ``+``) and ``skipped`` (files
    not scored, with the reason).
    """
    dirs = [data_dirs] if isinstance(data_dirs, (str, os.PathLike)) else list(data_dirs)
    names = [corpus] if isinstance(corpus, str) else list(corpus)
    scans = corpora.discover_all([Path(d) for d in dirs], names)
    skipped = [{"path": str(s.path), "reason": s.reason} for scan in scans for s in scan.skipped]
    known = []
    for clip in (clip for scan in scans for clip in scan.clips):
        if clip.label in runtime.labels:
            known.append(clip)
        else:
            skipped.append({"path": str(clip.path), "reason": f"label '{clip.label}' unknown"})
    features = (cache or FeatureCache()).load_many([c.path for c in known], progress=progress)
    skipped += [{"path": str(p), "reason": reason} for p, reason in features.failed]
    if not features.kept:
        where = ", ".join(f"'{d}'" for d in dirs)
        raise DataError(f"no clips in {where} with a label the model predicts")
    probs = predict_clips(runtime, features.log_mels)
    report = corpora_report(probs, runtime.labels, [known[i] for i in features.kept])
    return {**report, "corpus": "+".join(scan.corpus for scan in scans), "skipped": skipped}
