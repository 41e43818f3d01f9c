"""`yoloslim bench` on the smoke config: no study weights, so base and pruned models are built here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.models import conv_gflops
from yoloslim.bench import COLUMNS, GAMMA_HIGH, bench_weights, randomize_gammas
from yoloslim.cli import main
from yoloslim.config import ROOT, Config, load_config
from yoloslim.models.build import build_model
from yoloslim.models.gammas import gamma_values
from yoloslim.models.stats import load_model


def test_randomize_gammas_is_seeded_and_bounded() -> None:
    a = gamma_values(randomize_gammas(build_model(Config(), nc=3)))
    b = gamma_values(randomize_gammas(build_model(Config(), nc=3)))
    assert a.equal(b)
    assert 0 <= float(a.min()) and float(a.max()) < GAMMA_HIGH


def test_bench_cli_writes_table(out_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = ROOT / "params" / "smoke.yaml"
    assert main(["bench", "--config", str(params)]) == 0
    printed = capsys.readouterr().out
    assert "pruning a yolov5s" in printed
    table = pd.read_csv(out_root / "runs" / "bench" / "smoke.csv")
    assert list(table.columns) == COLUMNS
    assert list(table["model"]) == ["base", "large", "small"]
    assert set(table["source"]) == {"synthetic"}
    # the FLOPs against the convolutions counted by hand on the same models (built again: seeded)
    cfg = load_config(params)
    weights, _ = bench_weights(cfg, tmp_path)
    by_hand = pd.Series({name: conv_gflops(load_model(w).model, cfg.train.imgsz) for name, w in weights.items()})
    assert list(table["gflops"]) == pytest.approx(list(by_hand), rel=0.05)
    flops_ratio = (by_hand / by_hand["base"])[table["model"]].to_numpy()
    assert list(table["flops_ratio"]) == pytest.approx(list(flops_ratio), rel=0.04)  # THOP also counts BN
    assert (flops_ratio[1:] < 1).all() and table["gflops"].is_monotonic_decreasing  # random gammas: all prune
    assert (table["torch_cpu_ms"] > 0).all() and (table["torch_cpu_ms"] <= table["torch_cpu_p90_ms"]).all()
    # ONNX Runtime interleaved: each ratio comes with its interval, and its ratio to the FLOPs ratio is printed
    ratio = table["onnx_ratio"]
    assert (table["onnx_ratio_lo"] <= ratio).all() and (ratio <= table["onnx_ratio_hi"]).all()
    per_flops = table["onnx_ratio_per_flops_ratio"]  # latency per FLOPs, not FLOPs per latency
    assert list(per_flops * flops_ratio) == pytest.approx(list(ratio), rel=0.04)
    assert "onnx_ratio_per_flops_ratio" in printed
    # where the base model's time goes: ONNX Runtime's profile by operator type, convolutions among them
    summary = json.loads((out_root / "runs" / "bench" / "smoke.json").read_text())
    operators = summary["base_operators_ms"]
    assert operators["Conv"] > 0 and "between operators" in operators
    assert f"Conv {operators['Conv']:.3f} (" in printed and "ONNX Runtime time goes" in printed
