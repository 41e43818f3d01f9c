"""The executed report notebook -> one self-contained offline HTML file -> a PDF (headless Chromium).

    python -m yoloslim.report.build runs/demo/notebooks/07_report.ipynb reports/demo/report.html [--no-pdf]

The report is the notebook's outputs from its parameters cell on: every word in `report.lang` (by text id,
`yoloslim.text`), the tables and figures. The HTML hides code, inlines every image and loads nothing from the
network (the `offline_html` template empties the CDN blocks). Without Chromium the HTML is still written, and a
message says how to get the PDF.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import get_args

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode

from yoloslim.atomic import atomic_path, write_text
from yoloslim.config import Lang, package_file

TEMPLATES = package_file("templates")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PDF_HINT = (
    "report.pdf not written: Chromium is not installed. Install it with "
    "`sudo apt-get install --no-install-recommends chromium fonts-noto-cjk` (or `make system-deps`), then run "
    "`.venv/bin/python -m yoloslim.report.build {notebook} {html}`, or open the HTML in a browser and print it."
)


def build_html(notebook: Path, html: Path, lang: str = "en") -> Path:
    """Convert an executed notebook to offline HTML: no code, no stderr, images inline, no network loads.

    Args:
        notebook (Path): The executed report notebook.
        html (Path): The HTML file to write (its stem is the title when the report has no `# ` heading).
        lang (str): The report's language (`report.lang`), the page's language code: `zh` (zh-CN) or else `en`.

    Returns:
        (Path): `html`.
    """
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = report_cells(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    titles = [line for o in outputs for line in _markdown_lines(o) if line.startswith("# ")]
    nb.metadata["title"] = titles[0][2:].strip() if titles else html.stem
    exporter = HTMLExporter(template_name="offline_html", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.language_code = "zh-CN" if lang == "zh" else "en"
    body, _ = exporter.from_notebook_node(nb)
    remote = network_loads(body)
    if remote:
        raise RuntimeError(f"{html}: the report would load from the network: {remote[:3]}")
    write_text(html, body)
    return html


def report_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The cells the report shows: the parameters cell and those below it (the ones above describe the notebook)."""
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    return nb.cells[tagged[0] if tagged else 0 :]


def network_loads(html: str) -> list[str]:
    """http(s) URLs the page would fetch: script/img/iframe sources and stylesheet links."""
    pattern = r"<(?:script|img|iframe|source)[^>]*\ssrc=[\"'](https?:[^\"']+)|<link[^>]*\shref=[\"'](https?:[^\"']+)"
    return [a or b for a, b in re.findall(pattern, html, flags=re.IGNORECASE)]


def find_browser() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path, browser: str, timeout: float = 180) -> Path:
    """Print `html` to `pdf` with headless Chromium (no header/footer, no network).

    Args:
        html (Path): The HTML report.
        pdf (Path): The PDF to write (atomically).
        browser (str): The Chromium executable (`find_browser`).
        timeout (float): The seconds Chromium may take.

    Returns:
        (Path): `pdf`.

    Raises:
        RuntimeError: When Chromium fails or writes an empty PDF.
        subprocess.TimeoutExpired: When it takes longer than `timeout`.
    """
    with tempfile.TemporaryDirectory(prefix="yoloslim-chromium-") as profile, atomic_path(pdf) as tmp:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            "--disable-background-networking", "--disable-component-update", f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}", html.resolve().as_uri(),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(
                f"{browser} could not print {html} to PDF (exit {done.returncode}): {done.stderr[-800:]}"
            )
    return pdf


def build_report(notebook: Path, html: Path, lang: str = "en", pdf: bool = True) -> tuple[Path, Path | None]:
    """Write the HTML report and, when asked and Chromium is there, the PDF next to it.

    Args:
        notebook (Path): The executed report notebook.
        html (Path): The HTML file to write; the PDF is the same path with `.pdf` (an older one is removed).
        lang (str): The report's language (`report.lang`).
        pdf (bool): Whether to print the PDF too; a failure to print is reported on stderr, not raised.

    Returns:
        (tuple[Path, Path | None]): The HTML file and the PDF (None when not written).
    """
    build_html(notebook, html, lang)
    pdf_path = html.with_suffix(".pdf")
    pdf_path.unlink(missing_ok=True)
    if not pdf:
        return html, None
    browser = find_browser()
    if browser is None:
        print(PDF_HINT.format(notebook=notebook, html=html), file=sys.stderr)
        return html, None
    try:
        return html, print_pdf(html, pdf_path, browser)
    except (RuntimeError, subprocess.TimeoutExpired) as err:  # the HTML report stands on its own
        print(f"report.pdf not written: {err}", file=sys.stderr)
        return html, None


def _markdown_lines(output: dict) -> list[str]:
    """Lines of a markdown display output (empty for other outputs)."""
    return str(output.get("data", {}).get("text/markdown", "")).splitlines()


def main(argv: list[str] | None = None) -> int:
    """Command line: build the HTML (and PDF) report from an executed report notebook."""
    parser = argparse.ArgumentParser(prog="python -m yoloslim.report.build", description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path, help="the executed 07_report notebook")
    parser.add_argument("html", type=Path, help="where to write report.html (report.pdf goes next to it)")
    parser.add_argument("--lang", default="en", choices=get_args(Lang), help="the report's language (`report.lang`)")
    parser.add_argument("--no-pdf", action="store_true", help="write only the HTML")
    args = parser.parse_args(argv)
    html, pdf = build_report(args.notebook, args.html, args.lang, pdf=not args.no_pdf)
    print(f"HTML {html}" + (f"\nPDF  {pdf}" if pdf else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
