"""Which channels go: coupled groups from torch-pruning's dependency graph, |gamma| importance, aligned counts.

A *group* is a set of channels that must be pruned together: a convolution's outputs, its BatchNorm, the
inputs of every layer that consumes them, and, through residual adds, the outputs of every other convolution
added to them (in a C3 block: `cv1` and each bottleneck's `cv2`). Concats only map indices, so each of a
concat's inputs stays its own group.

Importance of a group channel = its members' |gamma| (every BatchNorm in the group) combined by
`importance`: `max` (default: a channel stays if any member still uses it), `mean`, or `sum`.

The alignment is ours, not torch-pruning's (whose `round_to` rounds down and silently skips groups that would
reach zero): a group keeps `k` channels, the threshold's count rounded to a multiple of `round_to` in the
chosen direction, never below `round_to` and never above the group's width. The channels kept are the `k`
most important. A group that a rule stops from being pruned is recorded with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch_pruning as tp
from torch import nn
from ultralytics.nn.modules import C2PSA, C3, SPP, SPPF, C2f, C3k2, Concat, Conv, Detect
from ultralytics.nn.tasks import DetectionModel

from yoloslim.models.attention import AttentionMode, intact_layers, unprunable_convs
from yoloslim.models.c2f import C2fSplit
from yoloslim.text import message, say

SUPPORTED_LAYERS = (Conv, C3, C2f, C3k2, C2fSplit, C2PSA, SPP, SPPF, Concat, nn.Upsample, Detect)  # top-level layers
_TRACE_SIZE = 64  # input side used to trace the graph (the structure does not depend on it)


class UnsupportedModelError(ValueError):
    """A model holding a module whose channels this pruning cannot track (the message names it)."""


@dataclass
class GroupPlan:
    """One coupled group and what the policy does with it.

    `layers` are the names of its Conv blocks (`model.2.cv1`), one per BatchNorm in the group. `kept_by_policy` is
    the count the policy alone keeps (the channels at or over the threshold, or the fraction policy's count),
    `kept` the count after alignment, `prune_idxs` the root convolution's output channels removed.
    """

    root: str
    layers: list[str]
    importance: torch.Tensor
    kept_by_policy: int = 0
    kept: int = 0
    prune_idxs: list[int] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # why it keeps what it keeps, as messages (`yoloslim.text`)

    @property
    def width(self) -> int:
        """Channels of the group before pruning."""
        return len(self.importance)

    @property
    def note(self) -> str:
        """The notes in English, for layers.csv."""
        return "; ".join(say("en", n) for n in self.notes)


def check_supported(model: nn.Module) -> None:
    """Raise `UnsupportedModelError` naming the first top-level layer whose channels cannot be tracked.

    Attention blocks of the supported types (YOLO11/YOLO26's C2PSA, C3k2 with attention) are accepted: they are
    kept intact or pruned by whole heads (`yoloslim.models.attention`).
    """
    if not isinstance(model, DetectionModel) or type(model.model[-1]) is not Detect:
        raise UnsupportedModelError(f"only Ultralytics detection models are supported, got {type(model).__name__}")
    for i, layer in enumerate(model.model):
        if type(layer) not in SUPPORTED_LAYERS:
            raise UnsupportedModelError(
                f"model.{i} ({type(layer).__name__}) is not supported by channel pruning: its channels are "
                f"reshaped or split in ways the dependency graph cannot keep consistent "
                f"(supported: {', '.join(t.__name__ for t in SUPPORTED_LAYERS)})"
            )


def excluded_layers(model: DetectionModel, attention: AttentionMode = "intact") -> list[nn.Module]:
    """Never pruned by torch-pruning: the Detect head's output convolutions (box and class, both branches of YOLO26's
    end-to-end head), DFL, and every convolution inside an attention block but its output, or with
    `attention="heads"` each Attention's `qkv` and `pe` (pruned by whole heads: `yoloslim.prune.heads`)."""
    det = model.model[-1]
    heads = [getattr(det, name, None) for name in ("cv2", "cv3", "one2one_cv2", "one2one_cv3")]
    outputs = [branch[-1] for head in heads if head is not None for branch in head]
    return outputs + [m for m in det.dfl.modules() if isinstance(m, nn.Conv2d)] + unprunable_convs(model, attention)


def build_graph(model: DetectionModel) -> tp.DependencyGraph:
    """torch-pruning's dependency graph of the model (traced on a small random input, eval mode)."""
    model.eval()
    example = torch.randn(1, 3, _TRACE_SIZE, _TRACE_SIZE)
    with torch.enable_grad():
        return tp.DependencyGraph().build_dependency(model, example_inputs=example, verbose=False)


def plan_groups(
    model: DetectionModel, graph: tp.DependencyGraph, importance: str = "max", attention: AttentionMode = "intact"
) -> list[GroupPlan]:
    """Every prunable group with its per-channel importance; nothing is decided yet.

    Args:
        model (DetectionModel): The model.
        graph (tp.DependencyGraph): Its torch-pruning dependency graph (`build_graph`).
        importance (str): How a group channel's members' |gamma| combine: `max`, `mean` or `sum`.
        attention (AttentionMode): Attention blocks kept `intact` or pruned by whole `heads` (`excluded_layers`).

    Returns:
        (list[GroupPlan]): The plans, in the graph's order.
    """
    names = {m: n for n, m in model.named_modules()}
    scorer = tp.importance.BNScaleImportance(group_reduction=importance, normalizer=None)
    plans = []
    ignored = excluded_layers(model, attention)
    for group in graph.get_all_groups(ignored_layers=ignored, root_module_types=[nn.Conv2d]):
        bns = [dep.target.module for dep, _ in group if isinstance(dep.target.module, nn.BatchNorm2d)]
        imp = scorer(group)
        root = names[group[0].dep.target.module]
        if imp is None or not bns:
            continue  # no BatchNorm, no gamma to judge by (never the case in YOLO detectors)
        plans.append(GroupPlan(root=root, layers=[_layer_name(names[bn]) for bn in bns], importance=imp.detach()))
    return plans


def uncovered_layers(
    model: DetectionModel, plans: list[GroupPlan], attention: AttentionMode = "intact"
) -> dict[str, dict]:
    """Conv blocks (with a BatchNorm) that belong to no plan, with the reason: inside an attention block kept intact, or
    tied to an excluded Detect output or DFL.

    Args:
        model (DetectionModel): The model.
        plans (list[GroupPlan]): Its plans (`plan_groups`).
        attention (AttentionMode): Attention blocks kept `intact` or pruned by whole `heads`.

    Returns:
        (dict[str, dict]): Conv block name -> the reason, a message (`yoloslim.text`).
    """
    covered = {name for plan in plans for name in plan.layers}
    intact = intact_layers(model, attention)
    bns = [_layer_name(n) for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    return {name: intact.get(name, message("note_detect_tied")) for name in bns if name not in covered}


def global_threshold(plans: list[GroupPlan], fraction: float) -> float:
    """The importance under which `fraction` of all group channels fall (the `fraction` policy)."""
    values = torch.cat([p.importance for p in plans]).sort().values
    return float(values[min(int(fraction * len(values)), len(values) - 1)])


def fraction_counts(plans: list[GroupPlan], fraction: float) -> list[int]:
    """Per group, the channels kept when exactly `fraction` of all group channels are pruned, lowest first.

    Ranking rather than a threshold keeps the fraction exact when importances tie (a checkpoint's fp16
    gammas often do after little training); ties are broken by model order.
    """
    values = torch.cat([p.importance for p in plans])
    owner = torch.cat([torch.full((p.width,), i) for i, p in enumerate(plans)])
    pruned = owner[torch.argsort(values, stable=True)[: int(fraction * len(values))]]
    counts = torch.bincount(pruned, minlength=len(plans))
    return [p.width - int(c) for p, c in zip(plans, counts, strict=True)]


def align_count(count: int, width: int, round_to: int, round_dir: str = "up") -> int:
    """Kept channels: the policy's `count` rounded to a multiple of `round_to` (up, nearest or down), at least
    `round_to`.

    Never more than the width's largest multiple of `round_to` (so a width that is not a multiple is aligned
    down even with nothing under the threshold); a group of at most `round_to` channels keeps them all.

    Args:
        count (int): The channels the policy keeps.
        width (int): The group's channels.
        round_to (int): The multiple.
        round_dir (str): `up`, `nearest` or `down`.

    Returns:
        (int): The kept channels.
    """
    if width <= round_to:
        return width
    step = {"up": math.ceil, "down": math.floor, "nearest": lambda v: math.floor(v + 0.5)}[round_dir]
    return min(max(round_to, step(count / round_to) * round_to), width // round_to * round_to)


def plan_kept_channels(
    plan: GroupPlan, threshold: float, round_to: int, round_dir: str, kept_by_policy: int | None = None
) -> None:
    """Fill the plan: the policy's count, the aligned count, the channels to prune and why if none.

    Args:
        plan (GroupPlan): The plan, changed in place.
        threshold (float): The importance at or over which a channel stays (when `kept_by_policy` is None).
        round_to (int): Kept counts are aligned to a multiple of it (`align_count`).
        round_dir (str): The direction of the alignment: `up`, `nearest` or `down`.
        kept_by_policy (int | None): The policy's count (the fraction policy's); None: the channels at or over
            `threshold`.
    """
    width = plan.width
    plan.kept_by_policy = int((plan.importance >= threshold).sum()) if kept_by_policy is None else kept_by_policy
    plan.kept = align_count(plan.kept_by_policy, width, round_to, round_dir)
    keep_most_important(plan)
    plan.notes = []
    if plan.kept_by_policy == width:
        plan.notes.append(message("note_nothing_under"))
    elif plan.kept == width and width <= round_to:
        plan.notes.append(message("note_too_few", width=width, round_to=round_to))
    elif plan.kept == width:
        restored = width - plan.kept_by_policy
        plan.notes.append(message("note_alignment_restored", round_to=round_to, round_dir=round_dir, restored=restored))
    if len(plan.layers) > 1:
        plan.notes.append(message("note_tied", layers=", ".join(sorted(plan.layers))))


def equalize_halves(plans: list[GroupPlan], blocks: list[str]) -> None:
    """Give both halves of every split C2f/C3k2 block (`yoloslim.models.c2f`) the larger of their kept counts, so the
    pruned block is a stock one again (equal halves); a half in no prunable group keeps its other half whole.

    Repeated until nothing changes: a group may hold halves of several blocks.
    """
    owner = {layer: plan for plan in plans for layer in plan.layers}
    changed = True
    while changed:
        changed = False
        for block in blocks:
            halves = [owner.get(f"{block}.cv0"), owner.get(f"{block}.cv1")]
            if halves[0] is halves[1]:
                continue  # both in no group, or in the same one
            planned = [half for half in halves if half is not None]
            kept = max(half.kept for half in planned) if len(planned) == 2 else planned[0].width
            for half in planned:
                if half.kept < kept:
                    half.kept = kept
                    keep_most_important(half)
                    half.notes.append(message("note_equal_halves", kept=kept, block=block))
                    changed = True


def choose_at_random(plans: list[GroupPlan], seed: int) -> None:
    """Keep each plan's aligned count but choose its kept channels at random (one seeded generator, model order)."""
    generator = torch.Generator().manual_seed(seed)
    for plan in plans:
        order = torch.randperm(plan.width, generator=generator)
        plan.prune_idxs = sorted(order[plan.kept :].tolist())
        plan.notes.append(message("note_random"))


def prune_planned(model: DetectionModel, graph: tp.DependencyGraph, plans: list[GroupPlan]) -> None:
    """Remove every plan's channels with its whole group (a fresh group per plan: index maps follow the cuts).

    Args:
        model (DetectionModel): The model, pruned in place.
        graph (tp.DependencyGraph): Its torch-pruning dependency graph.
        plans (list[GroupPlan]): The plans with their `prune_idxs`.
    """
    modules = dict(model.named_modules())
    for plan in plans:
        if plan.prune_idxs:
            root = modules[plan.root]
            graph.get_pruning_group(root, tp.prune_conv_out_channels, plan.prune_idxs).prune()


def keep_most_important(plan: GroupPlan) -> None:
    """Set the plan's channels to prune: all but its `kept` most important."""
    order = torch.argsort(plan.importance, descending=True, stable=True)
    plan.prune_idxs = sorted(order[plan.kept :].tolist())


def _layer_name(bn_name: str) -> str:
    """`model.2.cv1.bn` -> `model.2.cv1`: the Conv block a BatchNorm belongs to."""
    return bn_name.removesuffix(".bn")
