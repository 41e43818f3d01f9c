"""A pruned model's files: the checkpoint it is pruned from, and the weights.pt, tables and figures it is written to
(`yoloslim.paths.PruneFiles`, columns in docs/outputs.md). `prune_weights` is the CLI's job (`yoloslim prune`): one
checkpoint pruned at one threshold (or to a FLOPs budget) into a folder, without a study and without validation.

    from yoloslim.prune.files import prune_weights
    result, _ = prune_weights(Path("sparse.pt"), Path("pruned/"), threshold=0.05)  # pruned/weights.pt, layers.csv, ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from yoloslim.atomic import atomic_path
from yoloslim.config import ULTRALYTICS_IMGSZ, PruneConfig
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.stats import existing_weights
from yoloslim.paths import PruneFiles
from yoloslim.prune.figures import plot_gamma_hist, plot_sparsity
from yoloslim.prune.flops import FlopsChoice, within_flops
from yoloslim.prune.slimming import PruneResult, prune_model


def load_detection_model(weights: Path) -> tuple[torch.nn.Module, dict]:
    """The model (fp32, eval) and the checkpoint dict of an Ultralytics detection checkpoint."""
    from ultralytics.nn.tasks import load_checkpoint

    return load_checkpoint(existing_weights(weights), device="cpu")


def write_outputs(result: PruneResult, out: Path, train_args: dict | None = None) -> Path:
    """Write weights.pt, layers.csv, ratios.csv and the two figures of one pruned model into `out`.

    Args:
        result (PruneResult): The pruned model and its tables.
        out (Path): The folder (created if missing).
        train_args (dict | None): The training arguments the checkpoint keeps (those of the checkpoint pruned).

    Returns:
        (Path): The folder.
    """
    files = PruneFiles(Path(out))
    save_checkpoint(result.model, files.weights, train_args=train_args, info={"threshold": result.threshold})
    for path, table in ((files.layers, result.layers), (files.ratios, result.ratios)):
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    cut = f"|gamma| < {result.threshold:.4g}" if np.isfinite(result.threshold) else str(result.layers["note"].iloc[0])
    plot_sparsity(result.layers, files.figure("sparsity"), title=cut)
    plot_gamma_hist(result.gammas, result.threshold, files.figure("gamma_hist"))
    return files.dir


def prune_weights(
    weights: Path,
    out: Path,
    *,
    threshold: float | None = None,
    flops: str | None = None,
    round_to: int = PruneConfig.round_to,
    round_dir: str = PruneConfig.round_dir,
    attention: str = PruneConfig.attention,
    imgsz: int = ULTRALYTICS_IMGSZ,
) -> tuple[PruneResult, FlopsChoice | None]:
    """The CLI's job: prune one checkpoint by a threshold, or to a FLOPs budget, and write its outputs (no
    validation) into `out`.

    Args:
        weights (Path): The Ultralytics detection checkpoint to prune.
        out (Path): The folder the outputs are written to (`write_outputs`).
        threshold (float | None): The |gamma| threshold; give it or `flops`.
        flops (str | None): A FLOPs budget ("0.1x" of the checkpoint's, or GFLOPs, "0.5G"): the lowest threshold
            within it (`yoloslim.prune.flops`); the result's `threshold` is the one chosen.
        round_to (int): Kept counts are aligned to a multiple of it.
        round_dir (str): The direction of the alignment: `up`, `nearest` or `down`.
        attention (str): Attention blocks kept `intact` or narrowed to whole `heads`.
        imgsz (int): The image size of the FLOPs count.

    Returns:
        (tuple[PruneResult, FlopsChoice | None]): The pruned model and what was done to it, and for a FLOPs budget
            the choice of its threshold (`yoloslim.prune.flops.FlopsChoice`; else None).
    """
    if (threshold is None) == (flops is None):
        raise ValueError("prune_weights: give exactly one of threshold and flops")
    model, ckpt = load_detection_model(weights)
    options = {"round_to": round_to, "round_dir": round_dir, "attention": attention}
    choice = within_flops(model, flops, **options, imgsz=imgsz) if flops is not None else None
    result = prune_model(model, threshold=choice.threshold if choice else threshold, **options, imgsz=imgsz)
    write_outputs(result, out, ckpt.get("train_args"))
    return result, choice
