"""Training helpers the tests share: stopping a training after its first epoch, a pruned checkpoint where the prune
stage writes one, and a trainer rebuilt the way Ultralytics' DDP workers rebuild it."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch_pruning as tp
from torch import nn
from ultralytics.cfg import get_cfg
from ultralytics.nn.distill_model import DistillationModel
from ultralytics.utils import DEFAULT_CFG, DEFAULT_CFG_DICT
from ultralytics.utils.dist import generate_ddp_file
from ultralytics.utils.patches import torch_load
from yoloslim.config import Config
from yoloslim.models.build import build_model, conv_channels
from yoloslim.paths import StudyPaths
from yoloslim.train.runner import TrainJob, make_trainer


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


def rebuilt_in_worker(job: TrainJob) -> tuple[object, object]:
    """(the trainer as yoloslim builds it, the trainer as a DDP worker rebuilds it from the pickled state)."""
    trainer = make_trainer(job)
    script = Path(generate_ddp_file(trainer))
    state_file = script.with_suffix(".pt")
    try:
        code = script.read_text()
        # The worker script: these are the lines the rebuild below repeats.
        assert "state = torch_load(" in code and "cfg.update(save_dir='')" in code
        assert 'trainer = state["trainer"](cfg=cfg, overrides=state["args"], _callbacks=state["callbacks"])' in code
        assert 'trainer.model = state["model"]' in code
        state = torch_load(str(state_file), map_location="cpu")
    finally:
        script.unlink(missing_ok=True)
        state_file.unlink(missing_ok=True)
    cfg = DEFAULT_CFG_DICT.copy()
    cfg.update(save_dir="")
    worker = state["trainer"](cfg=cfg, overrides=state["args"], _callbacks=state["callbacks"])
    worker.model = state["model"]
    return trainer, worker


def callback_objects(trainer: object, event: str, kind: type) -> list:
    """The callback objects of `kind` registered for `event` (bound methods count by their instance)."""
    found = []
    for callback in trainer.callbacks[event]:
        owner = getattr(callback, "__self__", callback)
        if isinstance(owner, kind):
            found.append(owner)
    return found


def assert_learns_from(teacher: nn.Module, student: nn.Module, imgsz: int) -> None:
    """Ultralytics' distillation of a pruned `student` by its unpruned `teacher` (copies of both): the loss gains the
    distillation term, and its gradient reaches the student and the projectors built from the pruned widths, never
    the teacher."""
    teacher, student = copy.deepcopy(teacher).float(), copy.deepcopy(student).float()
    assert conv_channels(student) != conv_channels(teacher)
    for p in student.parameters():
        p.requires_grad_(True)
    student.args = get_cfg(DEFAULT_CFG, {"imgsz": imgsz})
    model = DistillationModel(teacher, student).train()
    boxes = torch.tensor([[0.5, 0.5, 0.3, 0.3], [0.3, 0.4, 0.2, 0.3]])
    batch = {"img": torch.rand(2, 3, imgsz, imgsz), "cls": torch.tensor([[0.0], [2.0]]), "bboxes": boxes,
             "batch_idx": torch.tensor([0.0, 1.0])}  # fmt: skip
    loss, items = model.loss(batch)
    assert torch.isfinite(loss).all() and float(items["dis_loss"]) > 0
    loss.sum().backward()
    assert all(p.grad is not None for p in model.projector.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())
    assert all(p.grad is None for p in model.teacher_model.parameters())
