"""Generic folders: ``DIR/<label>/file`` or ``DIR/<label>/<speaker>/file``.

The label folder's name is mapped through ``LABEL_SYNONYMS`` (``anger`` -> ``angry``, ...).
The speaker is the first sub-folder under the label folder when there is one, else
``UNKNOWN_SPEAKER``; clips without speakers cannot be split speaker-independently.
"""

from __future__ import annotations

from pathlib import Path

from edge_ser.corpora.base import UNKNOWN_SPEAKER, Clip, Skipped, canonical_label

NAME = "folders"


def parse(path: Path, root: Path) -> Clip | Skipped:
    """The clip a file's place under ``root`` describes, or why it does not describe one."""
    parts = path.relative_to(root).parts
    if len(parts) < 2:
        return Skipped(path, "not inside a label folder (expected DIR/<label>/file)")
    label = canonical_label(parts[0])
    if label is None:
        return Skipped(path, f"folder '{parts[0]}' is not an emotion label or synonym")
    speaker = parts[1] if len(parts) >= 3 else UNKNOWN_SPEAKER
    return Clip(path=path, label=label, speaker=speaker, corpus=NAME)
