"""Torch-Pruning's pruners as alternatives at the same GFLOPs: matching, alignment, and the prune stage."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yoloslim.prune.tp
from conftest import write_params
from helpers.models import conv_gflops, uniform_gamma_model, write_sparse_checkpoint
from torch import nn
from yoloslim.config import load_config
from yoloslim.models.stats import load_model
from yoloslim.paths import StudyPaths
from yoloslim.prune.groups import excluded_layers
from yoloslim.prune.slimming import prune_model
from yoloslim.prune.stage import run_prune
from yoloslim.prune.tp import FLOPS_TOLERANCE, match_flops, prune_tp_matched
from yoloslim.study import finetune_jobs, study_models


def test_flops_matching_scans_a_non_monotonic_curve() -> None:
    """GFLOPs that fall, then rise again at high ratios (groups skipped): the closest structure is found."""
    curve = {r / 100: abs(r - 60) / 100 + 0.1 for r in range(0, 100)}  # least at ratio 0.6: 0.1 GFLOPs

    def gflops(model: float) -> float:
        return curve[round(model, 2)] if round(model, 2) in curve else abs(model - 0.6) + 0.1

    model, ratio, flops = match_flops(lambda r: r, gflops, target=0.3)
    assert abs(flops - 0.3) <= FLOPS_TOLERANCE * 0.3 and ratio < 0.6  # on the falling side
    _, _, floor = match_flops(lambda r: r, gflops, target=0.05)  # under the smallest structure
    assert floor == 0.1


@pytest.fixture()
def coarse_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer ratios scanned before the bisection refines: each Torch-Pruning run costs about a second."""
    monkeypatch.setattr(yoloslim.prune.tp, "RATIOS", [0.2, 0.4, 0.6, 0.8])
    monkeypatch.setattr(yoloslim.prune.tp, "RATIO_STEP", 0.2)


def test_tp_structure_matches_the_gamma_models_gflops_and_stays_aligned(coarse_scan: None) -> None:
    model = uniform_gamma_model()
    gamma_pruned = prune_model(model, threshold=0.05, round_to=8, imgsz=64)
    target = gamma_pruned.gflops_after
    pruned, ratio, flops = prune_tp_matched(model, "tp_bnscale", target_gflops=target, round_to=8, imgsz=64)
    assert 0 < ratio < 1 and abs(flops - target) <= FLOPS_TOLERANCE * target
    # the convolutions' FLOPs counted by hand from each model's conv shapes (not by THOP, which matched them):
    # the two structures match, and both are well under the unpruned model
    by_hand, target_by_hand = conv_gflops(pruned, 64), conv_gflops(gamma_pruned.model, 64)
    assert by_hand == pytest.approx(flops, rel=0.05) and target_by_hand == pytest.approx(target, rel=0.05)
    assert by_hand == pytest.approx(target_by_hand, rel=FLOPS_TOLERANCE + 0.02)
    assert by_hand < 0.9 * conv_gflops(model, 64)
    outputs = {id(m) for m in excluded_layers(pruned)}
    widths = [m.out_channels for m in pruned.modules() if isinstance(m, nn.Conv2d) and id(m) not in outputs]
    assert all(w % 8 == 0 for w in widths)
    pruned(torch.zeros(1, 3, 64, 64))  # runs


def test_prune_stage_writes_a_tp_alternative(smoke_cfg, out_root: Path, coarse_scan: None) -> None:
    cfg = load_config(write_params(out_root, {"name": smoke_cfg.name, "prune": {"compare": ["small"]}}))
    assert {"small-tp_magnitude", "small-tp_bnscale"} <= set(finetune_jobs(cfg))
    labels = {m.id: (m.label, m.kind) for m in study_models(cfg)}
    assert labels["small-tp_bnscale"] == ("tp-bnscale(small)", "alternative")
    write_sparse_checkpoint(cfg)
    out = run_prune(cfg, "small-tp_magnitude")
    metrics = json.loads((out / "metrics.json").read_text())
    match = metrics["cost_match"]
    assert metrics["policy"] == "tp_magnitude" and metrics["threshold"] is None
    assert abs(match["gflops"] - match["target_gflops"]) <= FLOPS_TOLERANCE * match["target_gflops"]
    assert match["matched"] and match["message"] is None
    assert metrics["gflops_after"] == match["gflops"] and metrics["onnx_check"]["aligned"]
    saved = load_model(out / "weights.pt").model  # the saved structure is the matched one (counted by hand)
    assert conv_gflops(saved, cfg.train.imgsz) == pytest.approx(match["gflops"], rel=0.05)
    layers = pd.read_csv(out / "layers.csv")
    assert (layers["kept"] < layers["original"]).any() and layers["note"].str.contains("Torch-Pruning").all()
    assert (StudyPaths.of(cfg).prune("small-tp_magnitude").figure("sparsity")).is_file()
