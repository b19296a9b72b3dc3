"""The corpus adapters by name, and ``discover``, which scans a data directory with one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from edge_ser.corpora import cremad, emodb, folders, manifest, ravdess, tess
from edge_ser.corpora.base import AUDIO_EXTENSIONS, Clip, CorpusScan, Skipped, audio_files
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
