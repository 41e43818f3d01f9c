"""Fine-tune recipes at equal cost (`finetune.compare`): what a distilled training step costs, and the epochs that
cost buys a fine-tune without a teacher.

Distillation (`finetune.distill`, or a `<target>-distill` model) is Ultralytics' own (`ultralytics.nn.distill_model`,
wired into its trainer, resume and DDP by the `distill_model` and `dis` arguments): the unpruned teacher runs
forward on every batch, and 1x1 projectors built from the actual widths map the pruned student's neck features to
the teacher's, weighted by the teacher's class scores. Each step therefore costs a teacher's forward pass more. The
`<target>-longer` model spends that cost on more epochs of today's recipe instead: `finetune.epochs` times the
ratio of a distilled step's seconds to a plain step's.

The ratio is measured, not counted in FLOPs (a pruned model's time does not shrink with its FLOPs): both steps
(the next batch from the study's training loader, forward, loss, backward, optimizer step) are timed alone in one
process, alternating round by round so that whatever else runs on the machine slows both alike, and the median of
the per-round ratios is kept. The measurement is kept in the stage folder (`cost.json`) and
reused while the student, the teacher and the batch are the same, so a resumed training keeps its epochs.

    from yoloslim.train.recipes import recipe_cost
    cost = recipe_cost(cfg, "small")   # {'plain_s': 0.05, 'distill_s': 0.08, 'ratio': 1.6, 'epochs': 24, ...}
"""

from __future__ import annotations

import copy
import json
import math
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from ultralytics.cfg import get_cfg
from ultralytics.data.build import build_dataloader, build_yolo_dataset
from ultralytics.data.utils import check_det_dataset
from ultralytics.nn.distill_model import DistillationModel
from ultralytics.utils import DEFAULT_CFG, IterableSimpleNamespace

from yoloslim.atomic import write_json
from yoloslim.config import MAX_STRIDE, Config, job_threads
from yoloslim.data.mirror import split_images
from yoloslim.models.build import load_trainable
from yoloslim.paths import StudyPaths
from yoloslim.stages import file_digest
from yoloslim.study import teacher_weights
from yoloslim.train.runner import train_args

ROUNDS = 12  # timed rounds, each one plain step and one distilled step, in alternating order
WARMUP = 2  # untimed rounds first


def recipe_cost(cfg: Config, target: str) -> dict[str, Any]:
    """The cost of distilling `target`'s fine-tune and the epochs of its `-longer` model, measured once and kept in
    `finetune/<target>-longer/cost.json`.

    Args:
        cfg (Config): The study.
        target (str): A target of `finetune.compare`.

    Returns:
        (dict[str, Any]): `step_seconds`' entries, `epochs` (the target's fine-tune epochs x ratio, rounded up),
            `batches` (training batches an epoch), `teacher`, `key` (what the measurement holds for).
    """
    paths = StudyPaths.of(cfg)
    student, teacher = paths.prune(target).weights, teacher_weights(cfg, "distill")
    assert teacher is not None
    epochs = cfg.finetune_epochs("inherit", target)
    key = {"student": file_digest(student), "teacher": file_digest(teacher), "batch": cfg.train.batch,
           "imgsz": cfg.train.imgsz, "weight": cfg.finetune.distill_weight, "epochs": epochs}  # fmt: skip
    path = paths.finetune(target, "longer").cost
    kept = json.loads(path.read_text()) if path.is_file() else {}
    if kept.get("key") == key:
        return kept
    args = train_args(cfg, epochs=epochs, lr0=cfg.finetune.lr0, dis=cfg.finetune.distill_weight)
    cost = step_seconds(student, teacher, args)
    batches = math.ceil(len(split_images(paths.data.yaml, "train")) / cfg.train.batch)
    cost |= {"epochs": math.ceil(epochs * cost["ratio"]), "batches": batches,
             "teacher": cfg.finetune.teacher, "key": key}  # fmt: skip
    write_json(path, cost)
    return cost


def step_seconds(student: Path, teacher: Path, args: dict[str, Any]) -> dict[str, float]:
    """Seconds of one training step of `student` alone and taught by `teacher`, timed alternately in this process.

    A step is what a training step does: the next batch from an Ultralytics training loader of the study's data (its
    batch size, cache and augmentation), the loss, backward and an optimizer step. Threads: `OMP_NUM_THREADS` when
    set, as the trainer takes them (`yoloslim.train.runner.YoloTrainer`).

    Args:
        student (Path): The pruned checkpoint.
        teacher (Path): The teacher's checkpoint.
        args (dict[str, Any]): The fine-tune's Ultralytics training arguments (`data`, `imgsz`, `batch`, `dis`, ...).

    Returns:
        (dict[str, float]): `plain_s` and `distill_s` (medians), `ratio` (median of the per-round ratios, at least 1),
            `rounds`, `threads` (PyTorch's).
    """
    hyp = get_cfg(DEFAULT_CFG, {k: v for k, v in args.items() if k not in ("distill_model", "model")})
    plain = load_trainable(student)
    plain.args = hyp
    distilled = DistillationModel(str(teacher), copy.deepcopy(plain))
    batches = _batches(hyp)
    steps = {"plain": _stepper(plain, plain.loss, batches), "distill": _stepper(distilled, distilled.loss, batches)}
    times: dict[str, list[float]] = {"plain": [], "distill": []}
    previous = torch.get_num_threads()
    torch.set_num_threads(job_threads() or previous)
    try:
        for i in range(WARMUP + ROUNDS):
            for name in sorted(steps, reverse=i % 2 == 1):
                seconds = steps[name]()
                if i >= WARMUP:
                    times[name].append(seconds)
        threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)
    ratios = [d / p for p, d in zip(times["plain"], times["distill"], strict=True)]
    return {
        "plain_s": statistics.median(times["plain"]),
        "distill_s": statistics.median(times["distill"]),
        "ratio": max(1.0, statistics.median(ratios)),
        "rounds": ROUNDS,
        "threads": threads,
    }


def _batches(hyp: IterableSimpleNamespace) -> Iterator[dict[str, Any]]:
    """Training batches as the trainer draws them: an Ultralytics training loader of the data set's train split."""
    data = check_det_dataset(hyp.data)
    dataset = build_yolo_dataset(hyp, data["train"], hyp.batch, data, mode="train", stride=MAX_STRIDE)
    loader = build_dataloader(dataset, hyp.batch, hyp.workers, shuffle=True, pin_memory=False, device="cpu")
    while True:  # one epoch an iteration; a small data set has fewer batches than the rounds take
        yield from loader


def _stepper(model: nn.Module, loss: Callable, batches: Iterator[dict[str, Any]]) -> Callable[[], float]:
    """A function timing one training step of `model`: the next batch, its `loss`, backward and an SGD step."""
    model.train()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-6, momentum=0.9)

    def step() -> float:
        start = time.perf_counter()
        batch = next(batches)
        batch["img"] = batch["img"].float() / 255
        optimizer.zero_grad()
        loss(batch)[0].sum().backward()
        optimizer.step()
        return time.perf_counter() - start

    return step
