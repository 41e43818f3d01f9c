"""C2f without `chunk`: an equivalent block whose first convolution is split in two, so pruning can track it.

Ultralytics' C2f (YOLOv8) and C3k2 (YOLO11) run one 1x1 convolution and `chunk` its output in two halves:
the first half goes straight to the final concat, the second feeds the bottlenecks. Channel dependencies
through `chunk` tie both halves together in torch-pruning's graph. `C2fSplit` computes the two halves with two
separate convolutions holding exactly the original weights, so each half is pruned on its own and the output
is unchanged.

    from yoloslim.c2f import split_c2f
    names = split_c2f(model)   # ['model.2', 'model.4', ...], rewritten in place

The class lives here (importable from `yoloslim`) because a pruned checkpoint pickles it: `YOLO(path)` in a
fresh process imports `yoloslim.c2f` to load it.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from ultralytics.nn.modules import C2f, Conv

_LAYER_ATTRS = ("i", "f", "type", "np")  # what Ultralytics' parse_model sets on every top-level layer


class C2fSplit(nn.Module):
    """C2f with its first convolution split in two (`cv0`: the pass-through half, `cv1`: the bottleneck half)."""

    def __init__(self, cv0: Conv, cv1: Conv, m: nn.ModuleList, cv2: Conv) -> None:
        """Assemble the block from its convolutions and its bottleneck list."""
        super().__init__()
        self.cv0, self.cv1, self.m, self.cv2 = cv0, cv1, m, cv2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same output as C2f.forward: concat of both halves and every bottleneck's output, then cv2."""
        y = [self.cv0(x), self.cv1(x)]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))

    @classmethod
    def from_c2f(cls, block: C2f) -> C2fSplit:
        """The equivalent split block of a C2f (or C3k2), sharing no tensors with it."""
        halves = [_slice_conv(block.cv1, block.c * k, block.c * (k + 1)) for k in (0, 1)]
        new = cls(halves[0], halves[1], copy.deepcopy(block.m), copy.deepcopy(block.cv2))
        for attr in _LAYER_ATTRS:
            if hasattr(block, attr):
                setattr(new, attr, getattr(block, attr))
        return new.train(block.training)


def _slice_conv(conv: Conv, start: int, stop: int) -> Conv:
    """A copy of an Ultralytics Conv keeping output channels [start, stop) of its convolution and BatchNorm."""
    out = copy.deepcopy(conv)
    keep = slice(start, stop)
    out.conv.weight = nn.Parameter(conv.conv.weight.data[keep].clone())
    if conv.conv.bias is not None:
        out.conv.bias = nn.Parameter(conv.conv.bias.data[keep].clone())
    out.conv.out_channels = stop - start
    bn = out.bn
    bn.weight = nn.Parameter(conv.bn.weight.data[keep].clone())
    bn.bias = nn.Parameter(conv.bn.bias.data[keep].clone())
    bn.running_mean = conv.bn.running_mean[keep].clone()
    bn.running_var = conv.bn.running_var[keep].clone()
    bn.num_features = stop - start
    return out


def split_c2f(model: nn.Module) -> list[str]:
    """Replace every C2f-family block (C2f, C3k2) in `model` with its `C2fSplit`, in place; return their names."""
    replaced = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, C2f) and hasattr(child, "c"):
                setattr(module, child_name, C2fSplit.from_c2f(child))
                replaced.append(f"{name}.{child_name}" if name else child_name)
    return replaced
