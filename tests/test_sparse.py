"""Sparse training: the L1 term's strength under a GradScaler, sparsity that really happens, the 03 notebook."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn
from ultralytics.nn.tasks import DetectionModel
from yoloslim.config import Config
from yoloslim.models.attention import value_channels
from yoloslim.models.build import build_model
from yoloslim.models.gammas import fraction_under, gamma_values, penalized_bns
from yoloslim.paths import StudyPaths
from yoloslim.shared import fractions_under
from yoloslim.train.budget import replay_budget
from yoloslim.train.runner import TrainJob, run_training, train_args
from yoloslim.train.sparse import SparseTrainer, Sparsity, add_sparsity_callbacks

SL = 0.01


def _trainer(
    net: nn.Module, l1: str, sl: float, optimizer: torch.optim.Optimizer, scale: float | None = None
) -> SparseTrainer:
    """A SparseTrainer with only what its optimizer step uses, on a tiny net (optional GradScaler on the CPU)."""
    trainer = SparseTrainer.__new__(SparseTrainer)
    trainer.model, trainer.device, trainer.ema, trainer.epoch, trainer.epochs = net, torch.device("cpu"), None, 0, 1
    trainer.optimizer = optimizer
    trainer.add_l1_hooks(optimizer)
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=scale or 1.0, enabled=scale is not None)
    trainer.sparsity = Sparsity(sl, l1=l1)
    return trainer


def _sgd_trainer(
    net: nn.Module, l1: str, sl: float, lr: float, momentum: float = 0.0, scale: float | None = None
) -> SparseTrainer:
    return _trainer(net, l1, sl, torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum), scale)


def _tiny_net() -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 2, 1))
    with torch.no_grad():
        net[1].weight.copy_(torch.linspace(-1, 1, 8))
    return net


def _loss(net: nn.Module, batch: int, loss_scale: float) -> torch.Tensor:
    torch.manual_seed(100 + batch)
    return net(torch.randn(2, 3, 8, 8)).square().mean() * loss_scale


def _train(trainer: SparseTrainer, steps: int, loss_scale: float) -> float:
    """`steps` Ultralytics optimizer steps on the tiny net (backward through the scaler, as Ultralytics does);
    returns the largest gradient norm of the loss seen before a step."""
    norm = 0.0
    for i in range(steps):
        trainer.scaler.scale(_loss(trainer.model, i, loss_scale)).backward()
        grads = [p.grad / trainer.scaler.get_scale() for p in trainer.model.parameters()]
        norm = max(norm, float(torch.nn.utils.get_total_norm(grads)))
        trainer.optimizer_step()
    return norm


def _slimming_reference(momentum: float, steps: int, loss_scale: float) -> torch.Tensor:
    """Network slimming by its definition: plain SGD (lr 0.1) on `loss + SL * sum|gamma|`, the L1 gradient
    from autograd; the final gammas."""
    net = _tiny_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=momentum)
    for i in range(steps):
        optimizer.zero_grad()
        (_loss(net, i, loss_scale) + SL * net[1].weight.abs().sum()).backward()
        optimizer.step()
    return net[1].weight.detach()


@pytest.mark.parametrize("scale", [None, 2.0**14])
@pytest.mark.parametrize("l1", ["after_clip", "before_clip"])
def test_l1_term_is_network_slimmings_gradient_where_the_clip_does_not_bind(l1: str, scale: float | None) -> None:
    trainer = _sgd_trainer(_tiny_net(), l1, SL, lr=0.1, momentum=0.9, scale=scale)
    norm = _train(trainer, steps=5, loss_scale=1e-2)
    assert 0 < norm < 10  # the clip (norm 10) leaves the gradient alone
    expected = _slimming_reference(momentum=0.9, steps=5, loss_scale=1e-2)
    assert torch.allclose(trainer.model[1].weight.detach(), expected, atol=1e-6)  # through momentum, any scale
    assert not torch.allclose(expected, _slimming_reference(0.9, 5, 0.0), atol=1e-3)  # the loss did take part
    assert trainer.sparsity.steps == 5


def _l1_shift(l1: str, loss_scale: float) -> tuple[torch.Tensor, float]:
    """How far the L1 term moved each gamma in one step (SGD lr 0.1): the run with sl=SL minus the same run with
    sl=0; and the gradient norm of the loss."""
    ends, norm = [], 0.0
    for sl in (SL, 0.0):
        trainer = _sgd_trainer(_tiny_net(), l1, sl, lr=0.1)
        norm = _train(trainer, steps=1, loss_scale=loss_scale)
        ends.append(trainer.model[1].weight.detach().clone())
    return ends[1] - ends[0], norm


def test_after_clip_moves_gammas_by_lr_sl_where_clipping_binds_and_before_clip_does_not() -> None:
    after, norm = _l1_shift("after_clip", loss_scale=1e6)
    assert norm > 1000 * 10  # the loss gradient is far above the clip norm 10, as in Ultralytics' summed loss
    signs = torch.sign(torch.linspace(-1, 1, 8))
    assert torch.allclose(after, 0.1 * SL * signs, rtol=1e-3, atol=1e-7)  # exactly lr * sl * sign(gamma)
    before, _ = _l1_shift("before_clip", loss_scale=1e6)
    assert before.abs().max() < 0.01 * 0.1 * SL  # clipped with the whole gradient: diluted over 100-fold


def test_proximal_step_soft_thresholds_to_exact_zeros() -> None:
    net = _tiny_net()
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([-0.5, -0.0005, 0.0, 0.0003, 0.0009, 0.002, 0.3, 1.0]))
    trainer = _sgd_trainer(net, "proximal", sl=0.01, lr=0.1)  # threshold lr * sl = 0.001
    net(torch.randn(2, 3, 8, 8)).sum().mul(0).backward()  # no loss gradient: only the proximal step acts
    trainer.optimizer_step()
    expected = torch.tensor([-0.499, 0.0, 0.0, 0.0, 0.0, 0.001, 0.299, 0.999])
    assert torch.allclose(net[1].weight.detach(), expected, atol=1e-6)
    assert int((net[1].weight == 0).sum()) == 4  # exact zeros, not merely small


def test_the_budget_is_how_far_l1_alone_moved_a_gamma() -> None:
    net = _tiny_net()
    trainer = _sgd_trainer(net, "proximal", sl=SL, lr=0.1)
    for lr in (0.1, 0.3, 0.05):  # the learning rate changes between steps, as under warm-up and decay
        trainer.optimizer.param_groups[0]["lr"] = lr
        _train(trainer, steps=1, loss_scale=0.0)
    moved = torch.linspace(-1, 1, 8).abs() - net[1].weight.detach().abs()
    assert trainer.sparsity.steps == 3
    assert torch.allclose(moved, torch.full((8,), trainer.sparsity.budget)) and moved[0] > 0


def _non_finite_step(trainer: SparseTrainer) -> None:
    """An optimizer step whose scaled gradient holds an inf (an fp16 overflow): AMP skips it."""
    trainer.scaler.scale(_loss(trainer.model, 0, 1e-2)).backward()
    trainer.model[0].weight.grad[0, 0, 0, 0] = float("inf")
    trainer.optimizer_step()


@pytest.mark.parametrize("l1", ["after_clip", "before_clip", "proximal"])
@pytest.mark.parametrize("fused", [False, True])
def test_a_step_that_amp_skips_adds_and_counts_no_l1(l1: str, fused: bool) -> None:
    # fused Adam: the scaler calls its step anyway and lets the kernel skip the update (`found_inf`)
    net = _tiny_net()
    params = net.parameters()
    optimizer = torch.optim.Adam(params, lr=0.1, fused=True) if fused else torch.optim.SGD(params, lr=0.1)
    trainer = _trainer(net, l1, sl=SL, optimizer=optimizer, scale=2.0**14)
    before = net[1].weight.detach().clone()
    _non_finite_step(trainer)
    assert trainer.scaler.get_scale() == 2.0**13  # the scaler did see the overflow and back off
    assert torch.equal(net[1].weight.detach(), before) and trainer.sparsity.steps == 0
    _train(trainer, steps=1, loss_scale=1e-2)  # the next, finite step applies and counts
    assert not torch.equal(net[1].weight.detach(), before) and trainer.sparsity.steps == 1


def test_heads_mode_penalizes_attention_blocks_but_only_the_value_channels_of_qkv() -> None:
    model = DetectionModel("yolo11n.yaml", nc=3, verbose=False)
    trainer = _sgd_trainer(model, "after_clip", sl=SL, lr=0.1)
    trainer.sparsity.attention = "heads"
    attn = model.model[10].m[0].attn  # C2PSA's attention: 2 heads of 64 channels
    before = {name: bn.weight.detach().clone() for name, bn in model.named_modules() if isinstance(bn, nn.BatchNorm2d)}
    trainer.optimizer_step()  # no loss gradient: only the L1 term moves gammas, by lr * sl
    moved = {name: before[name] - bn.weight.detach() for name, bn in model.named_modules() if name in before}
    values = value_channels(attn)
    qkv = moved["model.10.m.0.attn.qkv.bn"]
    assert torch.allclose(qkv[values], torch.full((len(values),), 0.1 * SL)) and len(values) == 128
    assert qkv.abs().sum() == qkv[values].abs().sum()  # queries and keys untouched
    assert not moved["model.10.m.0.attn.pe.bn"].any() and moved["model.10.m.0.attn.proj.bn"].all()
    assert moved["model.10.cv1.bn"].all() and moved["model.2.cv1.bn"].all()  # and the rest of the model as usual
    trainer.sparsity.attention, trainer._penalized = "intact", None  # the default: the attention block untouched
    assert all(not name.startswith("model.10.") or name == "model.10.cv2.bn" for name, _, _ in penalized_bns(model))


def test_l1_stops_for_good_at_the_sparsity_target() -> None:
    net = _tiny_net()
    with torch.no_grad():
        net[1].weight.copy_(torch.linspace(0.55, 1.25, 8))  # 0.1 apart
    trainer = _sgd_trainer(net, "proximal", sl=1.0, lr=0.1)  # each step lowers every |gamma| by 0.1
    trainer.sparsity.stop_fraction, trainer.sparsity.stop_under = 0.5, 0.5
    for _ in range(6):
        net(torch.randn(2, 3, 8, 8)).sum().mul(0).backward()
        trainer.optimizer_step()
    # step 1: 1 of 8 under 0.5; step 4: 4 of 8, the target: no L1 from step 5 on
    assert trainer.sparsity.stopped_at == 4 and trainer.sparsity.sl_now(0, 1) == 0.0
    assert torch.allclose(net[1].weight.detach(), torch.linspace(0.15, 0.85, 8), atol=1e-6)
    assert math.isclose(trainer.sparsity.budget, 4 * 0.1 * 1.0)


def test_sl_schedules_decay_from_sl_and_recovery_epochs_are_unpenalized() -> None:
    for schedule in ("constant", "linear", "cosine"):
        assert Sparsity(0.2, schedule).sl_at(0, 10) == 0.2
    assert Sparsity(0.2, "linear").sl_at(5, 10) == 0.1
    assert math.isclose(Sparsity(0.2, "cosine").sl_at(5, 10), 0.1)
    assert Sparsity(0.2, "constant").sl_at(9, 10) == 0.2 and Sparsity(0.2, "linear").sl_at(9, 10) < 0.03
    recover = Sparsity(0.2, recover_epochs=3)
    assert [recover.sl_at(e, 10) for e in range(10)] == [0.2] * 7 + [0.0] * 3
    assert Sparsity(0.2, "linear", recover_epochs=5).sl_at(4, 10) == pytest.approx(0.04)


def test_exclude_head_leaves_detect_bns_unpenalized(smoke_cfg: Config) -> None:
    model = build_model(smoke_cfg, nc=3)
    names = [n for n, _, _ in penalized_bns(model, exclude_head=True)]
    assert names and not any(n.startswith("model.24.") for n in names)
    every = [n for n, _, _ in penalized_bns(model)]
    assert len(every) == sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) > len(names)


def _sparse_train(
    cfg: Config, sl: float, folder: Path, warmup_epochs: float = 0, nbs: int = 8
) -> tuple[Path, torch.Tensor]:
    """4 epochs of SparseTrainer on the tiny model at imgsz 32 (batch 8, so one optimizer step per batch at
    nbs 8); final |gamma|."""
    sparsity = Sparsity(sl, out=folder)
    job = TrainJob(
        stage=folder,
        name="s",
        trainer=SparseTrainer,
        build=lambda: build_model(cfg, nc=3),
        args=train_args(
            cfg, imgsz=32, epochs=4, lr0=0.3, nbs=nbs, warmup_epochs=warmup_epochs, momentum=0.9, val=False
        ),
        keep="last",
    )
    add_sparsity_callbacks(job.callbacks, sparsity)
    stage = run_training(job)
    model = torch.load(stage / "weights.pt", weights_only=False)["model"]
    return stage, gamma_values(model)


def test_sparsity_happens_and_the_logged_budget_is_the_planned_one(smoke_cfg: Config, tmp_path: Path) -> None:
    smoke_cfg.model.width = 0.125
    dense_stage, dense = _sparse_train(smoke_cfg, 1e-4, tmp_path / "sl0", warmup_epochs=1.5, nbs=16)
    stage, sparse = _sparse_train(smoke_cfg, 0.15, tmp_path / "sl")
    assert dense.numel() == sparse.numel() > 1000
    assert fraction_under(dense, 0.05) < 0.02  # without L1 the gammas stay near 1 in 24 steps
    assert fraction_under(sparse, 0.05) > 0.5  # with L1 most fall under a small threshold
    assert sparse.mean() < 0.25 * dense.mean()
    log = pd.read_csv(stage / "gamma_log.csv")
    assert log["epoch"].tolist() == [0, 1, 2, 3, 4]
    assert list(log.columns) == [
        "epoch", "steps", "sl", "l1_budget", "l1_stopped_at", "sl_mloss", "gamma_mean"
    ]  # fmt: skip
    assert log["gamma_mean"].iloc[0] > 0.99 and log["gamma_mean"].iloc[-1] < 0.25
    under = fractions_under(stage / "gammas.npz", {"t": 0.05})["frac_under_t"]  # every |gamma| kept per epoch
    assert under.index.tolist() == [0, 1, 2, 3, 4] and under.iloc[0] == 0
    assert under.iloc[-1] == pytest.approx(fraction_under(sparse, 0.05))
    mean = float(sparse.mean())  # the saved model's gammas (fp16: equal to about 1e-3)
    assert log["gamma_mean"].iloc[-1] == pytest.approx(mean, rel=1e-3)
    assert log["sl_mloss"].iloc[-1] == pytest.approx(0.15 * mean, rel=1e-3)  # the L1 loss they give
    hist = pd.read_csv(stage / "gamma_hist.csv")
    assert (hist.groupby("epoch")["count"].sum() == sparse.numel()).all()
    # The bookkeeping: what the trainer logged is what Ultralytics' schedule gives, replayed from the settings
    # (warm-up of lr and accumulation, linear decay; batch 8 at nbs 8 and 16: 1 and 2 batches a step).
    images = len(StudyPaths.of(smoke_cfg).data.dir.joinpath("train.txt").read_text().split())
    for folder, sl, warmup, nbs in ((stage, 0.15, 0, 8), (dense_stage, 1e-4, 1.5, 16)):
        plan = replay_budget(sl_at=[sl] * 4, lr0=0.3, train_images=images, batch=8, nbs=nbs, warmup_epochs=warmup)
        last = pd.read_csv(folder / "gamma_log.csv").iloc[-1]
        assert int(last["steps"]) == plan.steps and math.isclose(last["l1_budget"], plan.budget, rel_tol=1e-6)
    assert plan.accumulate == 2 and plan.steps < 4 * plan.batches  # the accumulation really counted
