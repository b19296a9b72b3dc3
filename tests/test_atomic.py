"""Output directories: nothing a command did not create is ever deleted or replaced."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edge_ser.atomic import OutputKind, atomic_directory
from edge_ser.cli import main
from edge_ser.errors import EdgeSerError

KIND = OutputKind("a report", "report.json", ["table.csv", "plots"])


def write_output(tmp: Path, version: str) -> None:
    (tmp / "report.json").write_text(version)
    (tmp / "table.csv").write_text(version)


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_new_directory_gets_plain_permissions(tmp_path):
    with atomic_directory(tmp_path / "out", KIND) as tmp:
        write_output(tmp, "1")
    mode = stat.S_IMODE((tmp_path / "out").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o777 & ~umask
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_unrelated_files_are_never_replaced(tmp_path, force):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    refused = pytest.raises(EdgeSerError, match=r"notes\.txt.*not a report \(no report\.json\)")
    with refused, atomic_directory(out, KIND, force=force):
        pytest.fail("the work must not start")
    assert (out / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert leftovers(tmp_path) == []


def test_earlier_output_needs_force_and_only_its_own_entries_are_replaced(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out, KIND) as tmp:
        write_output(tmp, "1")
        (tmp / "plots").mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(EdgeSerError, match="--force"), atomic_directory(out, KIND):
        pass
    with atomic_directory(out, KIND, force=True) as tmp:
        write_output(tmp, "2")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.json", "table.csv"]
    assert (out / "table.csv").read_text() == "2" and (out / "notes.txt").read_text() == "precious"
    assert leftovers(tmp_path) == []


def test_failure_leaves_no_temporary_directory_and_the_old_output(tmp_path):
    out = tmp_path / "out"
    with atomic_directory(out, KIND) as tmp:
        write_output(tmp, "1")
    with pytest.raises(RuntimeError), atomic_directory(out, KIND, force=True) as tmp:
        write_output(tmp, "2")
        raise RuntimeError("conversion failed")
    assert (out / "table.csv").read_text() == "1"
    assert leftovers(tmp_path) == []


def test_current_directory_is_filled_in_place(tmp_path, monkeypatch):
    out = tmp_path / "here"
    out.mkdir()
    monkeypatch.chdir(out)
    for _ in range(2):
        with atomic_directory(Path("."), KIND, force=True) as tmp:
            write_output(tmp, "1")
    assert Path.cwd() == out and sorted(os.listdir(".")) == ["report.json", "table.csv"]
    assert leftovers(tmp_path) == []


def test_train_refuses_a_directory_with_unrelated_files_before_training(
    emotion_corpus, tmp_path, capsys
):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    for force in ([], ["--force"]):
        code = main(["train", str(emotion_corpus), "--out", str(out), "--epochs", "1", *force])
        assert code == 2
        assert "notes.txt" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_export_force_refuses_a_directory_that_is_not_an_export(model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "run").mkdir(parents=True)
    (out / "run" / "model.json").write_text("{}")
    (out / "notes.txt").write_text("precious")
    code = main(["export", "--model", str(model_dir), "--out", str(out), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "notes.txt, run" in err
    assert (out / "notes.txt").read_text() == "precious" and (out / "run" / "model.json").exists()
    assert leftovers(tmp_path) == []
