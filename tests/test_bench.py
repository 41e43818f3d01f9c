"""`yoloslim bench` on the smoke config: no study weights, so base and pruned models are built here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from yoloslim.bench import COLUMNS, GAMMA_HIGH, randomize_gammas
from yoloslim.cli import main
from yoloslim.config import ROOT, Config
from yoloslim.models.build import build_model
from yoloslim.models.gammas import gamma_values


def test_randomize_gammas_is_seeded_and_bounded() -> None:
    a = gamma_values(randomize_gammas(build_model(Config(), nc=3)))
    b = gamma_values(randomize_gammas(build_model(Config(), nc=3)))
    assert a.equal(b)
    assert 0 <= float(a.min()) and float(a.max()) < GAMMA_HIGH


def test_bench_cli_writes_table(out_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--config", str(ROOT / "params" / "smoke.yaml")]) == 0
    printed = capsys.readouterr().out
    assert "pruning a yolov5s" in printed
    table = pd.read_csv(out_root / "runs" / "bench" / "smoke.csv")
    assert list(table.columns) == COLUMNS
    assert list(table["model"]) == ["base", "large", "small"]
    assert set(table["source"]) == {"synthetic"}
    base = table.iloc[0]
    assert base["flops_ratio"] == 1.0 and base["torch_ratio"] == 1.0 and base["onnx_ratio"] == 1.0
    assert (table["gflops"].iloc[1:] < base["gflops"]).all()  # random gammas: every threshold prunes something
    assert table["gflops"].is_monotonic_decreasing  # higher thresholds, smaller models
    assert (table["torch_cpu_ms"] > 0).all() and (table["torch_cpu_ms"] <= table["torch_cpu_p90_ms"]).all()
    # ONNX Runtime interleaved: each ratio comes with its interval, and its ratio to the FLOPs ratio is printed
    ratio, pruned = table["onnx_ratio"], table.iloc[1:]
    assert (table["onnx_ratio_lo"] <= ratio).all() and (ratio <= table["onnx_ratio_hi"]).all()
    assert pruned["onnx_ratio_per_flops_ratio"].equals(pruned["onnx_ratio"] / pruned["flops_ratio"])
    assert "onnx_ratio_per_flops_ratio" in printed
    assert (out_root / "runs" / "bench" / "smoke.json").is_file()
