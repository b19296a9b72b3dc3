"""Speaker-independent splits: whole speakers are held out, never random clips.

Both helpers are deterministic for a given ``seed`` and keep the clips' input order
within each part. They raise ``DataError`` when a clip has no speaker id or there are
too few speakers for the split asked for.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from edge_ser.corpora.base import UNKNOWN_SPEAKER, Clip
from edge_ser.errors import DataError


def split_by_speakers(
    clips: Sequence[Clip],
    val_speakers: Iterable[str] | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[Clip], list[Clip]]:
    """Split clips into ``(train, val)`` with no speaker in both.

    Parameters
    ----------
    clips
        Clips with known speakers.
    val_speakers
        Exactly these speakers form the validation part; when ``None``,
        ``round(val_fraction * num_speakers)`` speakers (at least one, and at least one
        left for training) are drawn with ``seed``.
    val_fraction
        Fraction of speakers (not clips) held out, in (0, 1).
    seed
        Seed of the speaker draw.
    """
    speakers = _speakers(clips, needed=2, purpose="a train/validation split")
    if val_speakers is not None:
        held_out = set(val_speakers)
        unknown = sorted(held_out - set(speakers))
        if unknown:
            raise DataError(
                f"validation speaker(s) {', '.join(unknown)} not in the data; "
                f"speakers are {', '.join(speakers)}"
            )
        if not held_out:
            raise DataError("the list of validation speakers is empty")
        if held_out == set(speakers):
            raise DataError("every speaker is a validation speaker; none is left for training")
    else:
        if not 0.0 < val_fraction < 1.0:
            raise DataError(f"val_fraction must be between 0 and 1, got {val_fraction}")
        count = min(max(1, round(val_fraction * len(speakers))), len(speakers) - 1)
        held_out = set(random.Random(seed).sample(speakers, count))
    train = [clip for clip in clips if clip.speaker not in held_out]
    val = [clip for clip in clips if clip.speaker in held_out]
    return train, val


def speaker_folds(
    clips: Sequence[Clip], k: int = 5, seed: int = 0
) -> list[tuple[list[Clip], list[Clip]]]:
    """``k`` speaker-independent ``(train, test)`` folds for cross-validation.

    Every speaker is in exactly one test fold. Speakers are shuffled with ``seed`` and then
    dealt, largest first, to the fold with the fewest clips so far, which balances the
    folds' clip counts. Each corpus's speakers are dealt on their own, so with several
    corpora every fold tests on speakers of each (when the corpus has ``k`` speakers).
    """
    if k < 2:
        raise DataError(f"cross-validation needs at least 2 folds, got {k}")
    _speakers(clips, needed=k, purpose=f"{k}-fold cross-validation")
    fold_of: dict[str, int] = {}
    for corpus in sorted({clip.corpus for clip in clips}):
        counts = Counter(clip.speaker for clip in clips if clip.corpus == corpus)
        speakers = sorted(counts)
        shuffled = random.Random(seed).sample(speakers, len(speakers))
        totals = [0] * k
        for speaker in sorted(shuffled, key=lambda name: -counts[name]):  # ties stay shuffled
            fold = totals.index(min(totals))
            fold_of[speaker] = fold
            totals[fold] += counts[speaker]
    return [
        (
            [clip for clip in clips if fold_of[clip.speaker] != fold],
            [clip for clip in clips if fold_of[clip.speaker] == fold],
        )
        for fold in range(k)
    ]


def corpus_folds(clips: Sequence[Clip]) -> list[tuple[list[Clip], list[Clip]]]:
    """Leave-one-corpus-out ``(train, test)`` folds, one per corpus in sorted order."""
    names = sorted({clip.corpus for clip in clips})
    if len(names) < 2:
        raise DataError(
            f"leave-one-corpus-out needs at least 2 corpora (data directories), got {len(names)}"
        )
    return [
        (
            [clip for clip in clips if clip.corpus != name],
            [clip for clip in clips if clip.corpus == name],
        )
        for name in names
    ]


def _speakers(clips: Sequence[Clip], needed: int, purpose: str) -> list[str]:
    """Sorted distinct speakers, after checking that there are enough known ones."""
    unknown = sum(clip.speaker == UNKNOWN_SPEAKER for clip in clips)
    if unknown:
        raise DataError(
            f"{purpose} needs speaker ids, but {unknown} of {len(clips)} clips have speaker "
            f"'{UNKNOWN_SPEAKER}' (put them in DIR/<label>/<speaker>/ folders or add a "
            "speaker column to the manifest)"
        )
    speakers = sorted({clip.speaker for clip in clips})
    if len(speakers) < needed:
        raise DataError(
            f"{purpose} needs at least {needed} speakers, but the data has {len(speakers)}"
        )
    return speakers
