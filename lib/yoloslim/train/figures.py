"""Figures of the training stages (matplotlib only, nothing downloaded), saved under each stage's `figures/`.

Each is drawn from its stage's own files only, so it is the same whatever ran before it, and it is redrawn only when
those files changed (`yoloslim.figures.drawn_from`): a stage notebook run again by hand rewrites none of them.

plot_learning_curves({"yolov5n": base / "results.csv", "1/2": half / "results.csv"}, out / "curves.png")
plot_sl_loss(sparse / "gamma_log.csv", sparse / "figures/sl_loss.png")
plot_gamma_epochs(sparse / "gamma_hist.csv", sparse / "figures/gamma_epochs.png")
plot_map_vs_base(sparse / "results.csv", base / "results.csv", sparse / "figures/map.png")
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from yoloslim.config import Config  # noqa: E402
from yoloslim.figures import drawn_from, figure_key, save_figure  # noqa: E402
from yoloslim.paths import StudyPaths  # noqa: E402
from yoloslim.study import finetune_jobs  # noqa: E402

MAP50, MAP = "metrics/mAP50(B)", "metrics/mAP50-95(B)"


def read_results(path: Path) -> pd.DataFrame:
    """Ultralytics' results.csv with stripped column names."""
    df = pd.read_csv(path)
    df.columns = [c.strip() for c in df.columns]
    return df


def plot_learning_curves(results: dict[str, Path], out: Path) -> Path:
    """Val mAP50-95 and train box loss per epoch, one line per model (label -> results.csv)."""
    key = figure_key(list(results.values()), labels=list(results))
    if drawn_from(out) == key:
        return out
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for label, path in results.items():
        df = read_results(path)
        for ax, col in zip(axes, (MAP50, MAP, "train/box_loss"), strict=True):
            if col in df:
                ax.plot(df["epoch"], df[col], marker="." if len(df) < 40 else None, label=label)
    for ax, title in zip(axes, ("val mAP50", "val mAP50-95", "train box loss"), strict=True):
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, out, key=key)


def plot_sl_loss(gamma_log: Path, out: Path) -> Path:
    """The sparsity loss `sl * mean|gamma|` and mean |gamma| per epoch."""
    key = figure_key([gamma_log])
    if drawn_from(out) == key:
        return out
    df = pd.read_csv(gamma_log)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(df["epoch"], df["sl_mloss"], marker=".", color="C3", label="sl_mloss")
    ax.set(xlabel="epoch", ylabel="sl * mean|gamma|", title="sparsity loss")
    twin = ax.twinx()
    twin.plot(df["epoch"], df["gamma_mean"], ls="--", color="C0", label="mean |gamma|")
    twin.set_ylabel("mean |gamma|")
    fig.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, out, key=key)


def plot_gamma_epochs(gamma_hist: Path, out: Path) -> Path:
    """The |gamma| distribution (log-spaced bins) over epochs as a heat map with a log colour scale (so the few
    channels a slimmed detector keeps show next to the mass near 0), and the last epoch's histogram beside it.

    The prune thresholds are not drawn: the sparse stage does not depend on them (`yoloslim.stages`), so a figure
    drawn with them would keep an edited threshold's old value. Each prune stage's gamma_hist.png shows its own."""
    key = figure_key([gamma_hist])
    if drawn_from(out) == key:
        return out
    df = pd.read_csv(gamma_hist)
    table = df.pivot_table(index="bin_left", columns="epoch", values="count", aggfunc="sum").sort_index()
    edges = np.append(table.index.to_numpy(), df["bin_right"].max())
    edges[0] = edges[1] / 10  # the [0, 1e-4) bin, drawn below 1e-4 on the log axis
    epochs = table.columns.to_numpy()
    x = np.append(epochs - 0.5, epochs[-1] + 0.5)
    frac = table.to_numpy() / np.maximum(table.to_numpy().sum(axis=0, keepdims=True), 1)
    fig, (ax, last) = plt.subplots(1, 2, figsize=(9, 4), sharey=True, gridspec_kw={"width_ratios": [3, 1]})
    norm = LogNorm(vmin=1e-3, vmax=1)
    mesh = ax.pcolormesh(x, edges, np.ma.masked_less_equal(frac, 0), cmap="magma_r", norm=norm, shading="flat")
    fig.colorbar(mesh, ax=last, label="fraction of channels (log scale)")
    last.barh(edges[:-1], frac[:, -1], height=np.diff(edges), align="edge", color="C3")
    last.set(xlabel="fraction of channels", title=f"epoch {epochs[-1]}")
    ax.set(yscale="log", xlabel="epoch", ylabel="|gamma|", title="BatchNorm |gamma| over sparse training")
    return save_figure(fig, out, key=key)


def plot_map_vs_base(sparse_results: Path, base_results: Path, out: Path) -> Path:
    """Val mAP50 and mAP50-95 per epoch of sparse training, next to the base model's.

    Args:
        sparse_results (Path): The sparse stage's results.csv.
        base_results (Path): The base model's results.csv.
        out (Path): The PNG to write; not redrawn when it was drawn from these same files (`drawn_from`).

    Returns:
        (Path): `out`.
    """
    key = figure_key([sparse_results, base_results])
    if drawn_from(out) == key:
        return out
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for label, path, style in (("base", base_results, "--"), ("sparse", sparse_results, "-")):
        df = read_results(path)
        for ax, col in zip(axes, (MAP50, MAP), strict=True):
            ax.plot(df["epoch"], df[col], ls=style, marker=".", label=label)
    for ax, title in zip(axes, ("val mAP50", "val mAP50-95"), strict=True):
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, key=key)


def write_train_figures(cfg: Config, model: str = "base") -> list[Path]:
    """`train/<model>/figures/learning_curves.png`: this model's curves (the trained models side by side:
    `yoloslim.train.base.summary_table`, and the report's convergence figure)."""
    paths = StudyPaths.of(cfg)
    labels = {"base": cfg.base_label, **{v.name: v.label for v in cfg.train.variants}}
    files = paths.train(model)
    return [plot_learning_curves({labels[model]: files.results}, files.figure("learning_curves"))]


def write_sparse_figures(cfg: Config) -> list[Path]:
    """`sparse/figures/`: sl_loss.png, gamma_epochs.png, and map.png (next to the base model, when trained)."""
    paths = StudyPaths.of(cfg)
    sparse, base = paths.sparse, paths.train("base")
    out = [
        plot_sl_loss(sparse.gamma_log, sparse.figure("sl_loss")),
        plot_gamma_epochs(sparse.gamma_hist, sparse.figure("gamma_epochs")),
    ]
    if base.results.is_file():
        out.append(plot_map_vs_base(sparse.results, base.results, sparse.figure("map")))
    return out


def write_finetune_figures(cfg: Config, model_id: str) -> list[Path]:
    """`finetune/<model_id>/figures/learning_curves.png`: its curves (next to the uniform-width baselines:
    `yoloslim.train.finetune.finetune_summary`, and the report's convergence figure)."""
    finetune_jobs(cfg, replicas=True)[model_id]  # KeyError for an id the study does not fine-tune
    stage = StudyPaths.of(cfg).finetune(model_id)
    return [plot_learning_curves({model_id: stage.results}, stage.figure("learning_curves"))]
