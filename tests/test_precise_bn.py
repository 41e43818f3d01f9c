"""Precise BN: recomputed BatchNorm statistics are the batches' averages, and a real trainer's EMA gets them."""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import nn
from yoloslim.config import Config
from yoloslim.paths import StudyPaths
from yoloslim.train.base import run_train
from yoloslim.train.precise_bn import PreciseBN, recompute_bn_stats


class _Inputs:
    """Forward pre-hook recording what a layer sees."""

    def __init__(self, layer: nn.Module) -> None:
        self.seen: list[torch.Tensor] = []
        self.handle = layer.register_forward_pre_hook(lambda _m, args: self.seen.append(args[0].detach().clone()))

    def means_and_vars(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Average over batches of each batch's per-channel mean and unbiased variance (PyTorch's cumulative rule)."""
        means = torch.stack([x.mean((0, 2, 3)) for x in self.seen]).mean(0)
        variances = torch.stack([x.var((0, 2, 3), unbiased=True) for x in self.seen]).mean(0)
        return means, variances


def _stale(bn: nn.BatchNorm2d) -> None:
    with torch.no_grad():
        bn.running_mean.fill_(100.0)
        bn.running_var.fill_(1e-6)


def test_recompute_sets_batch_averages_and_restores_mode() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4, momentum=0.03),
        nn.ReLU(),
        nn.Conv2d(4, 2, 1),
        nn.BatchNorm2d(2, momentum=0.03),
    ).eval()
    for bn in (net[1], net[4]):
        _stale(bn)
    weights = {k: v.clone() for k, v in net.state_dict().items() if "running" not in k and "num_batches" not in k}
    hooks = [_Inputs(net[1]), _Inputs(net[4])]
    batches = [torch.randn(5, 3, 8, 8) * (i + 1) + i for i in range(3)]

    assert recompute_bn_stats(net, batches) == 3

    for bn, hook in zip((net[1], net[4]), hooks, strict=True):
        mean, var = hook.means_and_vars()
        torch.testing.assert_close(bn.running_mean, mean, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(bn.running_var, var, rtol=1e-5, atol=1e-5)
        assert not bn.training and bn.momentum == 0.03
    for k, v in weights.items():
        assert torch.equal(net.state_dict()[k], v), f"{k} changed"
    assert recompute_bn_stats(net, []) == 0  # no batches: statistics kept as they are
    torch.testing.assert_close(net[1].running_mean, hooks[0].means_and_vars()[0], rtol=1e-5, atol=1e-5)


def test_trainer_ema_gets_statistics_of_training_images(smoke_cfg: Config) -> None:
    """PreciseBN on a real Ultralytics trainer: the EMA model's first BatchNorm ends with its inputs' averages."""
    smoke_cfg.model.width, smoke_cfg.train.precise_bn = 0.125, 12
    kept: dict[str, Any] = {}
    run_train(smoke_cfg, "base", callbacks=[("on_train_end", lambda t: kept.setdefault("trainer", t))])
    trainer = kept["trainer"]
    stage = StudyPaths.of(smoke_cfg).train("base").dir
    assert json.loads((stage / "params.json").read_text())["key"]["stage"]["train"]["precise_bn"] == 12

    model = trainer.ema.ema
    first = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    _stale(first)
    hook = _Inputs(first)
    PreciseBN(images=12)(trainer)
    hook.handle.remove()

    assert [x.shape[0] for x in hook.seen] == [8, 4]  # 12 images in batches of train.batch (8)
    mean, var = hook.means_and_vars()
    torch.testing.assert_close(first.running_mean, mean, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(first.running_var, var, rtol=1e-4, atol=1e-4)
    assert not first.training
