"""Write a directory of outputs all-or-nothing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge_ser.errors import EdgeSerError


@contextmanager
def atomic_directory(target: Path, force: bool = True) -> Iterator[Path]:
    """Yield a temporary directory beside ``target`` and move it into place on success.

    On any exception the temporary directory is removed and ``target`` is left untouched.
    With ``force=False`` an existing non-empty ``target`` is an error (checked before any work).
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise EdgeSerError(f"'{target}' exists and is not a directory")
    if not force and target.is_dir() and any(target.iterdir()):
        raise EdgeSerError(f"'{target}' already exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(backup, ignore_errors=True)
        target.rename(backup)
    tmp.rename(target)
    shutil.rmtree(backup, ignore_errors=True)
