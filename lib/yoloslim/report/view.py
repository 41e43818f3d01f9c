"""How the report notebook shows things: fonts, its own charts, and tables/figures/markdown as outputs.

Figures are displayed as PNG data (not files), so nbconvert inlines them and the HTML needs nothing else.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib import font_manager
from matplotlib import pyplot as plt

from yoloslim.report.data import (
    INTERVAL_COLUMNS,
    TABLE_COLUMNS,
    ReportData,
    accuracy_tables,
    column_chunks,
    pareto_front,
)
from yoloslim.text import text

CJK_FONT = "Noto Sans CJK SC"


def setup_fonts(lang: str) -> bool:
    """Use Noto Sans CJK SC (then DejaVu Sans) in figures; False when `lang` is zh and the font is missing.

    Matplotlib's font cache must postdate the fonts: install_system_deps.sh removes it after installing.
    """
    found = any(f.name == CJK_FONT for f in font_manager.fontManager.ttflist)
    matplotlib.rcParams["font.sans-serif"] = [CJK_FONT, "DejaVu Sans"] if found else ["DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return found or lang != "zh"


def show_markdown(body: str) -> None:
    """Display markdown as a notebook output."""
    from IPython.display import Markdown, display

    display(Markdown(body))


def show_page_end() -> None:
    """End the printed page here (the report's answer page): the next section starts on a new page."""
    from IPython.display import HTML, display

    display(HTML('<div class="yoloslim-page-end"></div>'))


def show_table(
    frame: pd.DataFrame, digits: int = 3, percent: bool = False, index: bool = True, max_columns: int = TABLE_COLUMNS
) -> None:
    """Display a table as HTML: floats with `digits` decimals (or as percentages), missing values as —; a table
    wider than `max_columns` (a per-class table of many classes) as several, cut between column groups
    (`column_chunks`), so that none is cut at the page edge.

    Args:
        frame (pd.DataFrame): The table.
        digits (int): Decimals of a float; as a percentage, `digits - 2` (at least 1).
        percent (bool): Show floats as percentages.
        index (bool): Show the index.
        max_columns (int): The most columns of one table.
    """
    from IPython.display import HTML, display

    def fmt(value: float) -> str:
        return f"{value:.{max(digits - 2, 1)}%}" if percent else f"{value:.{digits}f}"

    for part in column_chunks(frame, max_columns):
        display(HTML(part.to_html(float_format=fmt, na_rep="—", border=0, classes="yoloslim", index=index)))


def show_accuracy(data: ReportData, split: str, lang: str) -> None:
    """Display the accuracy tables of `split` (`accuracy_tables`), each under its caption; a table whose cells hold
    intervals (`0.600 [0.560,0.660]`), at most INTERVAL_COLUMNS columns side by side."""
    for caption, table in accuracy_tables(data, split, lang):
        show_markdown(caption)
        text_cells = any(not pd.api.types.is_numeric_dtype(dtype) for dtype in table.dtypes)  # "v [lo,hi]"
        show_table(table, max_columns=INTERVAL_COLUMNS if text_cells else TABLE_COLUMNS)


def show_settings(config: dict[str, Any]) -> None:
    """Display a configuration as YAML, one block per section (never split across columns or pages)."""
    from html import escape

    import yaml
    from IPython.display import HTML, display

    dump = {"sort_keys": False, "allow_unicode": True, "width": 56, "default_flow_style": None}  # leaves inline
    blocks = [escape(yaml.safe_dump({key: value}, **dump)) for key, value in config.items()]
    display(HTML('<div class="yoloslim-settings">' + "".join(f"<pre>{b}</pre>" for b in blocks) + "</div>"))


def show_figure(fig: plt.Figure) -> None:
    """Display a matplotlib figure as inline PNG data and close it."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buffer.getvalue()))


def show_image(path: Path, lang: str) -> None:
    """Display a stage's PNG figure inline, or say that it was not produced."""
    from IPython.display import Image, display

    if Path(path).is_file():
        display(Image(filename=str(path)))
    else:
        show_markdown(text(lang, "missing", path=path))


def plot_tradeoff(
    points: pd.DataFrame,
    x: str,
    budget: float | None,
    lang: str,
    engine: str = "",
    size: tuple[float, float] = (6.4, 4.2),
) -> plt.Figure:
    """Accuracy against `x` (latency_ms or gflops), every model labelled, the Pareto front joined.

    Args:
        points (pd.DataFrame): One row per model (`yoloslim.report.data.tradeoff_points`).
        x (str): The column on the x axis: `latency_ms` or `gflops`.
        budget (float | None): The latency budget in ms, drawn as a line on a latency axis; None: not drawn.
        lang (str): The language of the axis labels and legend.
        engine (str): The latency's engine, named in the latency axis label.
        size (tuple[float, float]): The figure's width and height in inches.

    Returns:
        (plt.Figure): The figure.
    """
    fig, ax = plt.subplots(figsize=size)
    _draw_tradeoff(ax, points, x, lang)
    if budget is not None and x == "latency_ms":
        ax.axvline(budget, color="tab:orange", lw=1.5, label=f"{budget:g} ms")
    ax.set_xlabel(text(lang, "latency_axis", engine=engine) if x == "latency_ms" else text(lang, "gflops_axis"))
    ax.set_ylabel(text(lang, "accuracy_axis"))
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_engine_fronts(points: dict[str, pd.DataFrame], lang: str) -> plt.Figure:
    """Accuracy against latency on each engine, one panel per engine, each with its own Pareto front.

    Args:
        points (dict[str, pd.DataFrame]): Engine -> its points (`yoloslim.report.data.engine_points`: on an INT8
            engine, the INT8 models' accuracy).
        lang (str): The language of the axis labels.

    Returns:
        (plt.Figure): The figure, two panels a row.
    """
    rows = math.ceil(len(points) / 2)
    fig, axes = plt.subplots(rows, 2, figsize=(9.6, 3.6 * rows), squeeze=False)
    for ax, (engine, frame) in zip(axes.flat, points.items(), strict=False):  # an odd count leaves one empty
        _draw_tradeoff(ax, frame, "latency_ms", lang, fontsize=6)
        ax.set_title(engine, fontsize=9)
        ax.set_xlabel(text(lang, "latency_axis", engine=engine), fontsize=8)
        ax.set_ylabel(text(lang, "accuracy_axis"), fontsize=8)
    for ax in axes.flat[len(points) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


KIND_COLORS = {"base": "tab:blue", "sparse": "tab:gray", "pruned": "tab:red", "random": "tab:purple",
               "alternative": "tab:orange", "variant": "tab:green"}  # fmt: skip


def _draw_tradeoff(ax: plt.Axes, points: pd.DataFrame, x: str, lang: str, fontsize: int = 8) -> None:
    """Every model with its label (and its 95 % interval where it has one), coloured by kind, and the Pareto front
    joined by a dashed line."""
    for row in points.itertuples():
        if not pd.isna(getattr(row, x)) and not pd.isna(row.mmAP):
            color = KIND_COLORS.get(row.kind, "black")
            ax.scatter(getattr(row, x), row.mmAP, color=color, zorder=3)
            if not pd.isna(row.mmAP_lo):  # the 95 % bootstrap interval
                spread = [[row.mmAP - row.mmAP_lo], [row.mmAP_hi - row.mmAP]]
                ax.errorbar(getattr(row, x), row.mmAP, yerr=spread, color=color, lw=1, capsize=2, zorder=2)
            ax.annotate(row.label, (getattr(row, x), row.mmAP), textcoords="offset points", xytext=(4, 4),
                        fontsize=fontsize)  # fmt: skip
    front = pareto_front(points[x].tolist(), points["mmAP"].tolist())
    pareto = text(lang, "pareto_legend")
    ax.plot(points[x].iloc[front], points["mmAP"].iloc[front], "--", color="black", lw=1, label=pareto)
    ax.grid(alpha=0.3)


def plot_convergence(curves: dict[str, pd.DataFrame], column: str, lang: str) -> plt.Figure:
    """Validation mmAP per epoch of each labelled training run.

    Args:
        curves (dict[str, pd.DataFrame]): Label -> its results.csv.
        column (str): The results.csv column plotted (the validation mmAP's).
        lang (str): The language of the epoch axis label.

    Returns:
        (plt.Figure): The figure.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for label, curve in curves.items():
        ax.plot(curve["epoch"], curve[column], marker="." if len(curve) < 30 else None, label=label)
    ax.set_xlabel(text(lang, "epoch_axis"))
    ax.set_ylabel("mmAP (val)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
