"""Whole attention heads (`prune.attention: heads`): each attention block narrowed to the heads it needs.

Stock Ultralytics' Attention (in YOLO11/YOLO26's C2PSA and YOLO26's C3k2 PSA blocks) views its input as
`heads x head_dim` channels and its `qkv` output as `heads x (2 * key_dim + head_dim)`, so its width is the
block's residual width. A block can lose whole heads and still hold stock modules only if it narrows with them:
its residual stream (the split's attention half, each PSA block's `proj` and `ffn` outputs, a C3k2's bottleneck
output) and the split's other half (a stock block splits in equal halves) keep `kept heads x head_dim` channels,
and every Attention in it keeps that many heads, `head_dim` and `key_dim` unchanged.

How many heads a block keeps is network slimming's rule applied to whole heads:
- a head is needed when the largest |gamma| of its value channels (in `qkv`'s BatchNorm) is at or over the
  threshold. Under it, each value channel outputs its constant beta, so the head adds a constant to `proj`'s input,
  which is folded into `proj` (`yoloslim.prune.fold`);
- the block keeps the most heads any of its Attention modules needs, at least as many as the channels its residual
  stream and its other half keep by the threshold fill (in whole heads, rounded up), and at least one.
Which heads go: each Attention's least important ones (chosen at random in the `-random` control). The widths stay
multiples of `round_to` when `head_dim` is one; a block whose `head_dim` is not keeps all its heads and says so.

    plans = plan_heads(model, group_plans, threshold=0.1, round_to=8)   # after the channel plans
    prune_heads(model, plans)                                           # after torch-pruning cut the groups
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

from yoloslim.models.attention import attention_blocks, attentions, value_channels
from yoloslim.prune.fold import Cuts
from yoloslim.prune.groups import GroupPlan, keep_most_important
from yoloslim.text import message


@dataclass
class HeadPlan:
    """The heads one Attention module (`model.10.m.0.attn`) keeps.

    `heads` is its head count before pruning; `importance` each head's largest value |gamma|; `needed` the heads at or
    over the threshold; `kept` the heads kept (ascending), as many as the block keeps; `notes` say why (messages,
    `yoloslim.text`).
    """

    name: str
    attn: nn.Module
    heads: int
    importance: torch.Tensor
    needed: int
    kept: list[int]
    notes: list[dict]

    @property
    def removed(self) -> list[int]:
        """The heads that go."""
        return [h for h in range(self.heads) if h not in self.kept]

    def rows(self) -> list[GroupPlan]:
        """Its `qkv` and `pe` as plans for the layer table: their widths and kept channels, by whole heads."""
        attn, rows = self.attn, []
        for part, per_head in (("qkv", 2 * attn.key_dim + attn.head_dim), ("pe", attn.head_dim)):
            plan = GroupPlan(root=f"{self.name}.{part}", layers=[f"{self.name}.{part}"],
                             importance=self.importance.repeat_interleave(per_head))  # fmt: skip
            plan.kept_by_policy, plan.kept = self.needed * per_head, len(self.kept) * per_head
            plan.prune_idxs = [h * per_head + j for h in self.removed for j in range(per_head)]
            plan.notes = list(self.notes)
            rows.append(plan)
        return rows


def head_importance(attn: nn.Module) -> torch.Tensor:
    """Per head of an Attention module: the largest |gamma| of its value channels in `qkv`'s BatchNorm."""
    gammas = attn.qkv.bn.weight.detach().abs()[value_channels(attn)]
    return gammas.view(attn.num_heads, attn.head_dim).amax(dim=1)


def plan_heads(
    model: nn.Module,
    plans: list[GroupPlan],
    threshold: float,
    round_to: int,
    generator: torch.Generator | None = None,
) -> list[HeadPlan]:
    """Decide the heads every attention block keeps (see the module docstring) and narrow its two halves' plans to
    match; call after the channel plans are filled.

    Args:
        model (nn.Module): The model.
        plans (list[GroupPlan]): Its channel plans, filled; the halves of each attention block are changed in place.
        threshold (float): The |gamma| at or over which a head is needed (its largest value channel's).
        round_to (int): The alignment: a block whose `head_dim` is not a multiple of it keeps all its heads.
        generator (torch.Generator | None): Choose the kept heads at random with it (the control); None: the most
            important.

    Returns:
        (list[HeadPlan]): One plan per Attention module, in model order.
    """
    owner = {layer: plan for plan in plans for layer in plan.layers}
    modules = attentions(model)
    out = []
    for block in attention_blocks(model):
        attns = {name: m for name, m in modules.items() if name.startswith(f"{block}.")}
        if not attns:
            continue
        first = next(iter(attns.values()))
        heads, head_dim = first.num_heads, first.head_dim
        stream = owner.get(f"{block}.cv1")  # the split's attention half: the residual stream
        halves = [p for p in (owner.get(f"{block}.cv0"), stream) if p is not None]
        importance = {name: head_importance(m) for name, m in attns.items()}
        needed = {name: int((imp >= threshold).sum()) for name, imp in importance.items()}
        width = max((p.kept_by_policy for p in halves), default=0)
        keep = min(heads, max(1, *needed.values(), math.ceil(width / head_dim)))
        note = message("heads_kept", keep=keep, heads=heads, head_dim=head_dim, block=block)
        if head_dim % round_to:
            keep, note = heads, message("heads_all_head_dim", heads=heads, head_dim=head_dim, round_to=round_to)
        elif stream is None:
            keep, note = heads, message("heads_all_residual", heads=heads, block=block)
        for half in (p for p in halves if p.kept != keep * head_dim):
            half.kept = keep * head_dim
            keep_most_important(half)
            half.notes += [message("note_whole_heads", channels=half.kept), note]
        for name, imp in importance.items():
            order = torch.randperm(heads, generator=generator) if generator else torch.argsort(imp, descending=True)
            kept = sorted(order[:keep].tolist())
            notes = [note, message("heads_needed", needed=needed[name])]
            out.append(HeadPlan(name, attns[name], heads, imp, needed[name], kept, notes))
    return out


def head_cuts(plans: list[HeadPlan]) -> Cuts:
    """For the beta fold (`yoloslim.prune.fold`): the `qkv` BatchNorm channels of the heads that go, and `proj`'s
    inputs they fed (each value channel through attention and `pe`)."""
    zeroed, consumers = {}, {}
    for plan in (p for p in plans if p.removed):
        qkv, pe = plan.rows()
        zeroed[f"{plan.name}.qkv.bn"] = set(qkv.prune_idxs)
        consumers[f"{plan.name}.proj.conv"] = set(pe.prune_idxs)
    return zeroed, consumers


def prune_heads(model: nn.Module, plans: list[HeadPlan]) -> None:
    """Remove the heads that go from each Attention module: `qkv`'s rows, `pe`'s channels, `proj`'s inputs, in place.

    Call after torch-pruning narrowed the blocks' residual streams to the kept heads' width.
    """
    for plan in (p for p in plans if p.removed):
        attn = plan.attn
        rows, inner = (row.prune_idxs for row in plan.rows())
        tp.prune_conv_out_channels(attn.qkv.conv, rows)
        tp.prune_batchnorm_out_channels(attn.qkv.bn, rows)
        tp.prune_depthwise_conv_out_channels(attn.pe.conv, inner)
        tp.prune_batchnorm_out_channels(attn.pe.bn, inner)
        tp.prune_conv_in_channels(attn.proj.conv, inner)
        attn.num_heads = len(plan.kept)
