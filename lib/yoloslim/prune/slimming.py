"""Network slimming: gamma-threshold channel pruning with channels aligned to a multiple of `round_to`.

Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, *Learning Efficient Convolutional Networks through Network
Slimming*, ICCV 2017 (arXiv:1708.06519). After sparse training (`yoloslim.train.sparse`), the channels whose
BatchNorm |gamma| is under a threshold are removed; here with their coupled group, the kept counts aligned for the
NPU, and the pruned channels' beta folded forward. This module is the algorithm on one model, without files or a
study (the stage around it: `yoloslim.prune.stage`).

    from yoloslim.prune.slimming import prune_model
    result = prune_model(model, threshold=0.1, round_to=8)   # any Ultralytics DetectionModel
    result.ratios                                            # backbone / head / overall pruned fractions

How channels are chosen and aligned: `yoloslim.prune.groups`; the beta fold: `yoloslim.prune.fold`; the tables:
`yoloslim.prune.tables`. YOLOv8/YOLO11/YOLO26 C2f and C3k2 blocks are rewritten without `chunk` to be traced, and
written back as stock blocks (`yoloslim.models.c2f`); attention blocks are kept intact (`yoloslim.models.attention`),
or with `prune.attention: heads` narrowed to the whole heads they need (`yoloslim.prune.heads`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import get_args

import numpy as np
import pandas as pd
import torch

from yoloslim.config import (
    ULTRALYTICS_IMGSZ,
    AttentionMode,
    C2fHalves,
    Importance,
    PruneConfig,
    RoundDir,
    TrainConfig,
)
from yoloslim.models.c2f import merge_c2f, split_c2f
from yoloslim.models.gammas import sparsity_warning
from yoloslim.models.stats import count_gflops
from yoloslim.prune.fold import apply_deltas, fold_deltas
from yoloslim.prune.groups import (
    GroupPlan,
    build_graph,
    check_supported,
    choose_at_random,
    equalize_halves,
    fraction_counts,
    global_threshold,
    plan_groups,
    plan_kept_channels,
    prune_planned,
    uncovered_layers,
)
from yoloslim.prune.heads import head_cuts, plan_heads, prune_heads
from yoloslim.prune.tables import layer_table, params_by_part, ratio_table


@dataclass
class PruneResult:
    """A pruned model and what was done to it.

    `threshold` is the |gamma| threshold applied (for the fraction policy, the one derived from it);
    `gammas` the |gamma| of every prunable BatchNorm before pruning; `unpruned_groups` the groups a rule
    kept whole although they had channels under the threshold, each `{"layers": [...], "reasons": [...]}`.
    """

    model: torch.nn.Module
    layers: pd.DataFrame
    ratios: pd.DataFrame
    threshold: float
    params_before: int
    params_after: int
    gflops_before: float
    gflops_after: float
    gammas: np.ndarray
    unpruned_groups: list[dict] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)  # C2f blocks split to be traced (C2fSplit), merged back if equal
    folded: list[str] = field(default_factory=list)  # convolutions whose bias took pruned channels' beta
    heads: dict[str, dict] = field(default_factory=dict)  # prune.attention heads: per Attention, {heads, kept}
    warning: dict | None = None  # why the gammas carry no information at this cut (yoloslim.models.gammas), or None


@dataclass(frozen=True)
class FoldPair:
    """One pruned structure with and without the beta fold (`prune_model`'s `fold_beta`), which the prune stage
    validates both ways.

    A Torch-Pruning alternative has nothing to fold (its pruner drops the pruned channels' beta): one result stands
    for both (`FoldPair.single`), and `same` is true.
    """

    folded: PruneResult
    unfolded: PruneResult

    @classmethod
    def single(cls, result: PruneResult) -> FoldPair:
        """A pair of one result for both: a model with nothing to fold."""
        return cls(folded=result, unfolded=result)

    @property
    def same(self) -> bool:
        """Whether one result stands for both."""
        return self.folded is self.unfolded

    def get(self, fold: bool) -> PruneResult:
        """The result with the beta fold (`fold` true) or without it."""
        return self.folded if fold else self.unfolded

    def items(self) -> tuple[tuple[bool, PruneResult], ...]:
        """(fold, result) with the fold first, then without it."""
        return (True, self.folded), (False, self.unfolded)


def prune_model(
    model: torch.nn.Module,
    *,
    threshold: float | None = None,
    fraction: float | None = None,
    round_to: int = PruneConfig.round_to,
    round_dir: str = PruneConfig.round_dir,
    importance: str = PruneConfig.importance,
    fold_beta: bool = PruneConfig.fold_beta,
    imgsz: int = ULTRALYTICS_IMGSZ,
    selection: str = "gamma",
    seed: int = TrainConfig.seed,
    c2f_halves: str = PruneConfig.c2f_halves,
    attention: str = PruneConfig.attention,
) -> PruneResult:
    """Prune a copy of an Ultralytics detection model by |gamma|; the input model is left unchanged.

    Give exactly one of `threshold` and `fraction`. The Detect head's output convolutions and DFL are never pruned.

    Args:
        model (torch.nn.Module): An Ultralytics DetectionModel (its BatchNorm gammas sparse-trained, ideally).
        threshold (float | None): Prune the group channels whose combined |gamma| is under it.
        fraction (float | None): Prune that fraction of all group channels, lowest |gamma| first.
        round_to (int): Kept counts are aligned to a multiple of it, never below it.
        round_dir (str): The direction of the alignment: `up`, `nearest` or `down`.
        importance (str): How a tied group combines its members' |gamma|: `max`, `mean` or `sum`.
        fold_beta (bool): Fold the pruned channels' beta into the next layers' biases (`yoloslim.prune.fold`).
        imgsz (int): The image size of the FLOPs count.
        selection (str): `gamma`, or `random`: the same number of channels kept in every group but picked at
            random (seeded by `seed`), the control of Liu et al. (ICLR 2019).
        seed (int): The seed of the random selection (of channels, and of heads with `attention="heads"`).
        c2f_halves (str): `equal` keeps both halves of a C2f/C3k2 split equally wide, so the pruned model holds stock
            Ultralytics blocks only; `free` prunes them apart and keeps `C2fSplit` (`yoloslim.models.c2f`).
        attention (str): Attention blocks kept `intact` (`yoloslim.models.attention`) or narrowed to the whole
            `heads` they need (`yoloslim.prune.heads`).

    Returns:
        (PruneResult): The pruned model, its tables and what was done to it.

    Raises:
        ValueError: On a bad option, or when not exactly one of `threshold` and `fraction` is given.
        UnsupportedModelError: Naming a layer it cannot prune.
    """
    if (threshold is None) == (fraction is None):
        raise ValueError("prune_model: give exactly one of threshold and fraction")
    if round_to < 1 or round_dir not in get_args(RoundDir) or importance not in get_args(Importance):
        raise ValueError(f"prune_model: bad round_to={round_to}, round_dir={round_dir!r} or importance={importance!r}")
    if selection not in ("gamma", "random"):
        raise ValueError(f"prune_model: selection must be 'gamma' or 'random', got {selection!r}")
    if c2f_halves not in get_args(C2fHalves):
        raise ValueError(f"prune_model: c2f_halves must be one of {get_args(C2fHalves)}, got {c2f_halves!r}")
    if attention not in get_args(AttentionMode):
        raise ValueError(f"prune_model: attention must be one of {get_args(AttentionMode)}, got {attention!r}")
    check_supported(model)
    model = copy.deepcopy(model).float().eval()
    for p in model.parameters():
        p.requires_grad_(True)  # the dependency graph is traced through autograd
    rewritten = split_c2f(model, c2psa=attention == "heads")
    params_before, gflops_before = params_by_part(model), count_gflops(model, imgsz)
    graph = build_graph(model)
    plans = plan_groups(model, graph, importance, attention)
    if threshold is not None:
        value, counts = threshold, [None] * len(plans)
    else:
        value, counts = global_threshold(plans, fraction), fraction_counts(plans, fraction)
    for plan, count in zip(plans, counts, strict=True):
        plan_kept_channels(plan, value, round_to, round_dir, count)
    heads = []
    if attention == "heads":
        generator = torch.Generator().manual_seed(seed) if selection == "random" else None
        heads = plan_heads(model, plans, value, round_to, generator)
    if c2f_halves == "equal":
        equalize_halves(plans, rewritten)
    if selection == "random":
        choose_at_random(plans, seed)
    rows = [row for head in heads for row in head.rows()]  # qkv and pe of each Attention, by whole heads
    uncovered = uncovered_layers(model, plans + rows, attention)
    gammas = _group_gammas(model, plans)
    folded = apply_deltas(model, fold_deltas(model, graph, plans, head_cuts(heads))) if fold_beta else []
    prune_planned(model, graph, plans)
    prune_heads(model, heads)
    for p in model.parameters():
        p.requires_grad_(False)
    layers = layer_table(model, plans + rows, uncovered)
    if c2f_halves == "equal":
        merge_c2f(model)
    params_after = params_by_part(model)
    return PruneResult(
        model=model,
        layers=layers,
        ratios=ratio_table(layers, params_before, params_after),
        threshold=float(value),
        params_before=sum(params_before.values()),
        params_after=sum(params_after.values()),
        gflops_before=gflops_before,
        gflops_after=count_gflops(model, imgsz),
        gammas=gammas,
        unpruned_groups=_unpruned(plans, uncovered),
        rewritten=rewritten,
        folded=folded,
        heads={h.name: {"heads": h.heads, "kept": h.kept} for h in heads},
        warning=sparsity_warning(gammas, value),
    )


def _group_gammas(model: torch.nn.Module, plans: list[GroupPlan]) -> np.ndarray:
    """|gamma| of every BatchNorm in a prunable group."""
    modules = dict(model.named_modules())
    bns = [modules[f"{layer}.bn"] for plan in plans for layer in plan.layers]
    return torch.cat([bn.weight.detach().abs().flatten() for bn in bns]).numpy() if bns else np.zeros(0)


def _unpruned(plans: list[GroupPlan], uncovered: dict[str, dict]) -> list[dict]:
    """Groups a rule kept whole although channels were under the threshold, and the layers in no prunable group
    (attention blocks, layers tied to excluded ones), one entry per reason: `{"layers": [...], "reasons": [...]}`,
    the reasons as messages (`yoloslim.text`) so the report words them in its language."""
    listed = ("note_tied", "note_random")  # the layers are listed; the random control is said elsewhere
    stopped = [
        {"layers": p.layers, "reasons": [n for n in p.notes if n["id"] not in listed]}
        for p in plans
        if p.kept == p.width and p.kept_by_policy < p.width
    ]
    by_reason: dict[str, list[str]] = {}
    for name, reason in uncovered.items():
        by_reason.setdefault(json.dumps(reason, sort_keys=True), []).append(name)
    return stopped + [{"layers": layers, "reasons": [json.loads(r)]} for r, layers in by_reason.items()]
