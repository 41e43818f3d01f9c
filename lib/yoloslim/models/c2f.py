"""C2f without `chunk`: an equivalent block whose first convolution is split in two, so pruning can track it.

Ultralytics' C2f (YOLOv8) and C3k2 (YOLO11) run one 1x1 convolution and `chunk` its output in two halves:
the first half goes straight to the final concat, the second feeds the bottlenecks. Channel dependencies
through `chunk` tie both halves together in torch-pruning's graph. `C2fSplit` computes the two halves with two
separate convolutions holding exactly the original weights, so each half is pruned on its own and the output
is unchanged.

YOLO11/YOLO26's C2PSA (an attention block) splits its first convolution in two the same way (`split((c, c))`: one
half to the output concat, the other through the attention blocks); with `prune.attention: heads` it is rewritten
as `C2PSASplit` so its halves can be pruned too.

After pruning, `merge_c2f` turns each split block back into its stock class (C2f, C3k2, C2PSA), whose `cv1` is the
two halves concatenated: possible when both halves kept the same number of channels, which the prune stage
ensures by default (`prune.c2f_halves: equal`). The checkpoint then holds stock Ultralytics modules only and
loads with plain `YOLO(path)` where yoloslim is not installed. With `c2f_halves: free` the halves are pruned
apart and the checkpoint keeps `C2fSplit`, so loading it needs yoloslim importable.

    from yoloslim.models.c2f import merge_c2f, split_c2f
    names = split_c2f(model)   # ['model.2', 'model.4', ...], rewritten in place
    merge_c2f(model)           # back to C2f / C3k2, in place (halves of equal width)
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from ultralytics.nn.modules import C2PSA, C2f, Conv

_LAYER_ATTRS = ("i", "f", "type", "np")  # what Ultralytics' parse_model sets on every top-level layer


class C2fSplit(nn.Module):
    """C2f with its first convolution split in two (`cv0`: the pass-through half, `cv1`: the bottleneck half)."""

    def __init__(self, cv0: Conv, cv1: Conv, m: nn.Module, cv2: Conv, stock: type[nn.Module] = C2f) -> None:
        """Assemble the block from its convolutions, its inner blocks and the stock class it was split from."""
        super().__init__()
        self.cv0, self.cv1, self.m, self.cv2 = cv0, cv1, m, cv2
        self.stock = stock

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same output as C2f.forward: concat of both halves and every bottleneck's output, then cv2."""
        y = [self.cv0(x), self.cv1(x)]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))

    @classmethod
    def from_c2f(cls, block: nn.Module) -> C2fSplit:
        """The equivalent split block of a C2f (or C3k2; a C2PSA for `C2PSASplit`), sharing no tensors with it."""
        halves = [_slice_conv(block.cv1, block.c * k, block.c * (k + 1)) for k in (0, 1)]
        new = cls(halves[0], halves[1], copy.deepcopy(block.m), copy.deepcopy(block.cv2), type(block))
        _copy_layer_attrs(block, new)
        return new.train(block.training)

    def to_stock(self) -> nn.Module:
        """The equivalent stock block (C2f, C3k2 or C2PSA): `cv1` is both halves concatenated, split in two again.

        Raises ValueError when the halves differ in width (pruned apart): stock C2f splits into equal halves.
        """
        width = self.cv0.conv.out_channels
        if self.cv1.conv.out_channels != width:
            raise ValueError(
                f"C2fSplit halves of {width} and {self.cv1.conv.out_channels} channels: a stock "
                f"{self.stock.__name__} needs equal halves (prune with prune.c2f_halves: equal)"
            )
        block = self.stock.__new__(self.stock)
        nn.Module.__init__(block)
        block.c, block.cv1, block.m, block.cv2 = width, _concat_convs(self.cv0, self.cv1), self.m, self.cv2
        _copy_layer_attrs(self, block)
        return block.train(self.training)


class C2PSASplit(C2fSplit):
    """C2PSA with its first convolution split in two (`cv0`: the pass-through half, `cv1`: the attention half)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same output as C2PSA.forward: concat of the first half and the attention blocks' output, then cv2."""
        return self.cv2(torch.cat([self.cv0(x), self.m(self.cv1(x))], 1))


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


def _concat_convs(first: Conv, second: Conv) -> Conv:
    """One Conv whose output channels are `first`'s then `second`'s (same input, kernel and activation)."""
    out = copy.deepcopy(first)
    out.conv.weight = nn.Parameter(torch.cat([first.conv.weight.data, second.conv.weight.data]))
    if first.conv.bias is not None:
        out.conv.bias = nn.Parameter(torch.cat([first.conv.bias.data, second.conv.bias.data]))
    out.conv.out_channels = first.conv.out_channels + second.conv.out_channels
    for attr in ("weight", "bias"):
        setattr(out.bn, attr, nn.Parameter(torch.cat([getattr(first.bn, attr).data, getattr(second.bn, attr).data])))
    for buf in ("running_mean", "running_var"):
        setattr(out.bn, buf, torch.cat([getattr(first.bn, buf), getattr(second.bn, buf)]))
    out.bn.num_features = out.conv.out_channels
    return out


def _copy_layer_attrs(source: nn.Module, target: nn.Module) -> None:
    """Copy what Ultralytics' parse_model sets on a top-level layer (`i`, `f`, `type`, `np`)."""
    for attr in _LAYER_ATTRS:
        if hasattr(source, attr):
            setattr(target, attr, getattr(source, attr))


def merge_c2f(model: nn.Module) -> list[str]:
    """Replace every `C2fSplit` in `model` with its stock block (`C2fSplit.to_stock`), in place; return their names."""
    merged = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, C2fSplit):
                setattr(module, child_name, child.to_stock())
                merged.append(f"{name}.{child_name}" if name else child_name)
    return merged


def split_c2f(model: nn.Module, c2psa: bool = False) -> list[str]:
    """Replace every C2f-family block (C2f, C3k2) in `model` with its `C2fSplit`, and with `c2psa` every C2PSA with
    its `C2PSASplit`, in place; return their names."""
    replaced = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, C2f) and hasattr(child, "c"):
                setattr(module, child_name, C2fSplit.from_c2f(child))
            elif c2psa and isinstance(child, C2PSA):
                setattr(module, child_name, C2PSASplit.from_c2f(child))
            else:
                continue
            replaced.append(f"{name}.{child_name}" if name else child_name)
    return replaced
