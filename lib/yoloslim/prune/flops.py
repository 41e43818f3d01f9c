"""Prune to a FLOPs budget: the lowest |gamma| threshold whose aligned structure is within it.

A compute budget (an NPU's operations per frame, or "at most 10 % of the base model's FLOPs") fixes a size where
an absolute threshold does not: the FLOPs one threshold leaves vary from one sparse training to the next (the
demo's 0.15 left 9.6 %, 11.1 % and 11.0 % in three runs, docs/results.md). For a target `{flops: 0.1x}` (or
GFLOPs, `{flops: 0.5G}`) of `prune.targets` the prune stage counts, without timing anything, the GFLOPs of the sparse
model pruned at the candidate thresholds (`yoloslim.prune.search.candidate_thresholds`: every structure the
threshold policy can give) and keeps the lowest threshold, the largest structure, within the budget. Kept
channels only fall as the threshold rises, and alignment keeps that order, so the GFLOPs do too and bisection
finds it in about log2(candidates) prunings.

    choice = flops_threshold(candidates, gflops_at, budget="0.1x", base_gflops=0.449)
    choice.threshold, choice.gflops, choice.met  # 0.165, 0.0437, True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from yoloslim.config import flops_budget
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
