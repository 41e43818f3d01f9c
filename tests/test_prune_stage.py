"""The prune stage on the smoke study: notebooks/04_prune.ipynb runs `run_prune` from a fake sparse checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers.models import write_sparse_checkpoint
from yoloslim.config import ROOT
from yoloslim.paths import StudyPaths
from yoloslim.prune.onnx_check import OnnxCheck
from yoloslim.prune.stage import run_prune


def test_run_prune_rejects_unknown_target(smoke_cfg):
    with pytest.raises(KeyError, match="tiny"):
        run_prune(smoke_cfg, "tiny")


def test_prune_notebook_on_smoke(smoke_cfg, tmp_path):
    write_sparse_checkpoint(smoke_cfg)
    executed = tmp_path / "04_prune.ipynb"
    cmd = [
        str(Path(sys.executable).parent / "papermill"),  # the test's own environment's
        str(ROOT / "notebooks" / "04_prune.ipynb"),
        str(executed),
        "-k",
        "python3",
        "--cwd",
        str(ROOT / "notebooks"),
        "-p",
        "config",
        str(ROOT / "params" / "smoke.yaml"),
        "-p",
        "target",
        "small",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]

    out = StudyPaths.of(smoke_cfg).prune("small").dir
    for name in (
        "weights.pt",
        "layers.csv",
        "ratios.csv",
        "metrics.json",
        "figures/sparsity.png",
        "figures/gamma_hist.png",
        "weights.onnx",
    ):
        assert (out / name).is_file(), name
    layers = pd.read_csv(out / "layers.csv")
    assert list(layers.columns) == ["layer", "part", "original", "kept", "pruned_threshold", "align_delta", "note"]
    assert (layers["kept"] % 8 == 0).all() and set(layers["part"]) == {"backbone", "head"}
    ratios = pd.read_csv(out / "ratios.csv")
    assert list(ratios["part"]) == ["backbone", "head", "overall"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["value"] == 0.15 and metrics["params_after"] < metrics["params_before"]
    for key in ("val_fold", "val_nofold"):
        assert set(metrics[key]) == {"mAP50", "mAP50-95"} and 0 <= metrics[key]["mAP50"] <= 1
    onnx_check = metrics["onnx_check"]
    assert onnx_check["aligned"] is True and onnx_check["misaligned"] == []
    assert onnx_check["outputs_match"] is True and 0 <= onnx_check["max_abs_diff"] < 1e-3
    assert "|onnx - torch|" in onnx_check["tolerance"]
    assert "small" in executed.read_text()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert run_prune(smoke_cfg, "small") == out  # up to date (params.json holds its key): nothing written again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_misaligned_onnx_check_raises(tmp_path):
    channels = {"model.0.conv.weight": 12, "model.1.conv.weight": 32}
    check = OnnxCheck(tmp_path / "weights.onnx", channels, ["model.0.conv.weight: 12"], 0.0, True, round_to=8)
    assert check.summary()["aligned"] is False and check.summary()["misaligned"] == ["model.0.conv.weight: 12"]
    with pytest.raises(RuntimeError, match=r"weights.onnx: .*round_to=8 \(a pruning bug\): model.0.conv.weight: 12"):
        check.require_aligned()
    OnnxCheck(tmp_path / "weights.onnx", {"model.1.conv.weight": 32}, [], 0.0, True).require_aligned()
