"""The prune stage's Torch-Pruning alternatives (`prune.compare`): a Torch-Pruning pruner's structure at the GFLOPs of
the target's yoloslim model, or searched within the target's latency budget, as a PruneResult with metrics.json's
`cost_match` (keys in docs/outputs.md). The pruners and the GFLOPs matching themselves: `yoloslim.prune.tp`.
"""

from __future__ import annotations

import copy

import torch

from yoloslim.config import Config
from yoloslim.models.c2f import split_c2f
from yoloslim.models.gammas import gamma_values
from yoloslim.models.stats import count_gflops
from yoloslim.paths import PruneFiles
from yoloslim.prune.budget import search_budget
from yoloslim.prune.search import Search
from yoloslim.prune.slimming import PruneResult
from yoloslim.prune.tables import params_by_part, ratio_table, width_table
from yoloslim.prune.tp import FLOPS_TOLERANCE, SEARCH_RATIOS, prune_tp, prune_tp_matched
from yoloslim.text import message


def tp_within_budget(
    cfg: Config, model: torch.nn.Module, method: str, budget: str, files: PruneFiles
) -> tuple[PruneResult, Search, dict]:
    """The largest structure of a Torch-Pruning method within a latency budget, its global ratio searched over
    `SEARCH_RATIOS` as yoloslim's thresholds are (`yoloslim.prune.budget`).

    Args:
        cfg (Config): The study (the search's settings, `prune.round_to`, the image size).
        model (torch.nn.Module): The sparse model (left unchanged).
        method (str): The Torch-Pruning method, one of `yoloslim.study.TP_METHODS`.
        budget (str): The latency budget as written in `prune.targets` ("0.5x", "20ms").
        files (PruneFiles): The pruned model's folder, where the search writes search.csv and its figure.

    Returns:
        (tuple[PruneResult, Search, dict]): The pruned model, the search, and metrics.json's `cost_match`.
    """
    round_to, imgsz = cfg.prune.round_to, cfg.train.imgsz
    search = search_budget(
        cfg, budget, files, SEARCH_RATIOS,
        lambda ratio: _tp_structure(model, method, ratio, round_to),
        knob=f"Torch-Pruning {method} global channel ratio",
    )  # fmt: skip
    chosen = search.chosen
    pruned = prune_tp(model, method, chosen.threshold, round_to=round_to)  # the search kept no model
    result, match = _tp_result(model, method, chosen.threshold, pruned, chosen.gflops, imgsz)
    return result, search, match | _latency_match(search, budget)


def tp_at_gflops(
    model: torch.nn.Module, method: str, target_gflops: float, *, round_to: int, imgsz: int
) -> tuple[PruneResult, dict]:
    """The structure of a Torch-Pruning method closest to `target_gflops` (`yoloslim.prune.tp.prune_tp_matched`).

    Args:
        model (torch.nn.Module): The sparse model (left unchanged).
        method (str): The Torch-Pruning method, one of `yoloslim.study.TP_METHODS`.
        target_gflops (float): The GFLOPs of the target's yoloslim model.
        round_to (int): Kept counts are aligned to a multiple of it.
        imgsz (int): The image size of the FLOPs count.

    Returns:
        (tuple[PruneResult, dict]): The pruned model and metrics.json's `cost_match`.
    """
    pruned, ratio, gflops = prune_tp_matched(model, method, target_gflops=target_gflops, round_to=round_to, imgsz=imgsz)
    result, match = _tp_result(model, method, ratio, pruned, gflops, imgsz)
    return result, match | _flops_match(method, target_gflops, gflops, ratio)


def _tp_structure(model: torch.nn.Module, method: str, ratio: float, round_to: int) -> tuple[torch.nn.Module, tuple]:
    """The sparse model pruned by a Torch-Pruning method at one global ratio, with its BatchNorm widths."""
    pruned = prune_tp(model, method, ratio, round_to=round_to)
    return pruned, tuple(m.num_features for m in pruned.modules() if isinstance(m, torch.nn.BatchNorm2d))


def _tp_result(
    model: torch.nn.Module, method: str, ratio: float, pruned: torch.nn.Module, gflops: float, imgsz: int
) -> tuple[PruneResult, dict]:
    """`pruned`, `model` pruned by a Torch-Pruning method at the global `ratio` to `gflops` (as the matching or the
    search counted them), as a PruneResult, and the start of metrics.json's `cost_match`: the method and the ratio."""
    before = copy.deepcopy(model).float()
    split_c2f(before)
    layers = width_table(before, pruned, f"Torch-Pruning {method}, global ratio {ratio:.3g}")
    params_before, params_after = params_by_part(before), params_by_part(pruned)
    return PruneResult(
        model=pruned,
        layers=layers,
        ratios=ratio_table(layers, params_before, params_after),
        threshold=float("nan"),
        params_before=sum(params_before.values()),
        params_after=sum(params_after.values()),
        gflops_before=count_gflops(before, imgsz),
        gflops_after=gflops,
        gammas=gamma_values(before).numpy(),
    ), {"method": method, "ratio": ratio}


def _flops_match(method: str, target_gflops: float, gflops: float, ratio: float) -> dict:
    """metrics.json's `cost_match` of a FLOPs-matched alternative: the target, the GFLOPs reached, and a message
    when they are not within `FLOPS_TOLERANCE` (`yoloslim.text.message`)."""
    matched = abs(gflops - target_gflops) <= FLOPS_TOLERANCE * target_gflops
    note = None if matched else message(
        "flops_not_matched", method=method, target_gflops=target_gflops, tolerance=FLOPS_TOLERANCE, gflops=gflops,
        ratio=ratio)  # fmt: skip
    return {"by": "flops", "target_gflops": target_gflops, "gflops": gflops, "matched": matched,
            "message": note}  # fmt: skip


def _latency_match(search: Search, budget: str) -> dict:
    """metrics.json's `cost_match` of an alternative searched within a latency budget: the budget, the measured
    latency ratio, and a message when no structure met it (`yoloslim.text.message`)."""
    chosen = search.chosen
    note = None if search.met else message(
        "latency_not_matched", budget=budget, ratio=chosen.threshold, latency_ratio=chosen.timing.ratio)  # fmt: skip
    return {"by": "latency", "budget": budget, "latency_ratio": chosen.timing.ratio, "gflops": chosen.gflops,
            "target_gflops": None, "matched": search.met, "message": note}  # fmt: skip
