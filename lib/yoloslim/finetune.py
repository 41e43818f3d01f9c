"""Fine-tuning pruned models as they are: the pruned weights (`inherit`) or re-initialized (`scratch`).

The stock `DetectionTrainer.get_model` rebuilds a model from its YAML and copies only the weights whose
shapes match, which silently undoes pruning. `PrunedTrainer.get_model` returns the given module itself, on
the first run and when resuming from `last.pt`, so the architecture after training is the pruned one
(checked channel by channel, and recorded in `metrics.json`).

    from yoloslim.finetune import run_finetune
    run_finetune(cfg, "small")           # runs/<config>/finetune/small/ (init: inherit)
    run_finetune(cfg, "small-scratch")   # the same architecture, re-initialized (Liu et al., ICLR 2019)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn
from ultralytics.nn.tasks import load_checkpoint

from yoloslim.config import Config
from yoloslim.modelbuild import conv_channels, load_trainable, reinitialize
from yoloslim.paths import METRICS, WEIGHTS, StudyPaths
from yoloslim.study import finetune_jobs
from yoloslim.train import TrainJob, YoloTrainer, file_digest, read_metrics, run_training, train_args


class PrunedTrainer(YoloTrainer):
    """A DetectionTrainer that trains the model it is given as it is, never rebuilding it from YAML."""

    def get_model(self, cfg: Any = None, weights: nn.Module | None = None, verbose: bool = True) -> nn.Module:
        """The given module itself (made trainable); a model is built from `cfg` only when none is given."""
        if isinstance(weights, nn.Module):
            for p in weights.parameters():
                p.requires_grad_(True)
            return self.set_model_names_for_load(weights)
        return super().get_model(cfg, weights, verbose)


def parse_model_id(cfg: Config, model_id: str) -> tuple[str, str]:
    """`<target>` -> (target, 'inherit'); `<target>-scratch` -> (target, 'scratch'); `<target>-random` ->
    (`<target>-random`, 'inherit'): the pruned structure's id and the init. Errors name the valid ids."""
    jobs = finetune_jobs(cfg)
    if model_id not in jobs:
        raise KeyError(f"{cfg.source}: no fine-tuned model '{model_id}'; valid: {', '.join(jobs)}")
    return jobs[model_id]


def run_finetune(cfg: Config, model_id: str, callbacks: Sequence[tuple[str, Callable]] = ()) -> Path:
    """Retrain the pruned model `prune/<target>/weights.pt`; returns `runs/<config>/finetune/<model_id>/`.

    `model_id` is `<target>` (fine-tune the pruned weights) or `<target>-scratch` (re-initialize them). The
    recipe is the `train` section's with `finetune.epochs` and `finetune.lr0`. `callbacks`: extra Ultralytics
    trainer callbacks `(event, function)`.
    """
    return run_training(finetune_job(cfg, model_id, callbacks))


def finetune_job(cfg: Config, model_id: str, callbacks: Sequence[tuple[str, Callable]] = ()) -> TrainJob:
    """The fine-tune stage's `TrainJob` for one model id: PrunedTrainer and the pruned (or re-initialized) model."""
    target, init = parse_model_id(cfg, model_id)
    paths = StudyPaths.of(cfg)
    pruned = paths.prune(target) / WEIGHTS
    if not pruned.is_file():
        raise FileNotFoundError(f"{pruned}: pruned model '{target}' not found; run the prune stage first")
    channels = conv_channels(load_checkpoint(pruned)[0])

    def build() -> nn.Module:
        model = load_trainable(pruned)
        return reinitialize(model, cfg.train.seed) if init == "scratch" else model

    def extra(stage: Path) -> dict[str, Any]:
        trained = conv_channels(load_checkpoint(stage / WEIGHTS)[0])
        if trained != channels:
            changed = sorted(k for k in channels.keys() | trained.keys() if channels.get(k) != trained.get(k))
            raise RuntimeError(f"{stage / WEIGHTS}: architecture differs from {pruned} in {', '.join(changed[:5])}")
        return {"init": init, "target": target, "channels": trained}

    return TrainJob(
        stage=paths.finetune(target, init),
        name=paths.finetune(target, init).name,
        trainer=PrunedTrainer,
        build=build,
        args=train_args(cfg, epochs=cfg.finetune.epochs, lr0=cfg.finetune.lr0, nbs=cfg.finetune.nbs or cfg.train.nbs),
        key={"finetune": cfg.section("finetune"), "init": init, "pruned": file_digest(pruned)},
        extra_metrics=extra,
        callbacks=list(callbacks),
        precise_bn=cfg.train.precise_bn,
    )


def finetune_summary(cfg: Config, model_id: str) -> pd.DataFrame:
    """The fine-tuned model's size, time and val accuracy next to the uniform-width baselines that are trained."""
    paths = StudyPaths.of(cfg)
    stages = {model_id: paths.run / "finetune" / model_id} | {v.label: paths.train(v.name) for v in cfg.variants}
    rows = []
    for label, stage in stages.items():
        if (stage / METRICS).is_file():
            m = read_metrics(stage)
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
