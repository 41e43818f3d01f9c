"""The notebooks as text: each paired with its jupytext py:percent file, one title style, `##` sections, no
committed outputs, and the report's markdown cells translated for `report.lang: zh`."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from yoloslim.config import ROOT
from yoloslim.report.build import report_cells, translations

NOTEBOOKS = ROOT / "notebooks"
IPYNB = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_its_pair() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.py")} == {p.stem for p in IPYNB}


@pytest.mark.parametrize("notebook", IPYNB, ids=lambda p: p.stem)
def test_pair_in_sync(notebook: Path) -> None:
    expected = jupytext.writes(jupytext.read(notebook), fmt="py:percent")
    paired = notebook.with_suffix(".py")
    assert paired.read_text(encoding="utf-8") == expected, f"run `jupytext --sync {paired.relative_to(ROOT)}`"


@pytest.mark.parametrize("notebook", IPYNB, ids=lambda p: p.stem)
def test_title_sections_and_no_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert nb.cells[0].cell_type == "markdown" and re.match(rf"# {notebook.stem[:2]} · \S", markdown[0])
    headings = [line for source in markdown for line in source.splitlines() if line.startswith("#")]
    assert [h for h in headings if h.startswith("# ")] == [headings[0]]  # one title; sections are ## and below
    assert any(h.startswith("## ") for h in headings)
    assert any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells)
    assert [cell.outputs for cell in nb.cells if cell.cell_type == "code" and cell.outputs] == []


def _heading_numbers(markdown: str) -> list[tuple[str, str]]:
    """Each heading's level and section number: `### 2.1 Sparse training` -> ("###", "2.1")."""
    return [tuple(line.split()[:2]) for line in markdown.splitlines() if line.startswith("#")]


def test_report_markdown_translated() -> None:
    cells = report_cells(nbformat.read(NOTEBOOKS / "07_report.ipynb", as_version=4))
    markdown = {cell.source for cell in cells if cell.cell_type == "markdown"}
    words = translations("zh")
    assert markdown - set(words) == set()  # every markdown cell of the report has its Chinese
    assert set(words) - markdown == set()  # and none is stale: each entry's English is a cell's text now
    assert [en for en, zh in words.items() if _heading_numbers(en) != _heading_numbers(zh)] == []
    assert len(markdown) >= 15 and all(zh.strip() and "\n\n\n" not in zh for zh in words.values())
