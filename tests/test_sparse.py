"""Sparse training: the L1 term's strength under a GradScaler, sparsity that really happens, the 03 notebook."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import torch
from test_train import load_in_fresh_process, run_notebook
from torch import nn
from yoloslim.config import Config
from yoloslim.gammas import fraction_under, gamma_values, penalized_bns
from yoloslim.modelbuild import build_model
from yoloslim.paths import StudyPaths
from yoloslim.sparse import SparseTrainer, Sparsity, add_sparsity_callbacks
from yoloslim.train import TrainJob, run_training, train_args

SL = 0.01


def _step_gammas(scale: float | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One SparseTrainer.optimizer_step on a tiny conv+BN net (SGD lr 1): gamma before, loss gradient, gamma after."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 2, 1))
    with torch.no_grad():
        net[1].weight.copy_(torch.linspace(-1, 1, 8))
    trainer = SparseTrainer.__new__(SparseTrainer)  # only what optimizer_step uses
    trainer.model, trainer.device, trainer.ema, trainer.epoch, trainer.epochs = net, torch.device("cpu"), None, 0, 1
    trainer.optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=scale or 1.0, enabled=scale is not None)
    trainer.sparsity = Sparsity(SL, exclude_head=False)
    loss = net(torch.randn(2, 3, 8, 8)).square().mean() * 1e-3
    trainer.scaler.scale(loss).backward()
    before = net[1].weight.detach().clone()
    grad = net[1].weight.grad.detach().clone() / (scale or 1.0)
    trainer.optimizer_step()
    return before, grad, net[1].weight.detach().clone()


def test_l1_term_has_the_same_strength_with_and_without_grad_scaler() -> None:
    before, grad, plain = _step_gammas(None)
    _, grad_scaled, scaled = _step_gammas(2.0**14)
    assert torch.allclose(grad, grad_scaled, atol=1e-7)
    expected = before - (grad + SL * torch.sign(before))  # SGD, lr 1, no clipping at this size
    assert torch.allclose(plain, expected, atol=1e-6)
    assert torch.allclose(scaled, expected, atol=1e-6)  # would be off by ~SL if the term were unscaled too
    assert (before - plain).abs().min() > 0.5 * SL


def test_sl_schedules_decay_from_sl() -> None:
    for schedule in ("constant", "linear", "cosine"):
        assert Sparsity(0.2, schedule).sl_at(0, 10) == 0.2
    assert Sparsity(0.2, "linear").sl_at(5, 10) == 0.1
    assert math.isclose(Sparsity(0.2, "cosine").sl_at(5, 10), 0.1)
    assert Sparsity(0.2, "constant").sl_at(9, 10) == 0.2 and Sparsity(0.2, "linear").sl_at(9, 10) < 0.03


def test_exclude_head_leaves_detect_bns_unpenalized(smoke_cfg: Config) -> None:
    model = build_model(smoke_cfg, nc=3)
    names = [n for n, _ in penalized_bns(model, exclude_head=True)]
    assert names and not any(n.startswith("model.24.") for n in names)
    every = [n for n, _ in penalized_bns(model)]
    assert len(every) == sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) > len(names)


def _sparse_train(cfg: Config, sl: float, folder: Path) -> tuple[Path, torch.Tensor]:
    """4 epochs of SparseTrainer on the tiny model at imgsz 32, one optimizer step per batch; final |gamma|."""
    sparsity = Sparsity(sl, targets={"t": 0.05}, out=folder)
    job = TrainJob(
        stage=folder,
        name="s",
        trainer=SparseTrainer,
        build=lambda: build_model(cfg, nc=3),
        args=train_args(cfg, imgsz=32, epochs=4, lr0=0.3, nbs=8, warmup_epochs=0, momentum=0.9, val=False),
        keep="last",
    )
    add_sparsity_callbacks(job.callbacks, sparsity)
    stage = run_training(job)
    model = torch.load(stage / "weights.pt", weights_only=False)["model"]
    return stage, gamma_values(model)


def test_sparsity_happens(smoke_cfg: Config, tmp_path: Path) -> None:
    smoke_cfg.model.width = 0.125
    _, dense = _sparse_train(smoke_cfg, 0.0, tmp_path / "sl0")
    stage, sparse = _sparse_train(smoke_cfg, 0.15, tmp_path / "sl")
    assert dense.numel() == sparse.numel() > 1000
    assert fraction_under(dense, 0.05) < 0.02  # without L1 the gammas stay near 1 in 24 steps
    assert fraction_under(sparse, 0.05) > 0.5  # with L1 most fall under a small threshold
    assert sparse.mean() < 0.25 * dense.mean()
    log = pd.read_csv(stage / "gamma_log.csv")
    assert log["epoch"].tolist() == [0, 1, 2, 3, 4]
    assert list(log.columns) == ["epoch", "sl", "sl_mloss", "gamma_mean", "frac_under_t"]
    assert log["gamma_mean"].iloc[0] > 0.99 and log["gamma_mean"].iloc[-1] < 0.25
    assert log["frac_under_t"].iloc[0] == 0 and log["frac_under_t"].iloc[-1] > 0.5
    assert math.isclose(log["sl_mloss"].iloc[-1], 0.15 * log["gamma_mean"].iloc[-1], rel_tol=1e-6)
    hist = pd.read_csv(stage / "gamma_hist.csv")
    assert (hist.groupby("epoch")["count"].sum() == sparse.numel()).all()


def test_notebook_03_sparse_next_to_base(smoke_cfg: Config, tmp_path: Path) -> None:
    from yoloslim.train import run_train

    run_train(smoke_cfg, "base")
    executed = run_notebook("03_sparse.ipynb", tmp_path)
    stage = StudyPaths.of(smoke_cfg).sparse
    metrics = json.loads((stage / "metrics.json").read_text())
    assert metrics["sl"] == smoke_cfg.sparse.sl and metrics["sl_mloss"] > 0
    log = pd.read_csv(stage / "gamma_log.csv")
    assert [c for c in log.columns if c.startswith("frac_under_")] == [
        f"frac_under_{t}" for t in smoke_cfg.prune.thresholds
    ]
    for name in ("sl_loss", "gamma_epochs", "map"):
        assert (stage / "figures" / f"{name}.png").stat().st_size > 5000
    assert "box_loss" not in executed.read_text()
    [loaded] = load_in_fresh_process(stage / "weights.pt")
    assert loaded["task"] == "detect"
