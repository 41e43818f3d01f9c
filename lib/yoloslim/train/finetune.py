"""Fine-tuning pruned models as they are: the pruned weights (`inherit`) or re-initialized (`scratch`), taught by the
unpruned model where the study distills (`finetune.distill`, or a `-distill` model of `finetune.compare`; the
cost and the `-longer` recipe: `yoloslim.train.recipes`).

The stock `DetectionTrainer.get_model` rebuilds a model from its YAML and copies only the weights whose
shapes match, which silently undoes pruning. `PrunedTrainer.get_model` returns the given module itself, on
the first run and when resuming from `last.pt`, so the architecture after training is the pruned one
(checked channel by channel, and recorded in `metrics.json`).

    from yoloslim.train.finetune import finetune_weights, run_finetune
    run_finetune(cfg, "small")           # runs/<config>/finetune/small/ (init: inherit)
    run_finetune(cfg, "small-scratch")   # the same architecture, re-initialized (Liu et al., ICLR 2019)
    run_finetune(cfg, "small-distill")   # finetune.compare: taught by finetune.teacher (the sparse model)
    finetune_weights(Path("pruned.pt"), Path("data.yaml"), epochs=10)   # any checkpoint: `yoloslim finetune`
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn
from ultralytics.nn.tasks import load_checkpoint

from yoloslim.config import Config, FinetuneConfig, TrainConfig
from yoloslim.data.mirror import mirror_dataset
from yoloslim.models.build import conv_channels, load_trainable, reinitialize
from yoloslim.models.stats import checkpoint_imgsz, existing_weights
from yoloslim.paths import WEIGHTS, StudyPaths, command_folder, data_mirror
from yoloslim.stages import stage_key
from yoloslim.study import finetune_jobs, job_epochs, seed_of, teacher_weights
from yoloslim.train.recipes import recipe_cost
from yoloslim.train.runner import TrainJob, YoloTrainer, read_metrics, run_training, train_args


class PrunedTrainer(YoloTrainer):
    """A DetectionTrainer that trains the model it is given as it is, never rebuilding it from YAML."""

    def get_model(self, cfg: Any = None, weights: nn.Module | None = None, verbose: bool = True) -> nn.Module:
        """The given module itself (made trainable); a model is built from `cfg` only when none is given.

        Args:
            cfg (Any): The model YAML Ultralytics passes; used only when `weights` is not a module.
            weights (nn.Module | None): The model to train as it is.
            verbose (bool): Passed to the stock `get_model`.

        Returns:
            (nn.Module): The model trained.
        """
        if isinstance(weights, nn.Module):
            for p in weights.parameters():
                p.requires_grad_(True)
            return self.set_model_names_for_load(weights)
        return super().get_model(cfg, weights, verbose)


def parse_model_id(cfg: Config, model_id: str) -> tuple[str, str]:
    """`<target>` -> (target, 'inherit'); `<target>-scratch` -> (target, 'scratch'); `<target>-random` ->
    (`<target>-random`, 'inherit'): the pruned structure's id and the init. Errors name the valid ids."""
    jobs = finetune_jobs(cfg, replicas=True)
    if model_id not in jobs:
        raise KeyError(f"{cfg.source}: no fine-tuned model '{model_id}'; valid: {', '.join(jobs)}")
    return jobs[model_id]


def run_finetune(cfg: Config, model_id: str, callbacks: Sequence[tuple[str, Callable]] = ()) -> Path:
    """Retrain the pruned model `prune/<target>/weights.pt`.

    The recipe is the `train` section's with `finetune.lr0` and `finetune.epochs` (a scratch model:
    `finetune.scratch_epochs`, by default `train.epochs`).

    Args:
        cfg (Config): The study.
        model_id (str): `<target>` (fine-tune the pruned weights) or `<target>-scratch` (re-initialize them).
        callbacks (Sequence[tuple[str, Callable]]): Extra Ultralytics trainer callbacks `(event, function)`.

    Returns:
        (Path): `runs/<config>/finetune/<model_id>/`.
    """
    return run_training(finetune_job(cfg, model_id, callbacks))


def finetune_job(cfg: Config, model_id: str, callbacks: Sequence[tuple[str, Callable]] = ()) -> TrainJob:
    """The fine-tune stage's `TrainJob` for one model id: PrunedTrainer and the pruned (or re-initialized) model.

    Args:
        cfg (Config): The study.
        model_id (str): A fine-tuned model's id (`parse_model_id`).
        callbacks (Sequence[tuple[str, Callable]]): Extra Ultralytics trainer callbacks `(event, function)`.

    Returns:
        (TrainJob): The job; its pruned weights must exist.
    """
    target, init = parse_model_id(cfg, model_id)
    paths = StudyPaths.of(cfg)
    seed = cfg.train.seed + seed_of(model_id)  # another run of a seeded model (finetune.seeds)
    pruned = paths.prune(target).weights
    if not pruned.is_file():
        raise FileNotFoundError(f"{pruned}: pruned model '{target}' not found; run the prune stage first")
    channels = conv_channels(load_checkpoint(pruned)[0])

    def build() -> nn.Module:
        model = load_trainable(pruned)
        return reinitialize(model, seed) if init == "scratch" else model

    teacher = teacher_weights(cfg, init)
    cost = recipe_cost(cfg, target) if init == "longer" else None
    distill = {"distill_model": str(teacher), "dis": cfg.finetune.distill_weight} if teacher else {}

    def extra(stage: Path) -> dict[str, Any]:
        recipe = {"teacher": cfg.finetune.teacher} if teacher else {"cost": cost} if cost else {}
        return {"init": init, "target": target, **recipe,
                "channels": kept_architecture(stage / WEIGHTS, pruned, channels)}  # fmt: skip

    return TrainJob(
        stage=paths.finetune(model_id).dir,
        name=model_id,
        trainer=PrunedTrainer,
        build=build,
        args=train_args(
            cfg,
            epochs=cost["epochs"] if cost else job_epochs(cfg, model_id),
            lr0=cfg.finetune.lr0,
            nbs=cfg.finetune.nbs or cfg.train.nbs,
            seed=seed,
            **distill,
        ),
        key=stage_key(cfg, "finetune", model_id),
        inputs={"pruned": pruned, **({"teacher": teacher} if teacher else {})},
        extra_metrics=extra,
        callbacks=list(callbacks),
        precise_bn=cfg.train.precise_bn,
    )


def finetune_weights(
    weights: Path,
    data: Path,
    *,
    epochs: int,
    out: Path | None = None,
    imgsz: int | None = None,
    batch: int = TrainConfig.batch,
    lr0: float = FinetuneConfig.lr0,
    device: str = TrainConfig.device,
    workers: int = TrainConfig.workers,
    teacher: Path | None = None,
    distill_weight: float = FinetuneConfig.distill_weight,
) -> Path:
    """Continue training a pruned (or fine-tuned) checkpoint as it is, with `PrunedTrainer`.

    The run is a stage folder of `run_training`: the same command again returns at once, an interrupted one resumes.
    The data set is only read: training reads its mirror in `out/data/` (`yoloslim.data.mirror`), rebuilt each time;
    the stage's key holds the digest of the mirror's YAML and image lists, which stay the same for the same data set.
    The recipe is the default study's fine-tune (`train_args` of `Config()`).

    Args:
        weights (Path): The checkpoint.
        data (Path): The Ultralytics data YAML; its class count must be the model's.
        epochs (int): The training epochs.
        out (Path | None): The run's folder (not holding `weights`); None: `runs/finetune/<folder>_<stem>/` under the
            output root (`small_weights` for `prune/small/weights.pt`).
        imgsz (int | None): The training image size; None: the checkpoint's.
        batch (int): The batch size.
        lr0 (float): The initial learning rate.
        device (str): Ultralytics' training device.
        workers (int): The data loader workers.
        teacher (Path | None): An unpruned checkpoint of the same classes that teaches the model (Ultralytics'
            distillation, docs/method.md); None: no teacher.
        distill_weight (float): The distillation loss weight (Ultralytics' `dis`).

    Returns:
        (Path): The trained weights.pt.

    Raises:
        FileNotFoundError: Naming a missing weights file or data YAML (or a split path it names).
        ValueError: When the data set's class count is not the model's or `weights` lies inside the output folder.
        RuntimeError: Naming the layers whose channels training changed.
    """
    from yoloslim.config import yaml_names

    weights, data = Path(weights), Path(data)
    pruned = existing_weights(weights)
    if not data.is_file():
        raise FileNotFoundError(f"{data}: data YAML not found")
    model = load_checkpoint(pruned)[0]
    classes, nc = len(yaml_names(data)), model.model[-1].nc
    if classes != nc:
        raise ValueError(f"{data} names {classes} classes; the model {weights} detects {nc}")
    taught = {}
    if teacher is not None:
        teacher = existing_weights(Path(teacher))
        if load_checkpoint(teacher)[0].model[-1].nc != nc:
            raise ValueError(f"the teacher {teacher} does not detect the {nc} classes of {weights}")
        taught = {"distill_model": str(teacher), "dis": distill_weight}
    channels = conv_channels(model)
    stage = Path(out) if out else command_folder("finetune", weights)
    if weights.resolve().is_relative_to(stage.resolve()):  # a run that starts over clears its folder
        raise ValueError(f"{weights} is inside the output folder {stage}; give another --out")
    mirrored = mirror_dataset(data, data_mirror(stage))
    cfg = Config()
    job = TrainJob(
        stage=stage,
        name=stage.name,
        trainer=PrunedTrainer,
        build=lambda: load_trainable(pruned),
        args=train_args(
            cfg,
            imgsz or checkpoint_imgsz(weights),
            data=str(mirrored),
            model=str(weights),
            epochs=epochs,
            batch=batch,
            lr0=lr0,
            nbs=cfg.finetune.nbs or cfg.train.nbs,
            device=device,
            workers=workers,
            **taught,
        ),
        inputs={"weights": pruned, **({"teacher": teacher} if teacher else {})},
        extra_metrics=lambda trained: {"channels": kept_architecture(trained / WEIGHTS, weights, channels)},
    )
    return run_training(job) / WEIGHTS


def kept_architecture(trained: Path, pruned: Path, channels: dict[str, int]) -> dict[str, int]:
    """The conv channels of the checkpoint `trained`, checked against those of `pruned`.

    Args:
        trained (Path): The trained checkpoint.
        pruned (Path): The checkpoint trained from, named in the error.
        channels (dict[str, int]): Its conv channels (`conv_channels`).

    Returns:
        (dict[str, int]): The conv channels, by module name.

    Raises:
        RuntimeError: Naming the first layers that differ.
    """
    found = conv_channels(load_checkpoint(trained)[0])
    if found != channels:
        changed = sorted(k for k in channels.keys() | found.keys() if channels.get(k) != found.get(k))
        raise RuntimeError(f"{trained}: architecture differs from {pruned} in {', '.join(changed[:5])}")
    return found


def finetune_summary(cfg: Config, model_id: str) -> pd.DataFrame:
    """The fine-tuned model's size, time and val accuracy next to the uniform-width baselines that are trained."""
    paths = StudyPaths.of(cfg)
    parse_model_id(cfg, model_id)  # a clear error for an id the study does not fine-tune
    stages = {model_id: paths.finetune(model_id)} | {v.label: paths.train(v.name) for v in cfg.train.variants}
    rows = []
    for label, files in stages.items():
        if files.metrics.is_file():
            m = read_metrics(files.dir)
            rows.append(
                {
                    "model": label,
                    "init": m.get("init", "variant"),
                    "epochs": m["epochs"],
                    "params_m": m["params"] / 1e6,
                    "train_min": m["train_seconds"] / 60,
                    **m["val"],
                }
            )
    return pd.DataFrame(rows)
