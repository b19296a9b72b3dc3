"""Corpus adapters: turn a data directory into labelled, speaker-tagged clips.

``discover(data_dir, corpus="auto")`` returns a ``CorpusScan`` of ``Clip`` records (and the
``Skipped`` files with reasons), ``discover_all`` one per directory with corpus-namespaced
speakers; ``split_by_speakers`` and ``speaker_folds`` hold out whole
speakers. One module per corpus naming convention: ``ravdess``, ``tess``, ``cremad``,
``emodb``, ``folders`` (``DIR/<label>/[<speaker>/]file``) and ``manifest`` (CSV).
"""

from edge_ser.corpora.base import (
    AUDIO_EXTENSIONS,
    LABEL_SYNONYMS,
    UNKNOWN_SPEAKER,
    Clip,
    CorpusScan,
    Skipped,
    audio_files,
    canonical_label,
)
from edge_ser.corpora.registry import AUTO, CORPORA, PARSERS, discover, discover_all
from edge_ser.corpora.splits import corpus_folds, speaker_folds, split_by_speakers

__all__ = [
    "AUDIO_EXTENSIONS",
    "AUTO",
    "CORPORA",
    "LABEL_SYNONYMS",
    "PARSERS",
    "UNKNOWN_SPEAKER",
    "Clip",
    "CorpusScan",
    "Skipped",
    "audio_files",
    "canonical_label",
    "corpus_folds",
    "discover",
    "discover_all",
    "speaker_folds",
    "split_by_speakers",
]
