"""Pruning to a FLOPs budget (`prune.targets: {name: {flops: 0.3x}}`): the largest structure within it, its random
control with the same counts, and the budget's checks and its miss."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import write_params
from helpers.models import IMGSZ, conv_gflops, sparse_model, write_sparse_checkpoint
from yoloslim.cli import main
from yoloslim.config import ConfigError, load_config
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.stats import count_gflops
from yoloslim.paths import StudyPaths
from yoloslim.prune.flops import flops_threshold
from yoloslim.prune.search import candidate_thresholds, plan_importances
from yoloslim.prune.slimming import prune_model
from yoloslim.prune.stage import run_prune
from yoloslim.stages import stage_key
from yoloslim.study import study_models
from yoloslim.text import say


def test_flops_target_must_be_a_budget(out_root: Path) -> None:
    for targets, message in [
        ({"tiny": {"flops": "a tenth"}}, r"prune.targets.tiny.flops' must be a positive budget"),
        ({"tiny": {"flops": "1.5x"}}, r"prune.targets.tiny.flops' must be a positive budget \(\"0.1x\" .*up to 1x"),
        ({"tiny": {"flops": 0}}, r"prune.targets.tiny.flops"),
        ({"tiny": {"flops": "0.1x", "latency": "0.5x"}}, r"prune.targets.tiny' must be a mapping with one key"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(write_params(out_root, {"prune": {"targets": targets}}))
    cfg = load_config(write_params(out_root, {"prune": {"targets": {"tiny": {"flops": "0.5G"}}, "random": ["tiny"]}}))
    assert cfg.flops_targets() == {"tiny": "0.5G"} and cfg.latency_targets() == {}
    with pytest.raises(ConfigError, match=r"prune.random' must be names of threshold, fraction or FLOPs targets"):
        load_config(write_params(out_root, {"prune": {"targets": {"fast": {"latency": "0.5x"}}, "random": ["fast"]}}))


def test_a_flops_budget_keys_its_prune_job_apart_from_a_latency_budget(out_root: Path) -> None:
    flops = load_config(write_params(out_root, {"prune": {"targets": {"tiny": {"flops": "0.5x"}}}}))
    latency = load_config(write_params(out_root, {"prune": {"targets": {"tiny": {"latency": "0.5x"}}}}))
    assert stage_key(flops, "prune", "tiny") != stage_key(latency, "prune", "tiny")


def test_prune_stage_keeps_the_largest_structure_within_a_flops_budget(smoke_cfg, out_root: Path) -> None:
    """A tiny yolov5n with uniform gammas pruned to 30 % of its FLOPs: the stage keeps the lowest threshold within the
    budget (the next lower candidate is over it), records it, labels the model, and its random control keeps the
    same count in every layer."""
    prune = {"targets": {"tiny": {"flops": "0.3x"}}, "random": ["tiny"]}
    cfg = load_config(write_params(out_root, {"name": smoke_cfg.name, "prune": prune}))
    write_sparse_checkpoint(cfg)
    out = run_prune(cfg, "tiny")
    metrics = json.loads((out / "metrics.json").read_text())
    budget = metrics["flops_budget"]
    assert metrics["policy"] == "flops" and budget["met"] and budget["message"] is None
    assert budget["gflops_budget"] == pytest.approx(0.3 * metrics["gflops_before"])
    assert metrics["threshold"] == budget["threshold"] and metrics["gflops_after"] == pytest.approx(budget["gflops"])
    written = torch.load(out / "weights.pt", weights_only=False)["model"].float()
    assert count_gflops(written, cfg.train.imgsz) <= budget["gflops_budget"]
    sparse = torch.load(StudyPaths.of(cfg).sparse.weights, weights_only=False)["model"].float()
    # counted independently of THOP (convolutions only): the written model is within 30 % too
    assert conv_gflops(written, cfg.train.imgsz) <= 0.3 * conv_gflops(sparse, cfg.train.imgsz)
    candidates = candidate_thresholds(plan_importances(sparse))
    larger = max(t for t in candidates if t < budget["threshold"])  # the next larger structure
    over = prune_model(sparse, threshold=larger, fold_beta=False, imgsz=cfg.train.imgsz)
    assert over.gflops_after > budget["gflops_budget"]
    assert {m.id: m.label for m in study_models(cfg)}["tiny"] == "flops_0.3x(tiny)"
    control = run_prune(cfg, "tiny-random")
    control_metrics = json.loads((control / "metrics.json").read_text())
    assert control_metrics["threshold"] == budget["threshold"] and control_metrics["selection"] == "random"
    kept, control_kept = (pd.read_csv(folder / "layers.csv")["kept"] for folder in (out, control))
    assert kept.tolist() == control_kept.tolist()


def test_a_flops_budget_out_of_reach_keeps_the_smallest_structure_and_says_so() -> None:
    model = sparse_model("yolov5n.yaml")
    base = count_gflops(model, IMGSZ)
    candidates = candidate_thresholds(plan_importances(model))
    choice = flops_threshold(
        candidates,
        lambda t: prune_model(model, threshold=t, fold_beta=False, imgsz=IMGSZ).gflops_after,
        budget="0.001G",
        base_gflops=base,
    )
    assert not choice.met and choice.threshold == max(candidates) and choice.gflops > 0.001
    said = say("en", choice.summary()["message"])
    assert "0.001G" in said and f"{choice.gflops:.3g} GFLOPs" in said
    assert "FLOPs" in say("zh", choice.summary()["message"])
    everything = flops_threshold(candidates, lambda t: prune_model(model, threshold=t, imgsz=IMGSZ).gflops_after,
                                 budget="1x", base_gflops=base)  # fmt: skip
    assert everything.met and everything.threshold == 0.0 and everything.counted == 2


def test_cli_prunes_one_checkpoint_to_a_flops_budget(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = sparse_model("yolov5n.yaml")
    weights = save_checkpoint(model, tmp_path / "sparse.pt")
    out = tmp_path / "out"
    assert main(["prune", str(weights), "--flops", "0.3x", "--imgsz", str(IMGSZ), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "FLOPs budget 0.3x" in printed and "within it" in printed and "over it" not in printed
    written = torch.load(out / "weights.pt", weights_only=False)["model"].float()
    assert count_gflops(written, IMGSZ) <= 0.3 * count_gflops(model, IMGSZ)
    with pytest.raises(SystemExit):  # argparse: a bad budget, or both a threshold and a budget
        main(["prune", str(weights), "--flops", "3x", "--out", str(out)])
    assert "'3x': expected a factor up to 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prune", str(weights), "--flops", "0.3x", "--threshold", "0.1", "--out", str(out)])
