"""Sparse training: an L1 penalty on BatchNorm gammas (network slimming), logged every epoch.

`SparseTrainer.optimizer_step` adds `sl * sign(gamma)` to the gradient of every penalized BatchNorm weight
(see `yoloslim.gammas.penalized_bns`) after the loss is unscaled and before gradient clipping: it adds
`sl * sign(gamma) * loss_scale` just before the stock step, whose unscale then leaves exactly
`sl * sign(gamma)`, with or without AMP, and under DDP (the term is added after the gradients are averaged).
It is added once per optimizer step.

The settings travel with the trainer's callbacks (so they reach DDP workers): `Sparsity` attaches itself to
the trainer and logs `gamma_log.csv` and `gamma_hist.csv` after every epoch.

    from yoloslim.sparse import run_sparse
    run_sparse(cfg)    # runs/<config>/sparse/: weights.pt, gamma_log.csv, gamma_hist.csv, ...
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from ultralytics.utils import RANK
from ultralytics.utils.torch_utils import unwrap_model

from yoloslim.config import Config
from yoloslim.gammas import fraction_under, gamma_histogram, gamma_quantile, gamma_values, penalized_bns
from yoloslim.modelbuild import build_model, load_trainable, model_yaml
from yoloslim.paths import METRICS, WEIGHTS, StudyPaths
from yoloslim.train import TrainJob, YoloTrainer, file_digest, read_metrics, run_training, train_args

GAMMA_LOG = "gamma_log.csv"
GAMMA_HIST = "gamma_hist.csv"


@dataclass
class Sparsity:
    """The L1 settings of a sparse run and its per-epoch gamma logger (registered as trainer callbacks).

    `targets` maps pruned-model names to thresholds (policy `threshold`: the log has `frac_under_<name>`) or
    to fractions (policy `fraction`: the log has `gamma_q_<name>`, the |gamma| below which that fraction lies).
    """

    sl: float
    schedule: str = "constant"
    exclude_head: bool = False
    targets: dict[str, float] = field(default_factory=dict)
    policy: str = "threshold"
    out: Path | None = None  # folder of gamma_log.csv / gamma_hist.csv; None: no logging

    def sl_at(self, epoch: int, epochs: int) -> float:
        """`sl` at an epoch (0-based): constant, or decaying linearly or along a half cosine towards 0."""
        t = min(max(epoch / max(epochs, 1), 0.0), 1.0)
        if self.schedule == "linear":
            return self.sl * (1 - t)
        if self.schedule == "cosine":
            return self.sl * 0.5 * (1 + math.cos(math.pi * t))
        return self.sl

    def attach(self, trainer: Any) -> None:
        """Callback (on_pretrain_routine_end): give the trainer these settings; log the start (epoch 0)."""
        trainer.sparsity = self
        if trainer.start_epoch == 0:
            self._log(trainer, 0)

    def log_epoch(self, trainer: Any) -> None:
        """Callback (on_fit_epoch_end): log the EMA model's gammas after each training epoch."""
        if trainer.epoch < trainer.epochs:  # not the extra call of Ultralytics' final validation
            self._log(trainer, trainer.epoch + 1)

    def row(self, gammas: torch.Tensor, sl: float) -> dict[str, float]:
        """One gamma_log.csv row (without the epoch) for these |gamma| values."""
        mean = float(gammas.mean()) if gammas.numel() else 0.0
        row = {"sl": sl, "sl_mloss": sl * mean, "gamma_mean": mean}
        for name, value in self.targets.items():
            if self.policy == "threshold":
                row[f"frac_under_{name}"] = fraction_under(gammas, value)
            else:
                row[f"gamma_q_{name}"] = gamma_quantile(gammas, value)
        return row

    def _log(self, trainer: Any, epoch: int) -> None:
        if self.out is None or RANK not in {-1, 0}:
            return
        model = trainer.ema.ema if trainer.ema else unwrap_model(trainer.model)
        gammas = gamma_values(model, self.exclude_head)
        sl = self.sl_at(max(epoch - 1, 0), trainer.epochs)
        _append(self.out / GAMMA_LOG, epoch, [{"epoch": epoch, **self.row(gammas, sl)}])
        hist = [{"epoch": epoch, "bin_left": a, "bin_right": b, "count": c} for a, b, c in gamma_histogram(gammas)]
        _append(self.out / GAMMA_HIST, epoch, hist)


class SparseTrainer(YoloTrainer):
    """DetectionTrainer with the network-slimming L1 term on BatchNorm gammas (see the module docstring).

    Its settings come from a `Sparsity` registered as callbacks (`add_sparsity_callbacks`).
    """

    sparsity: Sparsity | None = None

    def optimizer_step(self) -> None:
        """Add `sl * sign(gamma) * loss_scale` to each penalized gamma's gradient, then the stock step."""
        if self.sparsity is not None:
            sl = self.sparsity.sl_at(self.epoch, self.epochs)
            scale = self.scaler.get_scale() if self.scaler.is_enabled() else 1.0
            add_l1_grad(self._bns(), sl * scale)
        super().optimizer_step()

    def _bns(self) -> list[nn.BatchNorm2d]:
        if getattr(self, "_penalized", None) is None:
            model = unwrap_model(self.model)
            self._penalized = [m for _, m in penalized_bns(model, self.sparsity.exclude_head)]
        return self._penalized


def add_l1_grad(bns: list[nn.BatchNorm2d], factor: float) -> None:
    """Add `factor * sign(gamma)` to the gradient of each BatchNorm weight (creating it when missing)."""
    if factor == 0:
        return
    with torch.no_grad():
        for bn in bns:
            term = torch.sign(bn.weight) * factor
            if bn.weight.grad is None:
                bn.weight.grad = term.clone()
            else:
                bn.weight.grad.add_(term)


def add_sparsity_callbacks(trainer_callbacks: list[tuple[str, Any]], sparsity: Sparsity) -> None:
    """Register a `Sparsity`'s callbacks in a TrainJob's callback list."""
    trainer_callbacks += [("on_pretrain_routine_end", sparsity.attach), ("on_fit_epoch_end", sparsity.log_epoch)]


def run_sparse(cfg: Config, callbacks: Sequence[tuple[str, Callable]] = ()) -> Path:
    """Sparse-train from the trained base model (`sparse.start: base`) or from scratch; returns `runs/<c>/sparse/`.

    The recipe is the base model's (`train` section) with `sparse.epochs` and `sparse.lr0`. The last epoch's
    model is kept (the sparsest), not the best by mAP. `callbacks`: extra Ultralytics trainer callbacks.
    """
    paths = StudyPaths.of(cfg)
    s = cfg.sparse
    base = paths.train("base") / WEIGHTS
    if s.start == "base" and not base.is_file():
        raise FileNotFoundError(f"{base}: no trained base model; run the train stage first (sparse.start: base)")
    start = base if s.start == "base" else None
    nc = len(cfg.data.names)
    sparsity = Sparsity(s.sl, s.schedule, s.exclude_head, cfg.prune_targets(), cfg.prune.policy, paths.sparse)

    def build() -> nn.Module:
        model = build_model(cfg, nc)
        if start is not None:
            model.load(load_trainable(start))
        return model

    def extra(stage: Path) -> dict[str, Any]:
        log = pd.read_csv(stage / GAMMA_LOG)
        return {"sl": s.sl, "schedule": s.schedule, "sl_mloss": float(log["sl_mloss"].iloc[-1])}

    job = TrainJob(
        stage=paths.sparse,
        name="sparse",
        trainer=SparseTrainer,
        build=build,
        args=train_args(cfg, epochs=s.epochs, lr0=s.lr0),
        key={
            "model": model_yaml(cfg),
            "sparse": cfg.section("sparse"),
            "targets": cfg.prune_targets(),
            "start": file_digest(start) if start else None,
        },
        keep="last",
        extra_metrics=extra,
        outputs=(GAMMA_LOG, GAMMA_HIST),
        callbacks=list(callbacks),
        precise_bn=cfg.train.precise_bn,
    )
    add_sparsity_callbacks(job.callbacks, sparsity)
    return run_training(job)


def _append(path: Path, epoch: int, rows: list[dict[str, Any]]) -> None:
    """Append rows for `epoch` to a CSV, first dropping rows of this epoch or later (left by an interrupted run)."""
    kept: list[dict[str, str]] = []
    if path.is_file():
        with open(path, newline="") as f:
            kept = [r for r in csv.DictReader(f) if int(r["epoch"]) < epoch]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept + rows)


def sparse_summary(cfg: Config) -> pd.DataFrame:
    """The sparse model's val accuracy next to the base model's, with its last logged sparsity."""
    paths = StudyPaths.of(cfg)
    rows = []
    for name, stage in (("base", paths.train("base")), ("sparse", paths.sparse)):
        if (stage / METRICS).is_file():
            m = read_metrics(stage)
            rows.append({"model": name, "epochs": m["epochs"], "params_m": m["params"] / 1e6, **m["val"]})
    table = pd.DataFrame(rows)
    if (paths.sparse / GAMMA_LOG).is_file():
        last = pd.read_csv(paths.sparse / GAMMA_LOG).iloc[-1].drop("epoch")
        for col, value in last.items():
            table.loc[table["model"] == "sparse", col] = value
    return table
