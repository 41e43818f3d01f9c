"""A prune target's pruned models, by how its structure is chosen: the |gamma| threshold or fraction of
`prune.policy`, a latency budget searched over thresholds (`yoloslim.prune.budget`), the lowest threshold within a
FLOPs budget (`yoloslim.prune.flops`), or for a `prune.compare` alternative Torch-Pruning's pruner at the same cost
(`yoloslim.prune.alternative`).
"""

from __future__ import annotations

import torch

from yoloslim.config import Config
from yoloslim.paths import PruneFiles
from yoloslim.prune.alternative import tp_at_gflops, tp_within_budget
from yoloslim.prune.budget import search_budget
from yoloslim.prune.flops import FlopsChoice, within_flops
from yoloslim.prune.search import Search, candidate_thresholds, plan_importances
from yoloslim.prune.slimming import FoldPair, prune_model
from yoloslim.study import TP_METHODS, seed_of


def prune_target(
    cfg: Config, model: torch.nn.Module, target: str, selection: str, files: PruneFiles
) -> tuple[FoldPair, Search | FlopsChoice | None, dict | None]:
    """The sparse model pruned for one target, with and without the beta fold, and what chose its structure.

    Args:
        cfg (Config): The study (its prune settings, the target's value, the image size).
        model (torch.nn.Module): The sparse model (left unchanged).
        target (str): The prune target, a name of `prune.thresholds` (or fractions) or `prune.targets`.
        selection (str): `gamma`, `random` (the `<target>-random` control) or a Torch-Pruning method of
            `yoloslim.study.TP_METHODS`.
        files (PruneFiles): The pruned model's folder, where a latency search writes search.csv and its figure.

    Returns:
        (tuple[FoldPair, Search | FlopsChoice | None, dict | None]): The pruned model with and without the fold (one
            result for both for a Torch-Pruning alternative: its pruner drops the pruned beta), the latency search or
            the FLOPs budget's choice (None for a threshold or fraction), and the Torch-Pruning alternative's
            metrics.json `cost_match` (else None).
    """
    options = prune_options(cfg, selection, seed_of(files.dir.name))  # a random control run again: another draw
    value, imgsz = cfg.target_value(target), cfg.train.imgsz
    policy = cfg.prune_rule(value)
    budget = target in cfg.latency_targets()
    choice = None
    if target in cfg.flops_targets():  # the threshold first: a random control or alternative then matches its model
        choice = within_flops(model, str(value), **options, imgsz=imgsz)
        policy = {"threshold": choice.threshold}
    if selection in TP_METHODS and budget:  # Torch-Pruning's pruner within the same latency budget, searched alike
        result, search, match = tp_within_budget(cfg, model, selection, str(value), files)
        return FoldPair.single(result), search, match
    if selection in TP_METHODS:  # Torch-Pruning's pruner at the GFLOPs of the target's model
        gamma = prune_model(model, **policy, **{**options, "selection": "gamma"}, imgsz=imgsz)
        result, match = tp_at_gflops(model, selection, gamma.gflops_after, round_to=cfg.prune.round_to, imgsz=imgsz)
        return FoldPair.single(result), choice, match
    search = None
    if budget:
        search = search_budget(
            cfg, str(value), files,
            candidate_thresholds(plan_importances(model, cfg.prune.importance, cfg.prune.attention)),
            lambda threshold: _gamma_structure(model, threshold, options, imgsz),
        )  # fmt: skip
        policy = {"threshold": search.chosen.threshold}
    folded, unfolded = (prune_model(model, **policy, **options, fold_beta=f, imgsz=imgsz) for f in (True, False))
    return FoldPair(folded=folded, unfolded=unfolded), search or choice, None


def prune_options(cfg: Config, selection: str, seed: int = 0) -> dict:
    """`prune_model`'s options from the config, but the policy and its value (which depend on the target); a random
    control's channels are drawn with train.seed + `seed` (`yoloslim.study.seed_of` its prune id)."""
    return dict(
        round_to=cfg.prune.round_to,
        round_dir=cfg.prune.round_dir,
        importance=cfg.prune.importance,
        selection=selection,
        seed=cfg.train.seed + seed,
        c2f_halves=cfg.prune.c2f_halves,
        attention=cfg.prune.attention,
    )


def _gamma_structure(
    model: torch.nn.Module, threshold: float, options: dict, imgsz: int
) -> tuple[torch.nn.Module, tuple[int, ...]]:
    """The sparse model pruned by yoloslim at one |gamma| threshold (no fold: timing only), with its kept channels."""
    pruned = prune_model(model, threshold=threshold, **options, fold_beta=False, imgsz=imgsz)
    return pruned.model, tuple(pruned.layers["kept"])
