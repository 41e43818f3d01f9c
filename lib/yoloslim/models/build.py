"""Build detection models from the config's Ultralytics YAML, with width/depth overrides and uniform-width variants.

model = build_model(cfg, nc=3)                    # the base architecture, random weights
half = build_model(cfg, nc=3, width_scale=0.5)    # every layer at half the base width, aligned to round_to
model = load_trainable(path)                      # a checkpoint's model as it is (pruned shapes kept)
"""

from __future__ import annotations

import copy
import inspect
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from ultralytics.nn import tasks
from ultralytics.nn.modules import DFL, Detect
from ultralytics.nn.tasks import DetectionModel, load_checkpoint, yaml_model_load
from ultralytics.utils.ops import make_divisible
from ultralytics.utils.torch_utils import initialize_weights

from yoloslim.config import Config
from yoloslim.models.stats import existing_weights


def model_yaml(cfg: Config, width_scale: float = 1.0) -> dict[str, Any]:
    """The model dictionary of `cfg.model.cfg` (or the checkpoint's, `model.base: weights`) with the config's
    width/depth, optionally scaled to `width_scale`.

    With `width_scale != 1` every layer's output channels are written out explicitly: the base model's channels
    times `width_scale`, rounded up to a multiple of `cfg.prune.round_to` (Ultralytics itself also rounds every
    layer up to a multiple of 8). Depth (block repeats) stays the base model's.
    """
    d = copy.deepcopy(_architecture(cfg))
    scales = d.get("scales") or {}
    scale = d.get("scale") or next(iter(scales), "")
    depth, width, max_channels = scales.get(scale) or (
        d.get("depth_multiple", 1.0),
        d.get("width_multiple", 1.0),
        float("inf"),
    )
    depth = cfg.model.depth or depth
    width = cfg.model.width or width
    if width_scale != 1.0:
        _write_channels(d, width, max_channels, width_scale, cfg.prune.round_to)
        width, max_channels = 1.0, float("inf")
    d["scale"] = scale or "n"
    d["scales"] = {d["scale"]: [depth, width, max_channels]}
    return d


def _architecture(cfg: Config) -> dict[str, Any]:
    """The base model's YAML dictionary: the trained checkpoint's own (`model.base: weights`) or `model.cfg`'s."""
    if cfg.model.base == "weights":
        model, _ = load_checkpoint(existing_weights(str(cfg.model.weights)))
        return {k: v for k, v in model.yaml.items() if k != "nc"}
    return yaml_model_load(cfg.model.cfg)


def build_model(cfg: Config, nc: int, width_scale: float = 1.0, verbose: bool = False) -> DetectionModel:
    """A randomly initialized detection model for `nc` classes (see `model_yaml`).

    Args:
        cfg (Config): The study (`model.cfg`, its width and depth, `prune.round_to`).
        nc (int): The number of classes.
        width_scale (float): Every layer's width as a factor of the base model's (1: the base architecture).
        verbose (bool): Whether Ultralytics prints the model's layers.

    Returns:
        (DetectionModel): The model.
    """
    d = model_yaml(cfg, width_scale)
    d["nc"] = nc
    return DetectionModel(d, nc=nc, verbose=verbose)


def load_trainable(path: str | Path) -> DetectionModel:
    """The model of an Ultralytics checkpoint as it is (pruned shapes kept), in fp32, training mode, trainable."""
    model, _ = load_checkpoint(existing_weights(path))
    model.train()
    for p in model.parameters():
        p.requires_grad_(p.dtype.is_floating_point)
    for m in model.modules():
        if isinstance(m, DFL):
            m.conv.weight.requires_grad_(False)  # DFL is a fixed projection (Ultralytics always freezes it)
    return model


def reinitialize(model: nn.Module, seed: int) -> nn.Module:
    """Re-initialize every weight of `model` in place, keeping its architecture (the 'scratch' baseline).

    Convolutions and BatchNorms are reset with PyTorch's defaults, the Detect head's biases with Ultralytics'
    prior; the DFL projection (fixed, not learned) is left as it is.
    """
    torch.manual_seed(seed)
    fixed = {id(m.conv) for m in model.modules() if isinstance(m, DFL)}
    for m in model.modules():
        if id(m) not in fixed and isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)):
            m.reset_parameters()
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
    initialize_weights(model)
    for m in model.modules():
        if isinstance(m, Detect):
            m.bias_init()
    return model


def conv_channels(model: nn.Module) -> dict[str, int]:
    """Output channels of every convolution, by module name: the architecture fingerprint of a (pruned) model."""
    return {name: m.out_channels for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}


def _write_channels(d: dict[str, Any], width: float, max_channels: float, scale: float, round_to: int) -> None:
    """Replace each layer's channel argument with `scale` x the base model's channels, rounded up to `round_to`."""
    for layer in d["backbone"] + d["head"]:
        module, args = layer[2], layer[3]
        if _takes_channels(module) and args and isinstance(args[0], (int, float)):
            base = make_divisible(min(args[0], max_channels) * width, 8)
            args[0] = max(round_to, math.ceil(base * scale / round_to) * round_to)


def _takes_channels(module: str) -> bool:
    """Whether an Ultralytics layer's first YAML argument is its output channels (signature `(c1, c2, ...)`)."""
    cls = getattr(tasks, module, None)
    if not inspect.isclass(cls) or module.startswith("nn."):
        return False
    return list(inspect.signature(cls).parameters)[:2] == ["c1", "c2"]
