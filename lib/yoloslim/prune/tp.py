"""The alternatives at the same cost: Torch-Pruning's own pruners, matched to a yoloslim model's FLOPs.

Network slimming is one way to choose channels. To show whether it is the better one, a target of
`prune.compare` also gets two structures pruned by Torch-Pruning's public API from the same sparse model:

- `tp_magnitude`: `tp.importance.MagnitudeImportance(p=1)`, the L1 norm of each filter (Li et al. 2017,
  *Pruning Filters for Efficient ConvNets*);
- `tp_bnscale`: `tp.importance.BNScaleImportance()`, Torch-Pruning's network-slimming importance (|gamma|),
  applied by its own pruner.

Both run `tp.pruner.MetaPruner` with `global_pruning=True` and `round_to` (the NPU alignment), the Detect
head's outputs and DFL left out, as yoloslim's own pruning leaves them. The global channel ratio is
chosen so each comparison is at the same cost: for a threshold or fraction target, the GFLOPs are within
`FLOPS_TOLERANCE` of the yoloslim model's (`match_flops`); for a latency-budget target, the ratio is searched
like yoloslim's thresholds, for the largest structure whose measured latency is within the same budget
(`SEARCH_RATIOS`, `yoloslim.prune.search`). Where Torch-Pruning cannot get that small, the prune stage says so.
Every structure is then fine-tuned and evaluated like the others.

    pruned, ratio, gflops = prune_tp_matched(model, "tp_magnitude", target_gflops=0.197, round_to=8, imgsz=160)
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch_pruning as tp
from torch import nn

from yoloslim.models.c2f import split_c2f
from yoloslim.models.stats import count_gflops
from yoloslim.prune.groups import _TRACE_SIZE, excluded_layers
from yoloslim.study import TP_METHODS

FLOPS_TOLERANCE = 0.05  # a matched structure's GFLOPs are within this fraction of the target's
RATIO_STEP = 0.05
RATIOS = [round(RATIO_STEP * i, 2) for i in range(1, 20)]  # global channel ratios scanned: 0.05 to 0.95
_STEPS = 6  # bisection steps beside the closest ratio
SEARCH_RATIOS = [round(0.02 * i, 2) for i in range(41)]  # a latency budget's candidates: 0 to 0.8 (above about
# 0.7 Torch-Pruning's structures grow again, see match_flops, so the bisection's monotone latency does not hold)
MAX_LAYER_RATIO = 0.95  # Torch-Pruning's max_pruning_ratio: no layer loses more than this share of its channels


def tp_importance(method: str) -> tp.importance.Importance:
    """Torch-Pruning's importance for a compared method."""
    if method == "tp_magnitude":
        return tp.importance.MagnitudeImportance(p=1)
    if method == "tp_bnscale":
        return tp.importance.BNScaleImportance()
    raise ValueError(f"unknown Torch-Pruning method {method!r}; choose one of {', '.join(TP_METHODS)}")


def prune_tp(model: nn.Module, method: str, ratio: float, *, round_to: int) -> nn.Module:
    """A copy of `model` pruned by Torch-Pruning's MetaPruner: `ratio` of all channels, globally, aligned.

    Args:
        model (nn.Module): The model (left unchanged).
        method (str): The Torch-Pruning method, one of `yoloslim.study.TP_METHODS`.
        ratio (float): The global channel ratio pruned.
        round_to (int): Kept counts are aligned to a multiple of it.

    Returns:
        (nn.Module): The pruned copy, in fp32 eval mode, its parameters not requiring gradients.
    """
    model = copy.deepcopy(model).float().eval()
    for p in model.parameters():
        p.requires_grad_(True)  # Torch-Pruning traces the graph through autograd
    split_c2f(model)
    pruner = tp.pruner.MetaPruner(
        model,
        torch.randn(1, 3, _TRACE_SIZE, _TRACE_SIZE),
        importance=tp_importance(method),
        global_pruning=True,
        pruning_ratio=ratio,
        max_pruning_ratio=MAX_LAYER_RATIO,
        round_to=round_to,
        ignored_layers=excluded_layers(model),
    )
    with torch.enable_grad():
        pruner.step()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def match_flops(
    prune: Callable[[float], nn.Module], gflops: Callable[[nn.Module], float], target: float
) -> tuple[nn.Module, float, float]:
    """The structure whose GFLOPs are closest to `target` over global channel ratios `RATIOS`, refined by
    bisection beside the closest one.

    A scan, not a bisection from the start: GFLOPs do not fall monotonically with the ratio. With `round_to`,
    Torch-Pruning skips a group whose aligned count would reach zero, so at high global ratios a larger
    structure comes out (demo, tp_bnscale: 0.097 GFLOPs at ratio 0.7, 0.175 at 0.9; `MAX_LAYER_RATIO` did not
    change that). The caller checks the result against `FLOPS_TOLERANCE`: a target below the smallest structure
    Torch-Pruning produces stays unmatched.

    Args:
        prune (Callable[[float], nn.Module]): Prunes at a global channel ratio.
        gflops (Callable[[nn.Module], float]): Counts a pruned model's GFLOPs.
        target (float): The GFLOPs aimed at.

    Returns:
        (tuple[nn.Module, float, float]): (model, ratio, GFLOPs).
    """
    timed = {ratio: prune(ratio) for ratio in RATIOS}
    flops = {ratio: gflops(model) for ratio, model in timed.items()}
    best = min(flops, key=lambda r: abs(flops[r] - target))
    # bisect the step on the side of `best` where the target lies (FLOPs fall as the ratio rises)
    low, high = (best, best + RATIO_STEP) if flops[best] > target else (best - RATIO_STEP, best)
    for _ in range(_STEPS):
        if abs(flops[best] - target) <= FLOPS_TOLERANCE * target:
            break
        ratio = (low + high) / 2
        timed[ratio] = prune(ratio)
        flops[ratio] = gflops(timed[ratio])
        low, high = (ratio, high) if flops[ratio] > target else (low, ratio)
        best = min(flops, key=lambda r: abs(flops[r] - target))
    return timed[best], best, flops[best]


def prune_tp_matched(
    model: nn.Module, method: str, *, target_gflops: float, round_to: int, imgsz: int
) -> tuple[nn.Module, float, float]:
    """`model` pruned by a Torch-Pruning method to about `target_gflops` (see `match_flops`).

    Args:
        model (nn.Module): The model (left unchanged).
        method (str): The Torch-Pruning method, one of `yoloslim.study.TP_METHODS`.
        target_gflops (float): The GFLOPs aimed at.
        round_to (int): Kept counts are aligned to a multiple of it.
        imgsz (int): The image size of the FLOPs count.

    Returns:
        (tuple[nn.Module, float, float]): (model, ratio, GFLOPs).
    """
    return match_flops(
        lambda ratio: prune_tp(model, method, ratio, round_to=round_to),
        lambda pruned: count_gflops(pruned, imgsz),
        target_gflops,
    )
