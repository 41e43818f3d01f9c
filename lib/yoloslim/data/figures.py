"""Figures and tables of the split stage: the tree with counts, the split per category, sample images."""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from yoloslim.data.check import Sample  # noqa: E402
from yoloslim.figures import save_figure
from yoloslim.shared import TEST_ONLY

_SPLIT_COLORS = {"train": "#4c72b0", "val": "#dd8452", "test": "#55a868", TEST_ONLY: "#a6d8b0"}


def split_columns(counts: pd.DataFrame) -> list[str]:
    """counts.csv's image-count columns: train, val, test, and test_only when the synthetic set has test-only
    images."""
    return [split for split in _SPLIT_COLORS if split in counts.columns]


_CLASS_COLORS = ["#d62728", "#2ca02c", "#1f77b4", "#9467bd", "#ff7f0e", "#8c564b"]


def format_tree(counts: pd.DataFrame) -> str:
    """The data set as a text tree (from counts.csv's rows): each category with its total, then its sources'
    counts, then the total."""
    lines = []
    for category, rows in counts.groupby("category", sort=False):
        lines.append(f"{category} {int(rows['total'].sum()):,}")
        sources = [r for r in rows.itertuples() if r.source]
        for i, row in enumerate(sources):
            lines.append(f"{'└──' if i == len(sources) - 1 else '├──'} {row.source} {int(row.total):,}")
    lines.append(f"total {int(counts['total'].sum()):,}")
    return "\n".join(lines)


def split_table(counts: pd.DataFrame) -> pd.DataFrame:
    """counts.csv with a total row."""
    cols = ["total", *split_columns(counts)]
    total = pd.DataFrame([{"category": "total", "source": "", **counts[cols].sum().to_dict()}])
    return pd.concat([counts[["category", "source", *cols]], total], ignore_index=True)


def plot_split(counts: pd.DataFrame, path: Path) -> Path:
    """Stacked bars of train/val/test images per category (from counts.csv's rows); saved to `path`."""
    per_category = counts.groupby("category", sort=False)[split_columns(counts)].sum()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    left = pd.Series(0, index=per_category.index)
    for split in per_category.columns:
        color = _SPLIT_COLORS[split]
        ax.barh(per_category.index, per_category[split], left=left, color=color, label=split)
        left = left + per_category[split]
    for y, total in enumerate(left):
        ax.text(total, y, f" {total}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("images")
    ax.set_title("Split per category")
    ax.legend(loc="lower right", fontsize=8)
    ax.margins(x=0.12)
    return save_figure(fig, path)


def plot_samples(samples: list[tuple[str, Sample]], names: list[str], path: Path, columns: int = 4) -> Path:
    """A grid of (title, image) with the labeled boxes drawn (color by class); saved to `path`.

    Args:
        samples (list[tuple[str, Sample]]): The images to show, each with its title, in grid order.
        names (list[str]): The class names by class id, written beside each box.
        path (Path): The PNG to write.
        columns (int): Images per row; the rows follow from the count.

    Returns:
        (Path): `path`.
    """
    rows = max(1, -(-len(samples) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, sample) in zip(axes.flat, samples, strict=False):
        image = cv2.cvtColor(cv2.imread(str(sample.image)), cv2.COLOR_BGR2RGB)
        height, width = image.shape[:2]
        ax.imshow(image)
        for cls, x, y, w, h in _boxes(sample):
            color = _CLASS_COLORS[cls % len(_CLASS_COLORS)]
            corner = ((x - w / 2) * width, (y - h / 2) * height)
            ax.add_patch(plt.Rectangle(corner, w * width, h * height, fill=False, color=color, lw=1.2))
            ax.text(corner[0], corner[1], names[cls], color="white", fontsize=6, backgroundcolor=color, va="bottom")
        ax.set_title(title, fontsize=7)
    fig.suptitle("Sample training images and their labels", fontsize=10)
    return save_figure(fig, path)


def _boxes(sample: Sample) -> list[tuple[int, float, float, float, float]]:
    """The (class, x, y, w, h) rows of a checked label file."""
    if sample.label is None:
        return []
    rows = [line.split() for line in sample.label.read_text().splitlines() if line.strip()]
    return [(int(float(r[0])), *(float(v) for v in r[1:])) for r in rows]
