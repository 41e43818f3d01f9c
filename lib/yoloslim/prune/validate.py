"""What the prune stage checks of a pruned model before it writes metrics.json: its ONNX export
(`yoloslim.prune.onnx_check`), and its val mAP with and without the beta fold, at Ultralytics' own val settings.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from yoloslim.config import Config
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import WEIGHTS, PruneFiles, StudyPaths
from yoloslim.prune.onnx_check import OnnxCheck, check_onnx
from yoloslim.prune.slimming import FoldPair

_VAL_IOU = 0.7  # Ultralytics' own val default (with its conf, VAL_CONF): the mAP training reports, comparable


def check_exported_onnx(cfg: Config, files: PruneFiles, layers: pd.DataFrame) -> OnnxCheck:
    """Export the written weights.pt to weights.onnx beside it and check it.

    Args:
        cfg (Config): The study (its image size and `prune.round_to`).
        files (PruneFiles): The pruned model's folder, weights.pt written.
        layers (pd.DataFrame): Its layers.csv, which a parity failure's message holds.

    Returns:
        (OnnxCheck): The checks, both passed.

    Raises:
        RuntimeError: When a Conv other than the Detect outputs is not aligned, or ONNX Runtime's output differs
            from PyTorch's beyond the stated tolerance.
    """
    onnx = check_onnx(
        files.weights, files.dir, imgsz=cfg.train.imgsz, round_to=cfg.prune.round_to, onnx_name=files.onnx.name
    )
    onnx.require_aligned()
    onnx.require_parity(layers)
    return onnx


def validate_folds(cfg: Config, pair: FoldPair, files: PruneFiles) -> dict[bool, dict[str, float]]:
    """Val mAP50 and mAP50-95 of the pruned model with and without the beta fold, at Ultralytics' own val settings.

    The configured one (`prune.fold_beta`) is the written weights.pt, the other is saved to a temporary file. A pair
    of one result for both (a Torch-Pruning alternative, nothing to fold) is validated once.

    Args:
        cfg (Config): The study (its data, image size and `prune.fold_beta`).
        pair (FoldPair): The pruned model with and without the fold.
        files (PruneFiles): The pruned model's folder, weights.pt written.

    Returns:
        (dict[bool, dict[str, float]]): fold (true, then false) -> {"mAP50": ..., "mAP50-95": ...}.
    """
    from yoloslim.measure.accuracy import VAL_CONF, measure_accuracy

    data_yaml, val, written = StudyPaths.of(cfg).data.yaml, {}, cfg.prune.fold_beta
    with tempfile.TemporaryDirectory() as tmp:
        for fold, res in pair.items():
            if fold != written and pair.same:
                continue
            weights = files.weights if fold == written else save_checkpoint(res.model, Path(tmp) / WEIGHTS)
            rows = measure_accuracy(
                weights, data_yaml, split="val", imgsz=cfg.train.imgsz, conf=VAL_CONF, iou=_VAL_IOU,
                names=cfg.data.names,
            )  # fmt: skip
            val[fold] = {k: rows["all"][k] for k in ("mAP50", "mAP50-95")}
    return {fold: val.get(fold, val[written]) for fold, _ in pair.items()}
