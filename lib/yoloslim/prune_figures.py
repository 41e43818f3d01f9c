"""Figures of one pruned model: the per-layer sparsity bars and the |gamma| histogram with the threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from yoloslim.figures import save_figure

# stacked from the bottom; each layer's bar adds up to its original channels
_SEGMENTS = [
    ("kept", "#4c72b0"),
    ("restored by alignment", "#55a868"),
    ("pruned by threshold", "#c44e52"),
    ("pruned by alignment", "#dd8452"),
]


def sparsity_segments(layers: pd.DataFrame) -> pd.DataFrame:
    """Per layer: kept by the threshold, restored by alignment, pruned by the threshold, pruned by alignment."""
    delta = layers["align_delta"].to_numpy()
    restored, removed = delta.clip(min=0), (-delta).clip(min=0)
    return pd.DataFrame(
        {
            "kept": layers["kept"].to_numpy() - restored,
            "restored by alignment": restored,
            "pruned by threshold": layers["pruned_threshold"].to_numpy() - restored,
            "pruned by alignment": removed,
        },
        index=layers["layer"].to_numpy(),
    )


def plot_sparsity(layers: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Stacked bars per layer (a `layers.csv` table): kept, restored/pruned by alignment, pruned by threshold."""
    seg = sparsity_segments(layers)
    fig = Figure(figsize=(max(8.0, 0.22 * len(seg)), 4.5))
    ax = fig.subplots()
    x = np.arange(len(seg))
    bottom = np.zeros(len(seg))
    for name, color in _SEGMENTS:
        ax.bar(x, seg[name], bottom=bottom, color=color, label=name, width=0.8)
        bottom += seg[name].to_numpy()
    ax.set_xticks(x, seg.index, rotation=90, fontsize=6)
    ax.set_ylabel("channels")
    ax.set_title(f"Channels per layer {title}".strip())
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_gamma_hist(gammas: np.ndarray, threshold: float, path: Path) -> Path:
    """Histogram of |gamma| over every prunable BatchNorm, with the threshold drawn (log-scaled counts)."""
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.hist(gammas, bins=100, color="#4c72b0")
    ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:.4g}")
    under = float((gammas < threshold).mean()) if len(gammas) else 0.0
    ax.set_yscale("log")
    ax.set_xlabel("|gamma|")
    ax.set_ylabel("channels")
    ax.set_title(f"|gamma| of prunable layers: {under:.1%} under the threshold")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
