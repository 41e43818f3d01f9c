"""Sparse training: an L1 penalty on BatchNorm gammas (network slimming), logged every epoch.

Network slimming: Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, *Learning Efficient Convolutional
Networks through Network Slimming*, ICCV 2017 (arXiv:1708.06519). It adds `sl * sum|gamma|` over the
BatchNorm scale factors to the loss, so that channels the detector does not need are driven to gamma ~ 0
and can be pruned by an absolute |gamma| threshold (`yoloslim.prune.stage`). Where the L1 term acts on a
stock Ultralytics step (unscale, clip the whole gradient to norm 10, optimizer step) is `sparse.l1`:
`after_clip` (default), `before_clip` or `proximal` (docs/method.md, "Where the L1 term acts").

No term is added on a step that AMP skips (non-finite gradients). Every applied step counts in the log: the
optimizer steps so far and the L1 budget `sum_t lr_t * sl_t` (lr of the BatchNorm parameter group at that
step), the distance L1 alone could move a gamma. `yoloslim.train.budget` computes the same budget from a
config's settings before training.

The settings travel with the trainer's callbacks (so they reach DDP workers): `Sparsity` attaches itself to
the trainer and logs `gamma_log.csv`, `gamma_hist.csv` and every |gamma| (`gammas.npz`) after every epoch. The
fraction under a prune threshold is read from `gammas.npz` afterwards (`yoloslim.shared.fractions_under`), so the
stage does not depend on the prune targets: a threshold edited after sparse training changes only the prune stage.

    from yoloslim.train.sparse import run_sparse
    run_sparse(cfg)    # runs/<config>/sparse/: weights.pt, gamma_log.csv, gamma_hist.csv, gammas.npz, ...
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from ultralytics.utils import RANK
from ultralytics.utils.torch_utils import unwrap_model

from yoloslim.atomic import atomic_path
from yoloslim.config import Config
from yoloslim.models.attention import AttentionMode
from yoloslim.models.build import build_model, load_trainable
from yoloslim.models.gammas import Channels, fraction_under, gamma_histogram, gamma_values, penalized_bns
from yoloslim.paths import SparseFiles, StudyPaths
from yoloslim.shared import fractions_under
from yoloslim.stages import stage_key
from yoloslim.train.runner import TrainJob, YoloTrainer, read_metrics, run_training, train_args


@dataclass
class Sparsity:
    """The L1 settings of a sparse run, its step bookkeeping and its per-epoch gamma logger (trainer callbacks).

    `steps` and `budget` count the optimizer steps and `sum lr * sl` applied so far (see the module docstring).
    """

    sl: float
    schedule: str = "constant"
    l1: str = "after_clip"
    recover_epochs: int = 0
    exclude_head: bool = False
    attention: AttentionMode = "intact"  # prune.attention: "heads" penalizes the attention blocks too
    out: Path | None = None  # folder of gamma_log.csv, gamma_hist.csv and gammas.npz (the stage's ultra/); None: none
    stop_fraction: float | None = None  # L1 off for good once this fraction of gammas is under `stop_under`
    stop_under: float = 0.01
    steps: int = 0
    budget: float = 0.0
    stopped_at: int | None = None  # the step count at which `stop_fraction` was reached

    def sl_at(self, epoch: int, epochs: int) -> float:
        """`sl` at an epoch (0-based): 0 in the last `recover_epochs`; before them constant, or decaying
        linearly or along a half cosine towards 0 over the penalized epochs."""
        penalized = epochs - self.recover_epochs
        if epoch >= penalized:
            return 0.0
        t = min(max(epoch / max(penalized, 1), 0.0), 1.0)
        if self.schedule == "linear":
            return self.sl * (1 - t)
        if self.schedule == "cosine":
            return self.sl * 0.5 * (1 + math.cos(math.pi * t))
        return self.sl

    def sl_now(self, epoch: int, epochs: int) -> float:
        """`sl` for the next step: 0 once the sparsity target has been reached, else `sl_at`."""
        return 0.0 if self.stopped_at is not None else self.sl_at(epoch, epochs)

    def count(self, lr: float, sl: float, gammas: Callable[[], torch.Tensor]) -> None:
        """Book one applied optimizer step; stop the L1 term when the live |gamma| reach the sparsity target.

        Args:
            lr (float): The BatchNorm parameter group's learning rate at this step.
            sl (float): This step's `sl`.
            gammas (Callable[[], torch.Tensor]): Reads the live |gamma|; called only while a sparsity target
                (`stop_fraction`) is pending.
        """
        self.steps += 1
        self.budget += lr * sl
        if self.stop_fraction is not None and self.stopped_at is None:
            if fraction_under(gammas(), self.stop_under) >= self.stop_fraction:
                self.stopped_at = self.steps

    def attach(self, trainer: Any) -> None:
        """Callback (on_pretrain_routine_end): give the trainer these settings; log the start (epoch 0), or
        take the step count and budget back from the log when resuming."""
        trainer.sparsity = self
        if trainer.start_epoch == 0:
            self.steps, self.budget, self.stopped_at = 0, 0.0, None
            self._log(trainer, 0)
        elif self.out is not None and SparseFiles(self.out).gamma_log.is_file():
            log = pd.read_csv(SparseFiles(self.out).gamma_log)
            done = log[log["epoch"] <= trainer.start_epoch]
            if len(done):
                last = done.iloc[-1]
                self.steps, self.budget = int(last["steps"]), float(last["l1_budget"])
                self.stopped_at = None if pd.isna(last["l1_stopped_at"]) else int(last["l1_stopped_at"])

    def log_epoch(self, trainer: Any) -> None:
        """Callback (on_train_epoch_end): log the EMA model's gammas after each training epoch, before Ultralytics
        saves the epoch's checkpoint, so that a checkpoint never gets ahead of the log it resumes from."""
        self._log(trainer, trainer.epoch + 1)

    def row(self, gammas: torch.Tensor, sl: float) -> dict[str, float]:
        """One gamma_log.csv row (without the epoch) for these |gamma| values."""
        mean = float(gammas.mean()) if gammas.numel() else 0.0
        row = {"steps": self.steps, "sl": sl, "l1_budget": self.budget, "l1_stopped_at": self.stopped_at,
               "sl_mloss": sl * mean, "gamma_mean": mean}  # fmt: skip
        return row

    def _log(self, trainer: Any, epoch: int) -> None:
        if self.out is None or RANK not in {-1, 0}:
            return
        model = trainer.ema.ema if trainer.ema else unwrap_model(trainer.model)
        gammas = gamma_values(model, self.exclude_head, self.attention)
        sl = self.sl_at(max(epoch - 1, 0), trainer.epochs) if self.stopped_at is None else 0.0
        files = SparseFiles(self.out)
        _append(files.gamma_log, epoch, [{"epoch": epoch, **self.row(gammas, sl)}])
        hist = [{"epoch": epoch, "bin_left": a, "bin_right": b, "count": c} for a, b, c in gamma_histogram(gammas)]
        _append(files.gamma_hist, epoch, hist)
        _append_gammas(files.gammas, epoch, gammas)


class SparseTrainer(YoloTrainer):
    """DetectionTrainer with the network-slimming L1 term on BatchNorm gammas (see the module docstring).

    Its settings come from a `Sparsity` registered as callbacks (`add_sparsity_callbacks`). Ultralytics' own step
    runs unchanged: the term is placed by step hooks on the optimizer (`add_l1_hooks`), `before_clip` alone adds
    it to the gradient before that step.
    """

    sparsity: Sparsity | None = None

    def build_optimizer(self, *args: Any, **kwargs: Any) -> torch.optim.Optimizer:
        """Ultralytics' optimizer with the L1 step hooks (built by each DDP worker, and when resuming)."""
        optimizer = super().build_optimizer(*args, **kwargs)
        self.add_l1_hooks(optimizer)
        return optimizer

    def add_l1_hooks(self, optimizer: torch.optim.Optimizer) -> None:
        """Register the L1 term's hooks on `optimizer`: before its update (after Ultralytics' unscale and clip) the
        `after_clip` term; after it the `proximal` soft-threshold and the step count. A step that AMP skips
        (non-finite gradients: the scaler does not call `optimizer.step`, see `_skipped`) adds and counts nothing."""
        optimizer.register_step_pre_hook(self._before_update)
        optimizer.register_step_post_hook(self._after_update)

    def optimizer_step(self) -> None:
        """Ultralytics' step; with `before_clip`, the L1 term added to the (still scaled) gradient first."""
        s = self.sparsity
        if s is not None and s.l1 == "before_clip":
            scale = self.scaler.get_scale() if self.scaler.is_enabled() else 1.0
            add_l1_grad(self._bns(), s.sl_now(self.epoch, self.epochs) * scale)  # unscaled: sl * sign(gamma)
        super().optimizer_step()

    def _before_update(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        s = self.sparsity
        if s is not None and s.l1 == "after_clip" and not _skipped(optimizer):
            add_l1_grad(self._bns(), s.sl_now(self.epoch, self.epochs))

    def _after_update(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        s = self.sparsity
        if s is None or _skipped(optimizer):
            return
        sl, lr = s.sl_now(self.epoch, self.epochs), self._bn_lr(optimizer)
        if s.l1 == "proximal":
            soft_threshold(self._bns(), lr * sl)
        s.count(lr, sl, self._gammas)

    def _bns(self) -> list[tuple[nn.BatchNorm2d, Channels]]:
        if getattr(self, "_penalized", None) is None:
            model, s = unwrap_model(self.model), self.sparsity
            self._penalized = [(m, channels) for _, m, channels in penalized_bns(model, s.exclude_head, s.attention)]
        return self._penalized

    def _gammas(self) -> torch.Tensor:
        """The live |gamma| of every penalized BatchNorm channel (what the sparsity target is judged on)."""
        return torch.cat([bn.weight.detach()[channels].abs().flatten() for bn, channels in self._bns()])

    def _bn_lr(self, optimizer: torch.optim.Optimizer) -> float:
        """The current learning rate of the optimizer group that holds the BatchNorm weights."""
        bns = self._bns()
        if not bns:
            return 0.0
        weight = bns[0][0].weight
        group = next(g for g in optimizer.param_groups if any(p is weight for p in g["params"]))
        return float(group["lr"])


def _skipped(optimizer: torch.optim.Optimizer) -> bool:
    """Whether AMP skips this step although `optimizer.step` runs: the scaler does not call it on non-finite
    gradients, except on optimizers that skip inside their kernel (fused Adam/AdamW), which it hands `found_inf`."""
    found_inf = getattr(optimizer, "found_inf", None)
    return found_inf is not None and bool(found_inf)


def add_l1_grad(bns: list[tuple[nn.BatchNorm2d, Channels]], factor: float) -> None:
    """Add `factor * sign(gamma)` to the gradient of each BatchNorm's penalized channels (creating it when missing)."""
    if factor == 0:
        return
    with torch.no_grad():
        for bn, channels in bns:
            if bn.weight.grad is None:
                bn.weight.grad = torch.zeros_like(bn.weight)
            bn.weight.grad[channels] += torch.sign(bn.weight[channels]) * factor


def soft_threshold(bns: list[tuple[nn.BatchNorm2d, Channels]], amount: float) -> None:
    """The proximal step of `amount * |gamma|` on the penalized channels: `gamma <- sign(gamma) * max(|gamma| -
    amount, 0)`, in place."""
    if amount <= 0:
        return
    with torch.no_grad():
        for bn, channels in bns:
            w = bn.weight[channels]
            bn.weight[channels] = torch.sign(w) * torch.clamp(w.abs() - amount, min=0)


def add_sparsity_callbacks(trainer_callbacks: list[tuple[str, Any]], sparsity: Sparsity) -> None:
    """Register a `Sparsity`'s callbacks in a TrainJob's callback list."""
    trainer_callbacks += [("on_pretrain_routine_end", sparsity.attach), ("on_train_epoch_end", sparsity.log_epoch)]


def run_sparse(cfg: Config, callbacks: Sequence[tuple[str, Callable]] = ()) -> Path:
    """Sparse-train from the trained base model (`sparse.start: base`) or from scratch; returns `runs/<c>/sparse/`.

    The recipe is the base model's (`train` section) with `sparse.epochs`, `sparse.lr0` and `sparse.nbs`. The
    last epoch's model is kept (the sparsest), not the best by mAP. `callbacks`: extra Ultralytics trainer
    callbacks.
    """
    return run_training(sparse_job(cfg, callbacks))


def sparse_job(cfg: Config, callbacks: Sequence[tuple[str, Callable]] = ()) -> TrainJob:
    """The sparse stage's `TrainJob`: SparseTrainer, the starting model, and the `Sparsity` callbacks."""
    paths = StudyPaths.of(cfg)
    s = cfg.sparse
    base = paths.train("base").weights
    if s.start == "base" and not base.is_file():
        raise FileNotFoundError(f"{base}: no trained base model; run the train stage first (sparse.start: base)")
    start = base if s.start == "base" else None
    nc = len(cfg.data.names)
    sparsity = Sparsity(
        s.sl,
        s.schedule,
        s.l1,
        s.recover_epochs,
        s.exclude_head,
        attention=cfg.prune.attention,
        out=paths.sparse.ultra,  # copied up into sparse/ with the weights (TrainJob.logs)
        stop_fraction=s.stop_fraction,
        stop_under=s.stop_under,
    )

    def build() -> nn.Module:  # the base model as it is (its own architecture: a user's checkpoint's), or new
        return load_trainable(start) if start is not None else build_model(cfg, nc)

    def extra(stage: Path) -> dict[str, Any]:
        log = pd.read_csv(SparseFiles(stage).gamma_log)
        last = log.iloc[-1]
        return {
            "sl": s.sl,
            "l1": s.l1,
            "schedule": s.schedule,
            "sl_mloss": float(log.loc[log["sl"] > 0, "sl_mloss"].iloc[-1]),  # the last penalized epoch
            "steps": int(last["steps"]),
            "l1_budget": float(last["l1_budget"]),
            "l1_stopped_at": None if pd.isna(last["l1_stopped_at"]) else int(last["l1_stopped_at"]),
        }

    job = TrainJob(
        stage=paths.sparse.dir,
        name="sparse",
        trainer=SparseTrainer,
        build=build,
        args=train_args(cfg, epochs=s.epochs, lr0=s.lr0, nbs=s.nbs or cfg.train.nbs),
        key=stage_key(cfg, "sparse"),
        inputs={"start": start} if start else {},
        keep="last",
        extra_metrics=extra,
        logs=tuple(path.name for path in (paths.sparse.gamma_log, paths.sparse.gamma_hist, paths.sparse.gammas)),
        callbacks=list(callbacks),
        precise_bn=cfg.train.precise_bn,
    )
    add_sparsity_callbacks(job.callbacks, sparsity)
    return job


def _append(path: Path, epoch: int, rows: list[dict[str, Any]]) -> None:
    """Append rows for `epoch` to a CSV, first dropping rows of this epoch or later (left by an interrupted run)."""
    kept: list[dict[str, str]] = []
    if path.is_file():
        with open(path, newline="") as f:
            kept = [r for r in csv.DictReader(f) if int(r["epoch"]) < epoch]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept + rows)


def _append_gammas(path: Path, epoch: int, gammas: torch.Tensor) -> None:
    """Add one epoch's |gamma| to `gammas.npz`, dropping epochs from this one on (left by an interrupted run)."""
    kept = {}
    if path.is_file():
        with np.load(path) as saved:
            kept = {k: saved[k] for k in saved.files if int(k.removeprefix("epoch_")) < epoch}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **kept, **{f"epoch_{epoch}": gammas.numpy().astype(np.float32)})


def sparse_summary(cfg: Config) -> pd.DataFrame:
    """The sparse model's val accuracy next to the base model's, with its last logged sparsity and the fraction
    of gammas under each prune threshold."""
    paths = StudyPaths.of(cfg)
    rows = []
    for name, files in (("base", paths.train("base")), ("sparse", paths.sparse)):
        if files.metrics.is_file():
            m = read_metrics(files.dir)
            rows.append({"model": name, "epochs": m["epochs"], "params_m": m["params"] / 1e6, **m["val"]})
    table = pd.DataFrame(rows)
    if paths.sparse.gamma_log.is_file():
        last = pd.read_csv(paths.sparse.gamma_log).iloc[-1].drop("epoch")
        if paths.sparse.gammas.is_file():
            last = pd.concat([last, fractions_under(paths.sparse.gammas, cfg.prune.thresholds).iloc[-1]])
        for col, value in last.items():
            table.loc[table["model"] == "sparse", col] = value
    return table
