"""Prune to a FLOPs budget: the lowest |gamma| threshold whose aligned structure is within it.

A compute budget (an NPU's operations per frame, or "at most 10 % of the base model's FLOPs") fixes a size where
an absolute threshold does not: the FLOPs one threshold leaves vary from one sparse training to the next (the
demo's 0.15 left 9.6 %, 11.1 % and 11.0 % in three runs, docs/results.md). For a target `{flops: 0.1x}` (or
GFLOPs, `{flops: 0.5G}`) of `prune.targets` the prune stage counts, without timing anything, the GFLOPs of the sparse
model pruned at the candidate thresholds (`yoloslim.prune.search.candidate_thresholds`: every structure the
threshold policy can give) and keeps the lowest threshold, the largest structure, within the budget. Kept
channels only fall as the threshold rises, and alignment keeps that order, so the GFLOPs do too and bisection
finds it in about log2(candidates) prunings.

    choice = within_flops(sparse_model, "0.1x", imgsz=160)
    choice.threshold, choice.gflops, choice.met  # 0.165, 0.0437, True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from yoloslim.config import PruneConfig, flops_budget
from yoloslim.models.stats import count_gflops
from yoloslim.prune.search import candidate_thresholds, plan_importances
from yoloslim.prune.slimming import prune_model
from yoloslim.text import message


@dataclass(frozen=True)
class FlopsChoice:
    """The threshold chosen for a FLOPs budget, its structure's GFLOPs, and whether it is within the budget."""

    budget: str  # as written in prune.targets
    gflops_budget: float  # the budget in GFLOPs at the study's image size
    threshold: float
    gflops: float
    met: bool
    counted: int  # prunings counted by the bisection

    def summary(self) -> dict:
        """metrics.json's `flops_budget` (keys in docs/outputs.md): the fields, and a message when not met."""
        note = None
        if not self.met:
            note = message("flops_not_met", budget=self.budget, gflops_budget=self.gflops_budget,
                           threshold=self.threshold, gflops=self.gflops)  # fmt: skip
        return {**asdict(self), "message": note}


def flops_threshold(
    thresholds: Sequence[float], gflops_at: Callable[[float], float], *, budget: str, base_gflops: float
) -> FlopsChoice:
    """The lowest of `thresholds` whose pruned structure has at most the budget's GFLOPs.

    Args:
        thresholds (Sequence[float]): The candidate |gamma| thresholds (sorted and deduplicated here).
        gflops_at (Callable[[float], float]): The GFLOPs of the sparse model pruned, with alignment, at a threshold;
            taken to fall (not strictly) as the threshold rises.
        budget (str): The budget as written: "0.1x" of `base_gflops`, or GFLOPs, "0.5G"
            (`yoloslim.config.flops_budget`).
        base_gflops (float): The unpruned model's GFLOPs at the same image size.

    Returns:
        (FlopsChoice): The threshold chosen; when even the highest threshold's structure is over the budget, that
            smallest structure, with `met` False.
    """
    value, relative = flops_budget(budget)
    limit = value * base_gflops if relative else value
    values = sorted(set(float(t) for t in thresholds))
    if not values:
        raise ValueError("flops_threshold: no candidate thresholds")
    counted: dict[int, float] = {}

    def gflops(index: int) -> float:
        if index not in counted:
            counted[index] = float(gflops_at(values[index]))
        return counted[index]

    low, high = 0, len(values) - 1
    if gflops(high) > limit:
        return FlopsChoice(str(budget), limit, values[high], gflops(high), False, len(counted))
    if gflops(low) <= limit:
        high = low
    while high - low > 1:  # invariant: low is over the budget, high within it
        mid = (low + high) // 2
        low, high = (low, mid) if gflops(mid) <= limit else (mid, high)
    return FlopsChoice(str(budget), limit, values[high], gflops(high), True, len(counted))


def within_flops(
    model: nn.Module,
    budget: str,
    *,
    imgsz: int,
    importance: str = PruneConfig.importance,
    attention: str = PruneConfig.attention,
    **options: Any,
) -> FlopsChoice:
    """The lowest |gamma| threshold whose structure, selected by |gamma| and aligned, is within the FLOPs `budget`.

    Args:
        model (nn.Module): The sparse model (left unchanged).
        budget (str): "0.1x" of the model's own GFLOPs, or GFLOPs ("0.5G").
        imgsz (int): The image size of the FLOPs count.
        importance (str): How a tied group combines its members' |gamma| (`prune.importance`).
        attention (str): Attention blocks kept `intact` or narrowed to whole `heads` (`prune.attention`).
        **options (Any): The other options of `prune_model` (round_to, round_dir, c2f_halves); the selection is
            |gamma|'s whatever is given.

    Returns:
        (FlopsChoice): The threshold chosen (`flops_threshold`).
    """
    options = {**options, "selection": "gamma", "importance": importance, "attention": attention}
    return flops_threshold(
        candidate_thresholds(plan_importances(model, importance, attention)),
        lambda threshold: prune_model(model, threshold=threshold, **options, fold_beta=False, imgsz=imgsz).gflops_after,
        budget=budget,
        base_gflops=count_gflops(model, imgsz),
    )
