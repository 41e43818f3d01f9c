"""BatchNorm scale factors (gamma): which are penalized and prunable, and their statistics.

Network slimming puts an L1 penalty on every BatchNorm gamma whose channels may be pruned: by default every
BatchNorm of the model but those inside attention blocks (kept intact: `yoloslim.models.attention`), the same set that
`yoloslim.prune.slimming` prunes. With `prune.attention: heads` the attention blocks' BatchNorms are penalized too, but
of each Attention's `qkv` only the value channels (which decide whether a head is needed) and not its `pe`. The
Detect head's output convolutions and DFL have no BatchNorm, so they are neither penalized nor pruned. With
`exclude_head` the BatchNorms of the Detect head's inner box/class branches are left unpenalized too, so their
gammas stay large and pruning keeps them.

    bns = penalized_bns(model)                 # [(name, BatchNorm2d, channels), ...]
    g = gamma_values(model)                    # all penalized |gamma| as one 1-D tensor
    fraction_under(g, 0.01)                    # 0.23
    sparsity_warning(g, 0.01)                  # None, or why a cut at 0.01 ranks noise (a `yoloslim.text` message)

Is the model sparse at a cut? Network slimming works when the |gamma| distribution has separated into a
mass near 0 and the channels the detector needs, with the cut between them. `cut_contrast` measures that:
the median |gamma| of the channels under the cut over the median of those kept. Near 0 the cut separates
two populations; near 1 it falls inside one band (gammas that all drifted down together), and which
channels go is decided by noise. `sparsity_warning` speaks up when nothing is under the cut or the contrast
is above `MAX_CONTRAST`, with a text id and its values (`yoloslim.text.message`; `say` puts it in words).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from yoloslim.models.attention import AttentionMode, intact_layers, per_head_channels
from yoloslim.text import message

Channels = slice | list[int]  # the penalized channels of a BatchNorm: ALL, or a list of indices
ALL = slice(None)

HIST_EDGES = np.concatenate([[0.0], np.logspace(-4, 1, 41)])  # |gamma| bins: [0, 1e-4), then log-spaced to 10
MAX_CONTRAST = 0.5  # pruned channels' median |gamma| above half the kept channels': the cut separates nothing


def penalized_bns(
    model: nn.Module, exclude_head: bool = False, attention: AttentionMode = "intact"
) -> list[tuple[str, nn.BatchNorm2d, Channels]]:
    """The BatchNorm layers that get the L1 penalty and may be pruned, by module name, in model order, each with the
    channels penalized.

    Args:
        model (nn.Module): The detection model (or its DDP wrapper).
        exclude_head (bool): Leave out every BatchNorm inside the Detect head (see the module docstring).
        attention (AttentionMode): `intact`: BatchNorms inside an attention block (`yoloslim.models.attention`) are
            never pruned, so they are not penalized; `heads`: they are, of an Attention's `qkv` only the value
            channels.

    Returns:
        (list[tuple[str, nn.BatchNorm2d, Channels]]): (name, BatchNorm, channels penalized: `ALL` or a list of
            indices).
    """
    model = getattr(model, "module", model)  # DDP
    head = _head_prefix(model) if exclude_head else None
    intact = intact_layers(model, attention)
    per_head = per_head_channels(model, attention)  # qkv: its value channels; pe: none
    bns = [
        (name, m, per_head.get(name, ALL))
        for name, m in model.named_modules()
        if isinstance(m, nn.BatchNorm2d)
        and not (head and name.startswith(head))
        and name.removesuffix(".bn") not in intact
    ]
    return [(name, m, channels) for name, m, channels in bns if channels != []]


def gamma_values(model: nn.Module, exclude_head: bool = False, attention: AttentionMode = "intact") -> torch.Tensor:
    """|gamma| of every penalized BatchNorm channel, concatenated, as a float32 CPU tensor.

    Args:
        model (nn.Module): The detection model.
        exclude_head (bool): Leave out the Detect head's BatchNorms (`penalized_bns`).
        attention (AttentionMode): Whether attention blocks are kept `intact` or pruned by `heads` (`penalized_bns`).

    Returns:
        (torch.Tensor): The 1-D tensor; empty when nothing is penalized.
    """
    bns = penalized_bns(model, exclude_head, attention)
    if not bns:
        return torch.zeros(0)
    return torch.cat([m.weight.detach()[channels].float().abs().flatten().cpu() for _, m, channels in bns])


def fraction_under(gammas: torch.Tensor, threshold: float) -> float:
    """The fraction of channels whose |gamma| is below `threshold`."""
    return float((gammas.abs() < threshold).float().mean()) if gammas.numel() else 0.0


def gamma_histogram(gammas: torch.Tensor) -> list[tuple[float, float, int]]:
    """(bin_left, bin_right, count) over the fixed bins `HIST_EDGES`; values above 10 count in the last bin."""
    values = np.clip(gammas.abs().numpy(), 0, HIST_EDGES[-1] * (1 - 1e-9))
    counts, _ = np.histogram(values, bins=HIST_EDGES)
    return [(float(a), float(b), int(c)) for a, b, c in zip(HIST_EDGES[:-1], HIST_EDGES[1:], counts, strict=True)]


def cut_contrast(gammas: torch.Tensor | np.ndarray, cut: float) -> float:
    """Median |gamma| under `cut` over the median of the rest (nan when either side is empty)."""
    values = np.abs(np.asarray(gammas, dtype=np.float64))
    below, above = values[values < cut], values[values >= cut]
    if not len(below) or not len(above):
        return float("nan")
    return float(np.median(below) / max(np.median(above), 1e-12))


def sparsity_warning(gammas: torch.Tensor | np.ndarray, cut: float) -> dict[str, Any] | None:
    """A warning (`yoloslim.text.message`: `not_sparse_at` or `not_sparse_band` and its values) when a cut at
    |gamma| `cut` does not separate unneeded channels, else None."""
    values = np.abs(np.asarray(gammas, dtype=np.float64))
    if not len(values):
        return None
    under = float((values < cut).mean())
    if under == 0:
        return message("not_sparse_at", cut=float(cut), smallest=float(values.min()), median=float(np.median(values)))
    contrast = cut_contrast(values, cut)
    if contrast > MAX_CONTRAST:
        return message("not_sparse_band", cut=float(cut), under=under, contrast=contrast)
    return None


def _head_prefix(model: nn.Module) -> str | None:
    """The module-name prefix of the Detect head (the last layer of an Ultralytics model), e.g. 'model.24.'."""
    layers = getattr(model, "model", None)
    if isinstance(layers, nn.Sequential) and len(layers):
        return f"model.{len(layers) - 1}."
    return None
