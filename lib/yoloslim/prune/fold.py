"""Fold the constant output of pruned channels (their BN bias, beta) into the next layers' biases.

A channel whose gamma is (near) zero outputs `act(beta)` everywhere, whatever the input. Removing it removes
that constant from every layer that consumes it, through upsampling, max-pooling, concats and residual adds.
Folding adds it back: for a consumer convolution with weights W, the lost term is
`sum over pruned inputs c and kernel taps of W[:, c] * value_c`, added to its bias or, for a Conv block
(convolution without bias, then BatchNorm), subtracted from the BN running mean.

The constants are measured, not derived by hand: one forward pass of a copy of the model whose pruned
channels have gamma set to 0 records each consumer's input value (the same at every pixel). This makes the
fold exact with respect to that gamma-zeroed model away from the image border (a consumer's zero padding
sees a partial kernel there). Grouped (depthwise) consumers are skipped: their inputs are pruned with their outputs.
"""

from __future__ import annotations

import copy
from functools import partial

import torch
import torch_pruning as tp
from torch import nn

from yoloslim.prune.groups import GroupPlan

_PROBE_SIZE = 64  # input side of the measuring pass (a multiple of the largest stride)
Cuts = tuple[dict[str, set[int]], dict[str, set[int]]]  # (BatchNorm -> channels removed, convolution -> inputs cut)


def fold_deltas(
    model: nn.Module, graph: tp.DependencyGraph, plans: list[GroupPlan], heads: Cuts | None = None
) -> dict[str, torch.Tensor]:
    """Per consumer convolution (by name): the output shift its pruned inputs' constants contribute.

    Call before pruning (indices are the unpruned model's).

    Args:
        model (nn.Module): The unpruned model (measured on a copy).
        graph (tp.DependencyGraph): Its torch-pruning dependency graph.
        plans (list[GroupPlan]): The groups with their channels to prune.
        heads (Cuts | None): The cuts of whole attention heads (`yoloslim.prune.heads.head_cuts`), which torch-pruning's
            groups do not hold; None: none.

    Returns:
        (dict[str, torch.Tensor]): Convolution name -> the shift of its output channels.
    """
    modules = dict(model.named_modules())
    zeroed, consumers = _group_cuts(model, graph, plans)
    for mine, theirs in zip((zeroed, consumers), heads or ({}, {}), strict=True):
        for name, idxs in theirs.items():
            mine.setdefault(name, set()).update(idxs)
    inputs = _constant_inputs(model, zeroed, list(consumers))
    deltas = {}
    for name, idxs in consumers.items():
        idx = sorted(idxs)
        weight = modules[name].weight.detach()[:, idx].sum(dim=(2, 3))
        deltas[name] = weight @ inputs[name][idx]
    return deltas


def _group_cuts(model: nn.Module, graph: tp.DependencyGraph, plans: list[GroupPlan]) -> Cuts:
    """The BatchNorm channels each plan removes, and the consumer convolutions' inputs it cuts."""
    names = {m: n for n, m in model.named_modules()}
    modules = dict(model.named_modules())
    zeroed: dict[str, set[int]] = {}
    consumers: dict[str, set[int]] = {}
    for plan in (p for p in plans if p.prune_idxs):
        group = graph.get_pruning_group(modules[plan.root], tp.prune_conv_out_channels, plan.prune_idxs)
        for dep, idxs in group:
            module = dep.target.module
            if isinstance(module, nn.BatchNorm2d):
                zeroed.setdefault(names[module], set()).update(idxs)
            elif isinstance(module, nn.Conv2d) and module.groups == 1 and graph.is_in_channel_pruning_fn(dep.handler):
                consumers.setdefault(names[module], set()).update(idxs)
    return zeroed, consumers


def apply_deltas(model: nn.Module, deltas: dict[str, torch.Tensor]) -> list[str]:
    """Add each shift to its convolution's bias, or take it off the following BatchNorm's running mean.

    Call before pruning, on the model the deltas were measured on; returns the names of the layers changed.
    """
    modules = dict(model.named_modules())
    changed = []
    for name, delta in deltas.items():
        conv = modules[name]
        parent = modules.get(name.rpartition(".")[0])
        if conv.bias is not None:
            conv.bias.data += delta.to(conv.bias.dtype)
        elif isinstance(getattr(parent, "bn", None), nn.BatchNorm2d) and parent.conv is conv:
            parent.bn.running_mean -= delta.to(parent.bn.running_mean.dtype)
        else:
            continue
        changed.append(name)
    return changed


def _constant_inputs(model: nn.Module, zeroed: dict[str, set[int]], consumers: list[str]) -> dict[str, torch.Tensor]:
    """Each consumer's input at the centre pixel, in a copy whose pruned BatchNorm channels have gamma 0."""
    probe = copy.deepcopy(model).float().eval()
    modules = dict(probe.named_modules())
    for name, idxs in zeroed.items():
        modules[name].weight.data[sorted(idxs)] = 0.0
    captured: dict[str, torch.Tensor] = {}
    hooks = [modules[name].register_forward_pre_hook(partial(_capture_centre, captured, name)) for name in consumers]
    try:
        with torch.no_grad():
            probe(torch.zeros(1, 3, _PROBE_SIZE, _PROBE_SIZE))
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def _capture_centre(store: dict[str, torch.Tensor], name: str, module: nn.Module, args: tuple) -> None:
    """Forward pre-hook: keep the input's values at the centre pixel."""
    x = args[0]
    store[name] = x[0, :, x.shape[2] // 2, x.shape[3] // 2].detach().clone()
