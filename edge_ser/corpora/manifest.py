"""CSV manifests: a header row with ``path`` and ``label`` columns and optionally ``speaker``.

Relative paths resolve against the CSV file's folder. Labels go through ``LABEL_SYNONYMS``;
a blank or missing speaker is ``UNKNOWN_SPEAKER``. Rows whose label is unknown, whose file
does not exist or that repeat an earlier path are skipped with the row number as reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

from edge_ser.corpora.base import UNKNOWN_SPEAKER, Clip, CorpusScan, Skipped, canonical_label
from edge_ser.errors import DataError

NAME = "csv"
MANIFEST_NAME = "manifest.csv"
REQUIRED_COLUMNS: tuple[str, ...] = ("path", "label")


def scan(manifest: Path) -> CorpusScan:
    """Read the clips a manifest lists.

    Raises
    ------
    DataError
        When the manifest is missing, unreadable or lacks the ``path``/``label`` header.
    """
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise DataError(f"manifest '{manifest}' does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read manifest '{manifest}': {exc}") from None
    header = [name.strip().lower() for name in rows[0]] if rows else []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise DataError(
            f"manifest '{manifest}' needs a header row with columns path,label[,speaker]; "
            f"missing: {','.join(missing)}"
        )
    wanted = (*REQUIRED_COLUMNS, "speaker")
    columns = {name: header.index(name) for name in wanted if name in header}
    clips: list[Clip] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}
        result = _row(manifest, number, cells, seen)
        (clips if isinstance(result, Clip) else skipped).append(result)
    return CorpusScan(
        corpus=NAME,
        root=manifest,
        clips=sorted(clips, key=lambda clip: clip.path),
        skipped=sorted(skipped, key=lambda item: item.path),
    )


def _row(manifest: Path, number: int, cells: dict[str, str], seen: set[Path]) -> Clip | Skipped:
    if not cells["path"]:
        return Skipped(manifest, f"row {number}: empty path")
    path = manifest.parent / cells["path"]
    label = canonical_label(cells["label"])
    if label is None:
        return Skipped(path, f"row {number}: label '{cells['label']}' is not an emotion label")
    if path in seen:
        return Skipped(path, f"row {number}: path listed again")
    if not path.is_file():
        return Skipped(path, f"row {number}: file not found")
    seen.add(path)
    speaker = cells.get("speaker") or UNKNOWN_SPEAKER
    return Clip(path=path, label=label, speaker=speaker, corpus=NAME)
