"""`yoloslim eval WEIGHTS --data DATA_YAML` prints one model's measurements as tables, reading the data set only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import file_listing
from yoloslim.cli import main
from yoloslim.config import Config
from yoloslim.models.build import build_model
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import command_folder, data_mirror


def test_eval_cli_prints_tables(
    smoke_cfg: Config,
    user_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the note for an engine that cannot run
    model = build_model(smoke_cfg, nc=3, width_scale=0.25)
    weights = save_checkpoint(model, tmp_path / "user" / "w.pt", train_args={"imgsz": 64})
    before = file_listing(user_data.parent)
    engines = ["torch_cpu", "onnx_cpu", "onnx_cpu_int8", "torch_cuda"]  # INT8 calibrated on the train split
    assert main(["eval", str(weights), "--data", str(user_data), "--conf", "0.25", "--runs", "3", "--engines",
                 *engines, "--decode", "dm=DataMatrix", "qr=QRCode", "bar=linear"]) == 0  # fmt: skip
    assert file_listing(user_data.parent) == before, "eval wrote into the data set"
    assert list(data_mirror(command_folder("eval", weights)).dir.rglob("*.cache"))  # Ultralytics' caches went here
    printed = capsys.readouterr().out
    for title in ("accuracy (test)", "INT8 on onnx_cpu_int8 (test)", "size, params, FLOPs, latency",
                  "decode rate (test)"):  # fmt: skip
        assert f"== {title} ==" in printed
    assert "torch_cuda: not measured: no CUDA device" in printed
    assert "imgsz" in printed and " 64" in printed  # the checkpoint's image size
    assert "accuracy (val)" not in printed
    assert sorted(p.name for p in weights.parent.iterdir()) == ["w.pt"]  # nothing written beside the weights
    assert main(["eval", str(weights.parent / "missing.pt"), "--data", str(user_data)]) == 2
    other = weights.parent / "other.pt"
    other.write_bytes(weights.read_bytes())
    assert main(["eval", str(other), "--data", str(user_data), "--decode", "cat=QRCode"]) == 2
    assert "--decode cat=QRCode: expected CLASS=SYMBOLOGY with classes among dm, qr, bar" in capsys.readouterr().err
    assert not command_folder("eval", other).exists()  # stopped before mirroring the data set
    assert not command_folder("eval", weights.parent / "missing.pt").exists()
