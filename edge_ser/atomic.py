"""Write a directory of outputs all-or-nothing, never touching what another program made.

Every command that writes a directory (``train``, ``export``) goes through
``atomic_directory``: the outputs are built in a temporary directory beside the target and
moved into place only when the work succeeded. An existing target is used only when it is
empty or, with ``force``, when it is recognisably an earlier output of the same kind (its
marker file is there); even then only the entries that kind of output writes are replaced,
and anything else in the directory is kept. The target directory itself is never removed or
renamed, so ``--out .`` works and its permissions stay as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from edge_ser.errors import EdgeSerError

_SHOWN_ENTRIES = 3


@dataclass(frozen=True)
class OutputKind:
    """What a command writes: its marker file and every entry name it may create."""

    description: str  # "an export", "a training run"
    marker: str  # present in every earlier output of this kind
    entries: frozenset[str]

    def __init__(self, description: str, marker: str, entries: Iterable[str]) -> None:
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "marker", marker)
        object.__setattr__(self, "entries", frozenset(entries) | {marker})


def check_target(target: Path, kind: OutputKind, force: bool) -> Path:
    """Raise ``EdgeSerError`` unless ``target`` may receive an output of ``kind``.

    Cheap (no heavy imports): commands call it before any work. Returns the absolute target.
    """
    target = Path(os.path.abspath(target))
    if not target.name:
        raise EdgeSerError(f"'{target}' cannot be an output directory")
    if target.exists() and not target.is_dir():
        raise EdgeSerError(f"'{target}' exists and is not a directory")
    if not target.is_dir():
        return target
    found = sorted(entry.name for entry in target.iterdir())
    if not found:
        return target
    if kind.marker not in found:
        shown = ", ".join(found[:_SHOWN_ENTRIES])
        more = f" and {len(found) - _SHOWN_ENTRIES} more" if len(found) > _SHOWN_ENTRIES else ""
        raise EdgeSerError(
            f"'{target}' is not empty ({shown}{more}) and is not {kind.description} "
            f"(no {kind.marker}); choose a new or empty directory"
        )
    if not force:
        raise EdgeSerError(
            f"'{target}' already holds {kind.description}; pass --force to replace it"
        )
    return target


@contextmanager
def atomic_directory(target: Path, kind: OutputKind, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory; on success its entries move into ``target``.

    ``target`` is checked (``check_target``) before and again after the work. On any
    exception the temporary directory is removed and ``target`` is left untouched.
    """
    target = check_target(target, kind, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _make_hidden_dir(target.parent, target.name)
    except OSError as exc:
        raise EdgeSerError(f"cannot write beside '{target}': {exc.strerror}") from None
    try:
        yield tmp
        unknown = sorted(entry.name for entry in tmp.iterdir() if entry.name not in kind.entries)
        if unknown:
            raise RuntimeError(f"{kind.description} wrote undeclared entries: {unknown}")
        check_target(target, kind, force)
        if target.is_dir():
            _replace_entries(tmp, target, kind)
        else:
            tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _make_hidden_dir(parent: Path, name: str) -> Path:
    """A new hidden directory in ``parent`` with the permissions a plain ``mkdir`` gives."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


def _replace_entries(new: Path, target: Path, kind: OutputKind) -> None:
    """Move ``new``'s entries into ``target``; earlier entries of ``kind`` go away, others stay.

    Old entries are first moved into a backup directory, so a failure midway puts them back.
    """
    backup = _make_hidden_dir(target.parent, f"{target.name}.old")
    moved_in: list[str] = []
    moved_out: list[str] = []
    try:
        for name in sorted(kind.entries):
            if (target / name).exists() or (target / name).is_symlink():
                (target / name).rename(backup / name)
                moved_out.append(name)
        for entry in sorted(new.iterdir()):
            entry.rename(target / entry.name)
            moved_in.append(entry.name)
    except BaseException:
        for name in moved_in:
            (target / name).rename(new / name)
        for name in moved_out:
            (backup / name).rename(target / name)
        backup.rmdir()  # empty again; never removes old entries that could not be restored
        raise
    shutil.rmtree(backup)
