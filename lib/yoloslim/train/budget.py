"""How far sparse training can move a gamma, computed from the settings before any training.

The L1 budget of a sparse run is `sum_t lr_t * sl_t` over its optimizer steps: the distance the L1 term
alone moves a gamma with plain SGD (`after_clip`, `proximal`); SGD momentum m stretches it by about
1 / (1 - m) for `after_clip`. Gammas start at 1.0, so a budget far under 1 cannot drive channels to 0,
whatever `sl` says. This module replays Ultralytics' schedule (warm-up of lr and of the accumulation,
then the linear lr decay to `lr0 * lrf`, one optimizer step per `nbs / batch` batches) to count the steps
and the budget a config gives; the sparse stage logs the same two numbers as it trains
(`yoloslim.train.sparse`), so a plan can be checked against what happened.

    plan = planned_budget(cfg, train_images=480)
    plan.steps, plan.budget     # 300, 1.7
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from yoloslim.config import Config

LRF = 0.01  # Ultralytics' default final lr fraction (lr decays linearly to lr0 * lrf)
SGD_MOMENTUM = 0.937  # Ultralytics' default SGD momentum: an `after_clip` L1 step goes about 1 / (1 - m) as far
ORIGINAL_TRAIN_IMAGES = 24_682  # the original data set's train split: data.synth.SOURCES' counts by its 20:4:1 rule


@dataclass(frozen=True)
class BudgetPlan:
    """Optimizer steps and L1 budget `sum lr * sl` of a sparse run; `batches` per epoch, `accumulate` nominal."""

    steps: int
    budget: float
    batches: int
    accumulate: int


def replay_budget(
    *,
    sl_at: list[float],
    lr0: float,
    train_images: int,
    batch: int,
    nbs: int,
    warmup_epochs: float,
    lrf: float = LRF,
) -> BudgetPlan:
    """Replay Ultralytics' step schedule.

    Mirrors `BaseTrainer._do_train`: lr_e = lr0 * lf(e) with the linear `lf`; during the first
    round(warmup_epochs * batches) batches the BatchNorm group's lr rises from 0 and the accumulation from 1.

    Args:
        sl_at (list[float]): `sl_at[e]` is sl in epoch e; its length is the number of epochs.
        lr0 (float): The initial learning rate.
        train_images (int): The training images, `ceil(train_images / batch)` batches an epoch.
        batch (int): The batch size.
        nbs (int): The nominal batch size: one optimizer step per `nbs / batch` batches after the warm-up.
        warmup_epochs (float): The warm-up in epochs (at most the epochs but one).
        lrf (float): The final lr fraction: lr decays linearly to `lr0 * lrf`.

    Returns:
        (BudgetPlan): The optimizer steps, the L1 budget, the batches per epoch and the nominal accumulation.
    """
    epochs = len(sl_at)
    batches = math.ceil(train_images / batch)
    acc0 = max(round(nbs / batch), 1)
    warmup = min(warmup_epochs, max(epochs - 1, 0))
    nw = round(warmup * batches) if warmup > 0 else 0
    accumulate, last, steps, budget = acc0, -1, 0, 0.0
    for epoch in range(epochs):
        lr_epoch = lr0 * (max(1 - epoch / epochs, 0) * (1.0 - lrf) + lrf)
        for i in range(batches):
            ni = i + batches * epoch
            lr = lr_epoch
            if nw and ni <= nw:
                accumulate = max(1, int(np.interp(ni, [0, nw], [1, acc0]).round()))
                lr = float(np.interp(ni, [0, nw], [0.0, lr_epoch]))
            if ni - last >= accumulate:
                steps += 1
                budget += lr * sl_at[epoch]
                last = ni
    return BudgetPlan(steps=steps, budget=budget, batches=batches, accumulate=acc0)


def seed_plan() -> tuple[BudgetPlan, int]:
    """The plan of the original study (`params/seed.yaml`, shipped in the package as `seed.yaml`) on its data set's
    training split: (plan, images)."""
    from yoloslim.config import load_config, package_file

    cfg = load_config(package_file("seed.yaml"), check_values=False)
    return planned_budget(cfg, ORIGINAL_TRAIN_IMAGES), ORIGINAL_TRAIN_IMAGES


def planned_budget(cfg: Config, train_images: int) -> BudgetPlan:
    """The steps and L1 budget a config's sparse stage will apply on `train_images` training images."""
    from yoloslim.train.sparse import Sparsity

    s = cfg.sparse
    schedule = Sparsity(s.sl, s.schedule, recover_epochs=s.recover_epochs)
    return replay_budget(
        sl_at=[schedule.sl_at(e, s.epochs) for e in range(s.epochs)],
        lr0=s.lr0,
        train_images=train_images,
        batch=cfg.train.batch,
        nbs=s.nbs or cfg.train.nbs,
        warmup_epochs=cfg.train.warmup_epochs,
    )
