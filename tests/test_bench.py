"""`yoloslim bench` on the smoke config: no study weights, so base and pruned models are built here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from helpers.models import conv_gflops
from yoloslim.bench import (
    ALIGNMENTS,
    COLUMNS,
    ENGINE_COLUMNS,
    GAMMA_HIGH,
    aligned_weights,
    alignment_findings,
    bench_weights,
    randomize_gammas,
)
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
    """The smoke config's engines (PyTorch and ONNX Runtime on the CPU), every model interleaved on each, the FLOPs
    counted right, and the first target pruned again with each alignment of ALIGNMENTS."""
    params = ROOT / "params" / "smoke.yaml"
    assert main(["bench", "--config", str(params)]) == 0
    printed = capsys.readouterr().out
    assert "pruning a yolov5s" in printed
    table = pd.read_csv(out_root / "runs" / "bench" / "smoke.csv")
    engines = ["torch_cpu", "onnx_cpu"]  # torch_cuda: no device here
    assert list(table.columns) == COLUMNS + [f"{e}_{c}" for e in engines for c in ENGINE_COLUMNS]
    aligned = [f"large_r{r}" for r in ALIGNMENTS]
    assert list(table["model"]) == ["base", "large", "small", *aligned]
    assert set(table["source"]) == {"synthetic"}
    assert list(table["round_to"].iloc[1:]) == [8, 8, *ALIGNMENTS]
    # the FLOPs against the convolutions counted by hand on the same models (built again: seeded)
    cfg = load_config(params)
    weights, _ = bench_weights(cfg, tmp_path)
    weights |= aligned_weights(cfg, tmp_path)
    by_hand = pd.Series({name: conv_gflops(load_model(w).model, cfg.train.imgsz) for name, w in weights.items()})
    assert list(table["gflops"]) == pytest.approx(list(by_hand), rel=0.05)
    flops_ratio = (by_hand / by_hand["base"])[table["model"]].to_numpy()
    assert list(table["flops_ratio"]) == pytest.approx(list(flops_ratio), rel=0.04)  # THOP also counts BN
    assert (flops_ratio[1:] < 1).all() and table["gflops"].iloc[:3].is_monotonic_decreasing  # random gammas: all prune
    # aligned up to a multiple of 1, 8, 16: every kept count is a multiple of it, and more alignment keeps more
    for name, round_to in zip(aligned, ALIGNMENTS, strict=True):
        body = load_model(weights[name]).model.model[:-1]  # the Detect head's output convolutions are never pruned
        kept = [m.out_channels for m in body.modules() if isinstance(m, torch.nn.Conv2d)]
        assert all(c % round_to == 0 for c in kept), (name, kept)
    gflops = table.set_index("model").loc[aligned, "gflops"]
    assert gflops.is_monotonic_increasing and gflops.iloc[0] < gflops.iloc[-1]  # round_dir up: alignment adds
    # every engine interleaved: each ratio comes with its interval, and its ratio to the FLOPs ratio is printed
    for engine in engines:
        ratio, lo, hi = (table[f"{engine}_{c}"] for c in ("ratio", "ratio_lo", "ratio_hi"))
        assert (table[f"{engine}_ms"] > 0).all() and (lo <= ratio).all() and (ratio <= hi).all()
        per_flops = table[f"{engine}_ratio_per_flops_ratio"]  # latency per FLOPs, not FLOPs per latency
        assert list(per_flops * flops_ratio) == pytest.approx(list(ratio), rel=0.04)
        assert list(table[f"{engine}_ms_per_gflop"]) == pytest.approx(list(table[f"{engine}_ms"] / table["gflops"]))
        assert f"{engine}:\n" in printed and f"alignment on {engine}, against no alignment: large_r8 " in printed
    summary = json.loads((out_root / "runs" / "bench" / "smoke.json").read_text())
    assert set(summary["alignment"]["onnx_cpu"]) == set(aligned[1:])
    assert set(summary["alignment"]["onnx_cpu"].values()) <= {"faster", "slower", "within noise"}
    assert summary["not_measured"]["torch_cuda"].startswith("not measured")
    # where the base model's time goes: ONNX Runtime's profile by operator type, convolutions among them
    operators = summary["base_operators_ms"]
    assert operators["Conv"] > 0 and "between operators" in operators
    assert f"Conv {operators['Conv']:.3f} (" in printed and "ONNX Runtime time goes" in printed


def test_alignment_findings_need_intervals_apart() -> None:
    """An alignment is faster or slower than none only where the two ratio intervals do not overlap."""
    table = pd.DataFrame({"model": ["base", "t_r1", "t_r8", "t_r16"], "onnx_cpu_ratio_lo": [1, 0.50, 0.40, 0.52],
                          "onnx_cpu_ratio_hi": [1, 0.55, 0.45, 0.60]})  # fmt: skip
    found = alignment_findings(table, ["t_r1", "t_r8", "t_r16"], ["onnx_cpu"])
    assert found == {"onnx_cpu": {"t_r8": "faster", "t_r16": "within noise"}}
    table.loc[3, ["onnx_cpu_ratio_lo", "onnx_cpu_ratio_hi"]] = [0.56, 0.60]
    assert alignment_findings(table, ["t_r1", "t_r8", "t_r16"], ["onnx_cpu"])["onnx_cpu"]["t_r16"] == "slower"
