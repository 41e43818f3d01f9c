"""BatchNorm scale factors (gamma): which are penalized and prunable, and their statistics.

Network slimming puts an L1 penalty on every BatchNorm gamma whose channels may be pruned: by default every
BatchNorm of the model, the same set that `yoloslim.prune` prunes. The Detect head's output convolutions and
DFL have no BatchNorm, so they are neither penalized nor pruned. With `exclude_head` the BatchNorms of the
Detect head's inner box/class branches are left unpenalized too, so their gammas stay large and pruning
keeps them.

    bns = penalized_bns(model)                 # [(name, BatchNorm2d), ...]
    g = gamma_values(model)                    # all penalized |gamma| as one 1-D tensor
    fraction_under(g, 0.01)                    # 0.23
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

HIST_EDGES = np.concatenate([[0.0], np.logspace(-4, 1, 41)])  # |gamma| bins: [0, 1e-4), then log-spaced to 10


def penalized_bns(model: nn.Module, exclude_head: bool = False) -> list[tuple[str, nn.BatchNorm2d]]:
    """The BatchNorm layers that get the L1 penalty and may be pruned, by module name, in model order.

    `exclude_head=True` leaves out every BatchNorm inside the Detect head (see the module docstring).
    """
    model = getattr(model, "module", model)  # DDP
    head = _head_prefix(model) if exclude_head else None
    return [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.BatchNorm2d) and not (head and name.startswith(head))
    ]


def gamma_values(model: nn.Module, exclude_head: bool = False) -> torch.Tensor:
    """|gamma| of every penalized BatchNorm channel, concatenated, as a float32 CPU tensor."""
    bns = penalized_bns(model, exclude_head)
    if not bns:
        return torch.zeros(0)
    return torch.cat([m.weight.detach().float().abs().flatten().cpu() for _, m in bns])


def fraction_under(gammas: torch.Tensor, threshold: float) -> float:
    """The fraction of channels whose |gamma| is below `threshold`."""
    return float((gammas.abs() < threshold).float().mean()) if gammas.numel() else 0.0


def gamma_quantile(gammas: torch.Tensor, fraction: float) -> float:
    """The |gamma| below which `fraction` of the channels lie (the global threshold of the fraction policy)."""
    return float(torch.quantile(gammas.abs().double(), fraction)) if gammas.numel() else 0.0


def gamma_histogram(gammas: torch.Tensor) -> list[tuple[float, float, int]]:
    """(bin_left, bin_right, count) over the fixed bins `HIST_EDGES`; values above 10 count in the last bin."""
    values = np.clip(gammas.abs().numpy(), 0, HIST_EDGES[-1] * (1 - 1e-9))
    counts, _ = np.histogram(values, bins=HIST_EDGES)
    return [(float(a), float(b), int(c)) for a, b, c in zip(HIST_EDGES[:-1], HIST_EDGES[1:], counts, strict=True)]


def _head_prefix(model: nn.Module) -> str | None:
    """The module-name prefix of the Detect head (the last layer of an Ultralytics model), e.g. 'model.24.'."""
    layers = getattr(model, "model", None)
    if isinstance(layers, nn.Sequential) and len(layers):
        return f"model.{len(layers) - 1}."
    return None
