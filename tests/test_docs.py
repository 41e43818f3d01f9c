"""README.md and docs/*.md name only what exists: links and their headings, repository files, yoloslim modules,
config keys and `make` commands. (Which output files docs/outputs.md lists is tests/test_paths.py's check.)

Each check reads one page and returns its problems; the tests run every check on every page, and on a planted
page that names what does not exist, so each check is seen to fail."""

from __future__ import annotations

import ast
import dataclasses
import re
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from yoloslim.config import Config

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
ROOTS = ("lib", "notebooks", "params", "tests", "workflow", "docs")  # repository folders a page may name
FILE_SUFFIXES = {"csv", "html", "ipynb", "json", "log", "md", "npz", "onnx", "pdf", "png", "pt", "py", "txt", "yaml"}
README_LINES = 210  # the README is the front door; measurements and the method live in docs/


def prose(text: str) -> str:
    """The page without its fenced code blocks (examples, shell sessions and file trees are not checked)."""
    return FENCE.sub("", text)


def code_spans(text: str) -> list[str]:
    """The inline code spans of the page's prose."""
    return re.findall(r"`([^`\n]+)`", prose(text))


def code_lines(text: str) -> list[str]:
    """The lines of the page's fenced and indented code blocks."""
    fenced = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return fenced + [line for line in prose(text).splitlines() if line.startswith("    ") and line.strip()]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings (a repeated heading gets `-1`, `-2`, ... as on GitHub)."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} +(.+?)[ #]*$", prose(page.read_text()), re.M):
        base = slug(heading)
        seen[base] = seen.get(base, -1) + 1
    return {base if n == 0 else f"{base}-{n}" for base, count in seen.items() for n in range(count + 1)}


def broken_links(page: Path) -> list[str]:
    """Relative links to a file that does not exist, or to a heading its page does not have."""
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            problems.append(f"{page.name}: link to {target}: no such file")
        elif anchor and anchor not in anchors(linked):
            problems.append(f"{page.name}: link to {target}: no such heading in {linked.name}")
    return problems


def missing_files(page: Path) -> list[str]:
    """Code spans that are a repository path (`lib/yoloslim/atomic.py`, `notebooks/<name>.ipynb`) naming nothing;
    `<...>` and `*` match any name."""
    paths = [s for s in code_spans(page.read_text()) if re.fullmatch(rf"(?:{'|'.join(ROOTS)})/[\w.<>*/-]*", s)]
    return [
        f"{page.name}: `{path}`: no such file"
        for path in paths
        if not any(REPO.glob(re.sub(r"<[^>]+>", "*", path).rstrip("/")))
    ]


def module_names(module: Path) -> set[str]:
    """The names a module defines or imports at its top level."""
    names = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def missing_modules(page: Path) -> list[str]:
    """Dotted names in code spans (`yoloslim.prune.search`, `yoloslim.models.gammas.sparsity_warning`) whose module,
    or whose name in that module, does not exist."""
    problems = []
    for dotted in {m for span in code_spans(page.read_text()) for m in re.findall(r"\byoloslim(?:\.\w+)+", span)}:
        parts, package = dotted.split(".")[1:], REPO / "lib" / "yoloslim"
        while parts and (package / parts[0]).is_dir():
            package = package / parts.pop(0)
        module = package / f"{parts.pop(0)}.py" if parts else package / "__init__.py"
        if not module.is_file():
            problems.append(f"{page.name}: `{dotted}`: no module {module.relative_to(REPO)}")
        elif parts and parts[0] != "*" and parts[0] not in module_names(module):
            problems.append(f"{page.name}: `{dotted}`: {module.relative_to(REPO)} defines no {parts[0]}")
    return problems


def _dataclass_in(hint: object) -> type | None:
    """The config dataclass a field's type holds (`SynthConfig`, `list[VariantConfig]`), or None."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    return next((cls for arg in typing.get_args(hint) if (cls := _dataclass_in(arg))), None)


def is_config_key(key: str) -> bool:
    """Whether `section.key[.key]` names a field of the config dataclasses."""
    cls: type | None = Config
    for part in key.split("."):
        hints = typing.get_type_hints(cls) if cls else {}
        if part not in hints:
            return False
        cls = _dataclass_in(hints[part])
    return True


def unknown_config_keys(page: Path) -> list[str]:
    """Code spans written as a config key (`sparse.l1`, `prune.c2f_halves: free`) that no config field has."""
    sections = [f.name for f in dataclasses.fields(Config) if _dataclass_in(typing.get_type_hints(Config)[f.name])]
    pattern = rf"((?:{'|'.join(sections)})(?:\.\w+)+)(?:: .*)?"
    keys = {m.group(1) for s in code_spans(page.read_text()) if (m := re.fullmatch(pattern, s))}
    keys = {k for k in keys if k.rsplit(".", 1)[1] not in FILE_SUFFIXES}  # `data.yaml`, `report.html`: files
    return [f"{page.name}: `{key}`: no such field in lib/yoloslim/config.py" for key in keys if not is_config_key(key)]


def unknown_make_targets(page: Path) -> list[str]:
    """`make X` in code spans and code blocks where the Makefile has no target X."""
    targets = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), re.M))
    text = page.read_text()
    named = {m.group(1) for s in code_spans(text) + code_lines(text) if (m := re.match(r"\s*make ([a-z][\w-]*)", s))}
    return [f"{page.name}: `make {name}`: no such Makefile target" for name in named - targets]


CHECKS: list[Callable[[Path], list[str]]] = [
    broken_links,
    missing_files,
    missing_modules,
    unknown_config_keys,
    unknown_make_targets,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_pages_name_only_what_exists(check: Callable[[Path], list[str]]) -> None:
    problems = [problem for page in PAGES for problem in check(page)]
    assert not problems, "\n".join(problems)


PLANTED = {  # a page naming what does not exist, and the problems each check must find in it
    broken_links: ("[a](README.md#a-heading) [b](README.md#no-heading) [c](nowhere.md) [d](https://x.org)", 2),
    missing_files: ("`lib/yoloslim/atomic.py` `notebooks/<name>.ipynb` `lib/yoloslim/nowhere.py` `params/x/`", 2),
    missing_modules: ("`yoloslim.train.budget` `yoloslim.models.gammas.nothing` `yoloslim.nowhere.x`", 2),
    unknown_config_keys: ("`sparse.l1` `prune.c2f_halves: free` `eval.latency.threads` `sparse.l2` `data.yaml`", 1),
    unknown_make_targets: ("`make test` `make tests`\n\n    make report CONFIG=x.yaml\n    make nothing\n", 2),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_each_check_finds_what_a_planted_page_gets_wrong(check: Callable[[Path], list[str]], tmp_path: Path) -> None:
    text, expected = PLANTED[check]
    (tmp_path / "README.md").write_text("# Title\n\n## A heading\n\n```\n## not a heading\n```\n")
    page = tmp_path / "planted.md"
    page.write_text(f"# Planted\n\n{text}\n\n```\n[e](fenced.md) `sparse.l3` `lib/fenced.py`\n```\n")
    problems = check(page)
    assert len(problems) == expected, problems


def test_readme_is_a_front_door_to_every_doc() -> None:
    """The README links every page of docs/, shows the two commands, and stays short."""
    readme = (REPO / "README.md").read_text()
    linked = {(REPO / target.partition("#")[0]).resolve() for target in re.findall(r"\]\(([^)#\s]+)", readme)}
    assert set(PAGES[1:]) - linked == set(), "docs/ pages the README does not link"
    assert {"make report", "make test"} <= {line.split("#")[0].strip() for line in code_lines(readme)}
    assert len(readme.splitlines()) <= README_LINES
