"""Figures of one pruned model: the per-layer sparsity bars, the |gamma| histogram with the threshold, and the
latency-budget search (latency and GFLOPs against the threshold)."""

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
    """Stacked bars per layer (a `layers.csv` table): kept, restored/pruned by alignment, pruned by threshold.

    Args:
        layers (pd.DataFrame): The layers.csv table (`layer`, `kept`, `pruned_threshold`, `align_delta`).
        path (Path): The PNG to write.
        title (str): Added to the title after "Channels per layer".

    Returns:
        (Path): `path`.
    """
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
    """Histogram of |gamma| over every prunable BatchNorm, with the threshold drawn (log-scaled counts).

    Args:
        gammas (np.ndarray): The |gamma| values.
        threshold (float): The |gamma| threshold drawn; not finite: none (a model pruned by another rule).
        path (Path): The PNG to write.

    Returns:
        (Path): `path`.
    """
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.hist(gammas, bins=100, color="#4c72b0")
    if not np.isfinite(threshold):  # pruned by another rule (Torch-Pruning): no |gamma| threshold to draw
        ax.set_yscale("log")
        ax.set_xlabel("|gamma|")
        ax.set_title("|gamma| of prunable layers")
        fig.tight_layout()
        return save_figure(fig, path, dpi=120)
    ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:.4g}")
    under = float((gammas < threshold).mean()) if len(gammas) else 0.0
    ax.set_yscale("log")
    ax.set_xlabel("|gamma|")
    ax.set_ylabel("channels")
    ax.set_title(f"|gamma| of prunable layers: {under:.1%} under the threshold")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_search(
    search: pd.DataFrame,
    path: Path,
    *,
    budget: str,
    relative: bool,
    value: float,
    aim: float | None = None,
    knob: str = "|gamma| threshold",
) -> Path:
    """A latency-budget search (search.csv): latency (or its ratio to the base model) and GFLOPs against the
    searched `knob`, the budget (and the aim under it) as lines, the chosen structure marked.

    Args:
        search (pd.DataFrame): The search.csv table.
        path (Path): The PNG to write.
        budget (str): The budget as written ("0.5x", "20ms"), for the labels.
        relative (bool): Plot the latency's ratio to the base model (a budget in "x"); else milliseconds.
        value (float): The budget on the plotted scale.
        aim (float | None): The aim under the budget, with the search's margin; None (or `value`): not drawn.
        knob (str): The x axis label: what search.csv's `threshold` column holds (a |gamma| threshold, or
            Torch-Pruning's global channel ratio).

    Returns:
        (Path): `path`.
    """
    fig = Figure(figsize=(7, 3.8))
    ax = fig.subplots()
    column, label = ("ratio", "latency / base model") if relative else ("latency_median_ms", "latency (ms)")
    low, high = ("ratio_lo", "ratio_hi") if relative else ("latency_lo_ms", "latency_hi_ms")
    y = search[column].to_numpy()
    err = np.vstack([y - search[low].to_numpy(), search[high].to_numpy() - y])
    ax.errorbar(search["threshold"], y, yerr=err, fmt="o-", color="#4c72b0", ms=4, capsize=2, label=label)
    ax.axhline(value, color="#c44e52", linestyle="--", label=f"budget {budget}")
    if aim is not None and aim != value:
        ax.axhline(aim, color="#c44e52", linestyle=":", label=f"aim {aim:.3g} (margin)")
    chosen = search[search["chosen"]]
    ax.scatter(chosen["threshold"], chosen[column], s=120, facecolors="none", edgecolors="#c44e52", zorder=3,
               label="chosen")  # fmt: skip
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_xlabel(knob)
    ax.set_ylabel(label)
    flops = ax.twinx()
    flops.plot(search["threshold"], search["gflops"], "s:", color="#55a868", ms=3, label="GFLOPs")
    flops.set_ylabel("GFLOPs")
    handles = [h for a in (ax, flops) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper right")
    ax.set_title(f"Search for the largest structure within {budget}")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
