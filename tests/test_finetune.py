"""Fine-tuning a pruned model as it is: architecture kept through training and resume, scratch re-init, notebook 05."""

from __future__ import annotations

import json

import pytest
import torch
from helpers.training import Interrupt, interrupt_after_first_epoch
from ultralytics.nn.modules import DFL
from yoloslim.config import Config
from yoloslim.models.build import build_model, conv_channels, reinitialize
from yoloslim.train.finetune import parse_model_id, run_finetune


def test_model_ids(smoke_cfg: Config) -> None:
    smoke_cfg.finetune.init = ["inherit", "scratch"]
    assert parse_model_id(smoke_cfg, "small") == ("small", "inherit")
    assert parse_model_id(smoke_cfg, "small-scratch") == ("small", "scratch")
    with pytest.raises(KeyError, match="small-scratch"):
        parse_model_id(smoke_cfg, "huge")


def test_reinitialize_keeps_architecture_and_dfl(smoke_cfg: Config) -> None:
    model = build_model(smoke_cfg, nc=3)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    dfl = next(m for m in model.modules() if isinstance(m, DFL)).conv.weight.clone()
    channels = conv_channels(model)
    reinitialize(model, seed=0)
    assert conv_channels(model) == channels
    assert not torch.all(model.model[0].conv.weight == 0.5)  # weights re-drawn
    assert torch.all(model.model[0].bn.weight == 1.0)  # BatchNorm reset
    assert torch.equal(next(m for m in model.modules() if isinstance(m, DFL)).conv.weight, dfl)


def test_resumed_scratch_finetune_keeps_pruned_architecture(smoke_cfg: Config, pruned: dict[str, int]) -> None:
    smoke_cfg.finetune.init, smoke_cfg.finetune.scratch_epochs = ["inherit", "scratch"], 2
    with pytest.raises(Interrupt):
        run_finetune(smoke_cfg, "small-scratch", callbacks=[("on_model_save", interrupt_after_first_epoch)])
    stage = run_finetune(smoke_cfg, "small-scratch")  # resumes from last.pt through PrunedTrainer.get_model
    assert "Resuming training" in (stage / "train.log").read_text()
    metrics = json.loads((stage / "metrics.json").read_text())
    assert metrics["init"] == "scratch" and metrics["epochs"] == 2 and metrics["channels"] == pruned
    trained = torch.load(stage / "weights.pt", weights_only=False)["model"]
    assert conv_channels(trained) == pruned
