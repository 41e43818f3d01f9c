"""Attention blocks (YOLO11 and YOLO26's C2PSA, YOLO26's C3k2 with `attn=True`): kept intact by channel pruning.

An Attention module reshapes its channels into heads (`qkv.view(B, heads, 2 * key_dim + head_dim, N)`) and
back to its input width, so removing any channel inside the block, or from the residual path it shares,
breaks the reshape. Such a block is therefore kept whole: every convolution inside it is neither pruned nor
penalized by the sparse L1, except its output convolution `cv2`, a plain 1x1 convolution whose output channels
are pruned like any other. The block's input channels (of its first convolution) are still pruned with the
layer that feeds it, so everything around the block can be slimmed.

    from yoloslim.models.attention import intact_layers
    intact_layers(model)   # {'model.10.cv1': 'kept intact: attention block C2PSA ...', ...}
"""

from __future__ import annotations

from torch import nn
from ultralytics.nn.modules import Conv
from ultralytics.nn.modules.block import Attention, PSABlock

ATTENTION_TYPES = (Attention, PSABlock, nn.MultiheadAttention)


def attention_blocks(model: nn.Module) -> dict[str, nn.Module]:
    """The top-level layers (`model.<i>`) that hold an attention module, by name."""
    model = getattr(model, "module", model)  # DDP
    return {
        f"model.{i}": layer
        for i, layer in enumerate(getattr(model, "model", []))
        if any(isinstance(m, ATTENTION_TYPES) for m in layer.modules())
    }


def intact_layers(model: nn.Module) -> dict[str, str]:
    """Every Conv block (`model.10.m.0.attn.qkv`) kept intact inside an attention block, with the reason.

    The block's output convolution `cv2` is not listed: it is pruned like any other layer.
    """
    intact = {}
    for prefix, block in attention_blocks(model).items():
        output = getattr(block, "cv2", None)
        kind = getattr(block, "stock", type(block)).__name__  # a C3k2 split to be traced (models.c2f): C3k2
        reason = f"kept intact: inside the attention block {prefix} ({kind}), whose heads reshape its channels"
        for name, m in block.named_modules():
            if isinstance(m, Conv) and m is not output:
                intact[f"{prefix}.{name}"] = reason
    return intact


def intact_convs(model: nn.Module) -> list[nn.Conv2d]:
    """The convolutions of `intact_layers`: torch-pruning must not prune their outputs."""
    modules = dict(getattr(model, "module", model).named_modules())
    return [modules[name].conv for name in intact_layers(model)]
