"""Attention blocks (YOLO11 and YOLO26's C2PSA, YOLO26's C3k2 with `attn=True`): kept intact, or pruned by whole heads.

An Attention module reshapes its channels into heads (`qkv.view(B, heads, 2 * key_dim + head_dim, N)`) and
back to its input width, so removing single channels inside the block, or from the residual path it shares,
breaks the reshape. `prune.attention` chooses what happens to such a block:

- `intact` (default): the block is kept whole. Every convolution inside it is neither pruned nor penalized by
  the sparse L1, except its output convolution `cv2`, a plain 1x1 convolution whose output channels are pruned
  like any other. The block's input channels (of its first convolution) are still pruned with the layer that
  feeds it, so everything around the block can be slimmed.
- `heads`: whole heads go (`yoloslim.prune.heads`). Stock Ultralytics' Attention ties its width to the
  block's residual width (`heads * head_dim`), so the block narrows to the heads it keeps, `head_dim` unchanged.
  Every BatchNorm of the block is penalized and pruned like any other, but those of the per-head convolutions:
  `qkv` (only its value channels are penalized: they decide whether a head is needed) and `pe` (the value's
  positional convolution, which goes with its head).

    from yoloslim.models.attention import intact_layers
    intact_layers(model)   # {'model.10.cv1': 'kept intact: attention block C2PSA ...', ...}
"""

from __future__ import annotations

from torch import nn
from ultralytics.nn.modules import Conv
from ultralytics.nn.modules.block import Attention, PSABlock

from yoloslim.config import AttentionMode
from yoloslim.text import message

ATTENTION_TYPES = (Attention, PSABlock, nn.MultiheadAttention)


def attention_blocks(model: nn.Module) -> dict[str, nn.Module]:
    """The top-level layers (`model.<i>`) that hold an attention module, by name."""
    model = getattr(model, "module", model)  # DDP
    return {
        f"model.{i}": layer
        for i, layer in enumerate(getattr(model, "model", []))
        if any(isinstance(m, ATTENTION_TYPES) for m in layer.modules())
    }


def attentions(model: nn.Module) -> dict[str, Attention]:
    """Every Ultralytics Attention module (`model.10.m.0.attn`) by name, in model order."""
    model = getattr(model, "module", model)  # DDP
    return {name: m for name, m in model.named_modules() if isinstance(m, Attention)}


def intact_layers(model: nn.Module, attention: AttentionMode = "intact") -> dict[str, dict]:
    """Every Conv block (`model.10.m.0.attn.qkv`) kept intact inside an attention block, with the reason (a
    message, `yoloslim.text`).

    The block's output convolution `cv2` is not listed: it is pruned like any other layer. With
    `attention="heads"` nothing is kept intact: the blocks are pruned by whole heads.
    """
    if attention == "heads":
        return {}
    intact = {}
    for prefix, block in attention_blocks(model).items():
        output = getattr(block, "cv2", None)
        kind = getattr(block, "stock", type(block)).__name__  # a C3k2 split to be traced (models.c2f): C3k2
        reason = message("note_attention_intact", block=prefix, kind=kind)
        for name, m in block.named_modules():
            if isinstance(m, Conv) and m is not output:
                intact[f"{prefix}.{name}"] = reason
    return intact


def unprunable_convs(model: nn.Module, attention: AttentionMode = "intact") -> list[nn.Conv2d]:
    """The convolutions whose outputs torch-pruning must not prune: those of `intact_layers`, or with
    `attention="heads"` each Attention's `qkv` and `pe`, which `yoloslim.prune.heads` prunes by whole heads."""
    if attention == "heads":
        return [conv.conv for attn in attentions(model).values() for conv in (attn.qkv, attn.pe)]
    modules = dict(getattr(model, "module", model).named_modules())
    return [modules[name].conv for name in intact_layers(model)]


def value_channels(attn: Attention, heads: list[int] | range | None = None) -> list[int]:
    """The output channels of `attn.qkv` that hold the value of each head in `heads` (default: all).

    `qkv`'s output is viewed as `(heads, 2 * key_dim + head_dim)`: per head its query, key, then value channels.
    """
    per_head = 2 * attn.key_dim + attn.head_dim
    heads = range(attn.num_heads) if heads is None else heads
    return [h * per_head + 2 * attn.key_dim + j for h in heads for j in range(attn.head_dim)]


def per_head_channels(model: nn.Module, attention: AttentionMode) -> dict[str, list[int]]:
    """With `attention="heads"`, the BatchNorms pruned with their head, each with the channels the sparse L1 acts on:
    `qkv`'s (`model.10.m.0.attn.qkv.bn`) value channels, whose |gamma| decide which heads are needed, and none of
    `pe`'s; otherwise none."""
    if attention != "heads":
        return {}
    per_head = {}
    for name, attn in attentions(model).items():
        per_head[f"{name}.qkv.bn"], per_head[f"{name}.pe.bn"] = value_channels(attn), []
    return per_head
