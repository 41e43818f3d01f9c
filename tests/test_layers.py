"""The package's floors: no stage imports a later stage, the core imports no stage, constants are defined once, and
what the package reads at run time ships inside it (a `pip install .` works outside a checkout)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yoloslim.config as config
from yoloslim.config import ROOT, output_root

LIB = ROOT / "lib" / "yoloslim"
FLOORS = ["data", "models", "measure", "train", "prune", "eval", "report"]  # lowest first: each imports those below
# what every floor may import
CORE = {"config", "paths", "stages", "study", "atomic", "figures", "shared", "text", "uptodate"}
BASE = {"ultra"}  # Ultralytics set up offline: imports only the core; every floor may import it
TOOLS = {"cli", "bench", "init", "jobs"}  # the command line, `make bench`, `yoloslim init`, Snakemake helpers: any


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level yoloslim part) of every yoloslim import in a file, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [(node.lineno, name.split(".")[1]) for name in names if name.startswith("yoloslim.")]
    return found


def _allowed(part: str) -> set[str]:
    """The top-level parts of yoloslim that `part` (a floor, core module, base or tool) may import."""
    if part in CORE:
        return CORE
    if part in BASE:
        return CORE | BASE
    if part in FLOORS:
        return CORE | BASE | set(FLOORS[: FLOORS.index(part) + 1])
    return CORE | BASE | set(FLOORS) | TOOLS


def test_no_floor_imports_a_later_one_and_the_core_imports_no_stage() -> None:
    parts = CORE | BASE | TOOLS | set(FLOORS)
    wrong = []
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB)
        part = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if part == "__init__":
            continue
        assert part in parts, f"{rel}: place `{part}` among the floors, the core or the tools of this test"
        wrong += [f"{rel}:{line} imports yoloslim.{to}" for line, to in _imports(path) if to not in _allowed(part)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "modules",
    [
        ("yoloslim.stages", "yoloslim.shared"),  # every Snakemake parse of a study
        ("yoloslim.report.data", "yoloslim.report.summary", "yoloslim.report.view", "yoloslim.report.build"),
    ],
    ids=["stage keys", "report"],
)
def test_the_core_and_the_report_load_without_a_stage_dependency(modules: tuple[str, ...]) -> None:
    """Snakemake parses every study through `yoloslim.stages`, and the report reads results files: neither may pull
    in the renderer or the trainer (torch alone takes seconds to import, in every report job)."""
    heavy = ("cv2", "zxingcpp", "torch", "ultralytics")
    code = f"import sys, {', '.join(modules)}; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_module_constants_are_defined_once() -> None:
    defined: dict[str, list[str]] = {}
    for path in sorted(LIB.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
            for target in targets:
                for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                    if name.lstrip("_").isupper():
                        defined.setdefault(name, []).append(str(path.relative_to(LIB)))
    assert {name: files for name, files in defined.items() if len(files) > 1} == {}


def _package_data() -> set[Path]:
    """Every file pyproject.toml's package-data ships with the package."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["yoloslim"]
    return {path for pattern in patterns for path in LIB.glob(pattern) if path.is_file()}


def _package_file_globs() -> list[str]:
    """The argument of every `package_file(...)` call in the package, an f-string's fields as `*`."""
    globs = []
    for path in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "package_file":
                arg = node.args[0]
                parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
                globs.append("".join(p.value if isinstance(p, ast.Constant) else "*" for p in parts))
    return globs


def _names(path: Path) -> set[str]:
    """Every name a module reads or imports."""
    tree = ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    return {n.id if isinstance(n, ast.Name) else n.name for n in tree if isinstance(n, (ast.Name, ast.alias))}


def test_files_read_at_run_time_ship_in_the_package() -> None:
    shipped, globs = _package_data(), _package_file_globs()
    assert {"seed.yaml", "templates"} <= set(globs)
    for glob in globs:
        files = [f for match in LIB.glob(glob) for f in ([match] if match.is_file() else match.rglob("*"))]
        assert files, f"package_file({glob!r}) names nothing in lib/yoloslim"
        assert not [f for f in files if f.is_file() and f not in shipped], f"{glob}: not in pyproject's package-data"
    checkout = [
        str(path.relative_to(LIB))
        for path in LIB.rglob("*.py")
        if path.parent.name != "jobs" and path.name != "config.py" and {"ROOT", "__file__"} & _names(path)
    ]
    assert checkout == [], "read package files with package_file(); only jobs/ (checkout tools) may use ROOT"


def test_output_root_is_the_checkout_else_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YOLOSLIM_OUT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert output_root() == ROOT  # running from this checkout
    monkeypatch.setattr(config, "ROOT", tmp_path / "site-packages")  # as installed: no checkout around the package
    assert output_root() == tmp_path
    monkeypatch.setenv("YOLOSLIM_OUT", str(tmp_path / "out"))
    assert output_root() == tmp_path / "out"


def test_report_headers_name_model_table_columns() -> None:
    from yoloslim.eval.tables import MODEL_COLUMNS
    from yoloslim.report.data import MODEL_HEADERS

    assert set(MODEL_HEADERS) <= set(MODEL_COLUMNS)
