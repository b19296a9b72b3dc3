"""The corpus adapters by name, and ``discover``, which scans a data directory with one."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from edge_ser.corpora import cremad, emodb, folders, manifest, ravdess, tess
from edge_ser.corpora.base import (
    AUDIO_EXTENSIONS,
    UNKNOWN_SPEAKER,
    Clip,
    CorpusScan,
    Skipped,
    audio_files,
)
from edge_ser.errors import DataError

Parser = Callable[[Path, Path], Clip | Skipped]

# File-name adapters, in the order that breaks ties in auto-detection (most specific first).
PARSERS: dict[str, Parser] = {
    ravdess.NAME: ravdess.parse,
    cremad.NAME: cremad.parse,
    emodb.NAME: emodb.parse,
    tess.NAME: tess.parse,
    folders.NAME: folders.parse,
}
CORPORA: tuple[str, ...] = (*PARSERS, manifest.NAME)
AUTO = "auto"


def discover(data_dir: str | os.PathLike[str], corpus: str = AUTO) -> CorpusScan:
    """Find the labelled clips under ``data_dir``.

    Parameters
    ----------
    data_dir
        A folder of audio files (searched recursively) or a CSV manifest file.
    corpus
        An adapter name from ``CORPORA``, or ``"auto"``: a CSV path or a ``manifest.csv``
        in the folder means ``csv``; otherwise the adapter that turns the most audio files
        into clips wins (ties go to the more specific naming convention).

    Raises
    ------
    DataError
        When the path does not exist, holds no audio files, or yields no clips.
    """
    root = Path(data_dir)
    if corpus != AUTO and corpus not in CORPORA:
        raise DataError(f"unknown corpus '{corpus}'; choose from {AUTO}, {', '.join(CORPORA)}")
    if not root.exists():
        raise DataError(f"data directory '{root}' does not exist")
    if root.is_file():
        if root.suffix.lower() != ".csv" or corpus not in (AUTO, manifest.NAME):
            raise DataError(f"'{root}' is a file; expected a data directory or a CSV manifest")
        return _require_clips(manifest.scan(root), corpus == AUTO)
    if corpus == manifest.NAME or (corpus == AUTO and (root / manifest.MANIFEST_NAME).is_file()):
        return _require_clips(manifest.scan(root / manifest.MANIFEST_NAME), corpus == AUTO)
    files = audio_files(root)
    if not files:
        raise DataError(
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under data directory '{root}'"
        )
    if corpus == AUTO:
        scans = [_scan(name, root, files) for name in PARSERS]
        best = max(scans, key=lambda scan: len(scan.clips))  # first of equals wins
        if not best.clips:
            raise DataError(
                f"no recognisable clips under '{root}': none of its {len(files)} audio files "
                f"follows a known layout ({', '.join(PARSERS)}); pass --corpus or add a "
                f"{manifest.MANIFEST_NAME}"
            )
        best.auto_detected = True
        return best
    return _require_clips(_scan(corpus, root, files), False)


def _scan(name: str, root: Path, files: list[Path]) -> CorpusScan:
    parse = PARSERS[name]
    results = [parse(path, root) for path in files]
    return CorpusScan(
        corpus=name,
        root=root,
        clips=[result for result in results if isinstance(result, Clip)],
        skipped=[result for result in results if isinstance(result, Skipped)],
    )


def _require_clips(scan: CorpusScan, auto_detected: bool) -> CorpusScan:
    scan.auto_detected = auto_detected
    if not scan.clips:
        example = ""
        if scan.skipped:
            example = f" (e.g. '{scan.skipped[0].path}': {scan.skipped[0].reason})"
        raise DataError(f"no usable {scan.corpus} clips in '{scan.root}'{example}")
    return scan


def discover_all(
    data_dirs: Sequence[str | os.PathLike[str]], corpora: Sequence[str] = (AUTO,)
) -> list[CorpusScan]:
    """Scan several data directories, each with its own adapter.

    ``corpora`` names one adapter (or ``"auto"``) for every directory, or one per directory,
    in order. With more than one directory, each scan's corpus name is made unique (a second
    ``folders`` directory is ``folders-2``) and set on its clips, and speakers are namespaced
    by it (``folders:anna``; ``ravdess:01`` stays as it is), so two corpora never share a
    speaker. One directory is scanned exactly as ``discover`` does.

    Raises
    ------
    DataError
        When the number of adapters fits neither rule, a directory is given twice, or any
        directory fails ``discover``.
    """
    if not data_dirs:
        raise DataError("no data directory given")
    if len(corpora) not in (1, len(data_dirs)):
        raise DataError(
            f"--corpus was given {len(corpora)} times for {len(data_dirs)} data directories; "
            "give it once for all of them or once per directory, in order"
        )
    names = list(corpora) * len(data_dirs) if len(corpora) == 1 else list(corpora)
    resolved = [os.path.realpath(d) for d in data_dirs]
    repeated = [str(d) for d, r in zip(data_dirs, resolved, strict=True) if resolved.count(r) > 1]
    if repeated:
        raise DataError(f"data directory '{repeated[0]}' is given more than once")
    scans = [discover(d, name) for d, name in zip(data_dirs, names, strict=True)]
    if len(scans) > 1:
        seen: Counter[str] = Counter()
        for scan in scans:
            seen[scan.corpus] += 1
            unique = scan.corpus if seen[scan.corpus] == 1 else f"{scan.corpus}-{seen[scan.corpus]}"
            scan.clips = [_namespaced(clip, scan.corpus, unique) for clip in scan.clips]
            scan.corpus = unique
    return scans


def _namespaced(clip: Clip, adapter: str, corpus: str) -> Clip:
    """``clip`` in corpus ``corpus``, its speaker prefixed by that name."""
    speaker = clip.speaker
    if speaker != UNKNOWN_SPEAKER:
        speaker = speaker.removeprefix(f"{adapter}:")
        speaker = f"{corpus}:{speaker}"
    return replace(clip, corpus=corpus, speaker=speaker)
