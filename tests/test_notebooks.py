"""The notebooks as text: each paired with its jupytext py:percent file, one title style, `##` sections, no
committed outputs, and the report's words shown by text id (`yoloslim.text`), none left in a markdown cell."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from yoloslim.config import ROOT
from yoloslim.report.build import report_cells
from yoloslim.text import TEXT

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
    markdown += [TEXT["en"][key] for key in _text_ids(nb.cells)]  # the report's headings are shown by text id
    assert nb.cells[0].cell_type == "markdown" and re.match(rf"# {notebook.stem[:2]} · \S", markdown[0])
    headings = [line for source in markdown for line in source.splitlines() if line.startswith("#")]
    assert [h for h in headings if h.startswith("# ")] == [headings[0]]  # one title; sections are ## and below
    assert any(h.startswith("## ") for h in headings)
    assert any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells)
    assert [cell.outputs for cell in nb.cells if cell.cell_type == "code" and cell.outputs] == []


def _heading_numbers(markdown: str) -> list[tuple[str, str]]:
    """Each heading's level and section number: `### 2.1 Sparse training` -> ("###", "2.1")."""
    return [tuple(line.split()[:2]) for line in markdown.splitlines() if line.startswith("#")]


def _text_ids(cells: list[nbformat.NotebookNode]) -> list[str]:
    """The text ids the code cells show: `text(lang, "s1_preparation")` -> s1_preparation."""
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    return list(dict.fromkeys(re.findall(r"""\btext\(lang, ["'](\w+)["']""", code)))


def test_report_words_by_text_id() -> None:
    cells = report_cells(nbformat.read(NOTEBOOKS / "07_report.ipynb", as_version=4))
    # a markdown cell would show the same words in every language: the report has none from its parameters on
    assert [cell.source for cell in cells if cell.cell_type == "markdown"] == []
    ids = _text_ids(cells)
    assert len(ids) >= 30 and [key for words in TEXT.values() for key in ids if key not in words] == []
    headings = [key for key in ids if TEXT["en"][key].startswith("#")]  # each section, numbered alike in each language
    numbers = {lang: [_heading_numbers(words[key]) for key in headings] for lang, words in TEXT.items()}
    assert len(headings) == 11 and numbers["zh"] == numbers["en"]
