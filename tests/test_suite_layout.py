"""The test suite's own rule: no test module imports another; what tests share is in conftest.py and helpers/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_modules(path: Path) -> set[str]:
    """The top-level names of the modules a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_no_test_module_imports_another() -> None:
    test_modules = {path.stem for path in TESTS.glob("test_*.py")}
    files = [*TESTS.glob("*.py"), *(TESTS / "helpers").glob("*.py")]
    imports = {path.name: sorted(imported_modules(path) & test_modules) for path in files}
    assert {name: found for name, found in imports.items() if found} == {}
