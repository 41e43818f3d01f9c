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


def plot_compare(accuracy: pd.DataFrame, out: Path, split: str = "test") -> Path:
    """Grouped bars: mAP50 and mAP50-95 per class (and all) on `split`, one bar per model, with error bars where
    `accuracy` has bootstrap intervals.

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
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(classes) * 2), 3.8), sharey=True)
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
