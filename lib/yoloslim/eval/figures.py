"""Figures of the evaluation stage, drawn with matplotlib only (nothing downloaded, no Ultralytics plots).

plot_compare(accuracy_frame, Path("runs/demo/eval/figures/compare.png"), split="test")
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from yoloslim.figures import save_figure

GROUPED_CLASSES = 8  # up to this many classes (and `all`): grouped bars; more: a heatmap, one row per class


def plot_compare(accuracy: pd.DataFrame, out: Path, split: str = "test") -> Path:
    """mAP50 and mAP50-95 per class (and all) on `split` for every model: grouped bars, one bar per model, with
    error bars where `accuracy` has bootstrap intervals; with more than `GROUPED_CLASSES` classes, a heatmap with
    one row per class (`all` first) and one column per model, as tall as the classes need.

    Args:
        accuracy (pd.DataFrame): The accuracy table (accuracy.csv's columns: split, label, class, the metrics and
            their `_lo`/`_hi` bounds, if any).
        out (Path): The PNG to write.
        split (str): The split shown.

    Returns:
        (Path): `out`.
    """
    part = accuracy[accuracy["split"] == split]
    labels = list(dict.fromkeys(part["label"]))
    classes = list(dict.fromkeys(part["class"]))
    if len([c for c in classes if c != "all"]) > GROUPED_CLASSES:
        return _plot_heatmap(part, labels, classes, out, split)
    fig, axes = plt.subplots(1, 2, figsize=(min(max(8, 1.6 * len(classes) * 2), 16), 3.8), sharey=True)
    width = 0.8 / max(len(labels), 1)
    x = np.arange(len(classes))
    for ax, metric in zip(axes, ("mAP50", "mAP50-95"), strict=True):
        for i, label in enumerate(labels):
            rows = part[part["label"] == label].set_index("class").reindex(classes)
            spread = None
            if f"{metric}_lo" in rows and rows[f"{metric}_lo"].notna().any():  # the 95 % bootstrap interval
                spread = [
                    (rows[metric] - rows[f"{metric}_lo"]).fillna(0),
                    (rows[f"{metric}_hi"] - rows[metric]).fillna(0),
                ]
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, rows[metric].fillna(0), width, label=label, yerr=spread,
                   error_kw={"elinewidth": 0.8, "capsize": 1.5})  # fmt: skip
        ax.set_xticks(x, classes)
        ax.set_title(f"{metric} ({split}, all detections)")
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return save_figure(fig, out, dpi=120)


def _plot_heatmap(part: pd.DataFrame, labels: list[str], classes: list[str], out: Path, split: str) -> Path:
    """Many classes: mAP50 and mAP50-95 as two heatmaps side by side, a row per class (`all` first, set off by a
    line), a column per model, each cell's value written in it; the height grows with the classes and the width with
    the models, so the labels keep their size (a long figure continues over the report's pages)."""
    rows = ["all", *(c for c in classes if c != "all")] if "all" in classes else classes
    width = 2 * max(2.5, 0.5 * len(labels)) + 2.5
    fig, axes = plt.subplots(1, 2, figsize=(width, 0.22 * len(rows) + 1.8), sharey=True)
    for ax, metric in zip(axes, ("mAP50", "mAP50-95"), strict=True):
        values = part.pivot_table(index="class", columns="label", values=metric, aggfunc="first")
        values = values.reindex(index=rows, columns=labels).to_numpy(dtype=float)
        image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6.5,
                        color="white" if value < 0.5 else "black")  # fmt: skip
        if "all" in classes:
            ax.axhline(0.5, color="white", lw=2)
        ax.set_xticks(np.arange(len(labels)), labels, fontsize=8)
        ax.set_yticks(np.arange(len(rows)), rows, fontsize=8)
        ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False)
        plt.setp(ax.get_xticklabels(), rotation=60, ha="left", rotation_mode="anchor")
        ax.set_xlabel(f"{metric} ({split}, all detections)", fontsize=10)
    fig.colorbar(image, ax=axes[1], fraction=0.08, pad=0.04, aspect=40)
    return save_figure(fig, out, dpi=120)
