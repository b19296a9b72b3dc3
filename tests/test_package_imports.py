"""The core does not depend on the exporter or the CLI: checked on every import statement."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Folders of the core (installed as edge_ser and edge_ser.reference_preprocess).
CORE = [ROOT / "edge_ser", ROOT / "reference_preprocess"]
FORBIDDEN = ("edge_ser.export", "edge_ser.cli")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every module an ``import`` or ``from`` statement names."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append((node.lineno, node.module))
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def forbidden_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for line, name in imported_modules(tree)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]


def core_files() -> list[Path]:
    """Every module of the core; ``python -m edge_ser`` (``__main__``) is the CLI's."""
    cli, main = ROOT / "edge_ser" / "cli", ROOT / "edge_ser" / "__main__.py"
    return [
        p for folder in CORE for p in folder.rglob("*.py") if cli not in p.parents and p != main
    ]


def test_the_walk_sees_every_form_of_import():
    tree = ast.parse(
        "import edge_ser.export.verify\n"
        "from edge_ser import export\n"
        "def f():\n    from edge_ser.cli.common import show_progress\n"
    )
    names = {name for _, name in imported_modules(tree)}
    assert {"edge_ser.export.verify", "edge_ser.export", "edge_ser.cli.common"} <= names


def test_core_modules_import_neither_the_exporter_nor_the_cli():
    files = core_files()
    assert ROOT / "edge_ser" / "recognizer.py" in files and len(files) > 30
    assert [line for path in files for line in forbidden_imports(path)] == []
