"""Fine-tuning a pruned model as it is: architecture kept through training and resume, scratch re-init, notebook 05."""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch_pruning as tp
from ultralytics.nn.modules import DFL
from yoloslim.config import Config
from yoloslim.models.build import build_model, conv_channels, reinitialize
from yoloslim.paths import StudyPaths
from yoloslim.train.finetune import parse_model_id, run_finetune


class Interrupt(Exception):
    """Raised by a callback to stop a training after its first epoch."""


def interrupt_after_first_epoch(trainer) -> None:
    """An `on_model_save` callback: raise `Interrupt` once epoch 0 is saved."""
    if trainer.epoch == 0:
        raise Interrupt


def write_pruned(cfg: Config, target: str = "small") -> dict[str, int]:
    """Prune a quarter of the channels of the tiny base model with torch_pruning (Detect head ignored) and save it
    where the prune stage would, in a checkpoint plain `YOLO(path)` loads; returns its conv channels."""
    torch.manual_seed(0)
    model = build_model(cfg, nc=3)
    pruner = tp.pruner.MagnitudePruner(
        model,
        torch.randn(1, 3, 64, 64),
        importance=tp.importance.MagnitudeImportance(p=1),
        pruning_ratio=0.25,
        ignored_layers=[model.model[-1]],
        round_to=8,
    )
    pruner.step()
    path = StudyPaths.of(cfg).prune(target).weights
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": copy.deepcopy(model).half(), "train_args": {}, "epoch": -1}, path)
    return conv_channels(model)


@pytest.fixture()
def pruned(smoke_cfg: Config) -> dict[str, int]:
    smoke_cfg.model.width = 0.125
    channels = write_pruned(smoke_cfg)
    assert channels != conv_channels(build_model(smoke_cfg, nc=3))  # really pruned
    return channels


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
