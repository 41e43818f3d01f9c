"""The train stage: the base model and the uniform-width variants, trained from scratch on stock Ultralytics.

from yoloslim.train.base import run_train
run_train(cfg, "base")    # runs/<config>/train/base/weights.pt
run_train(cfg, "half")    # a uniform-width variant named in cfg.train.variants
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from torch import nn

from yoloslim.config import Config
from yoloslim.models.build import build_model, load_trainable
from yoloslim.paths import StudyPaths
from yoloslim.stages import stage_key
from yoloslim.train.from_weights import take_base
from yoloslim.train.runner import TrainJob, YoloTrainer, read_metrics, run_training, train_args


def run_train(cfg: Config, model: str = "base", callbacks: Sequence[tuple[str, Callable]] = ()) -> Path:
    """Train the base model (`base`) or a uniform-width variant (a name in `cfg.trained_variants`) from scratch.

    Starts from `cfg.model.weights` for the base model when it is set; with `model.base: weights` that checkpoint is
    the base model, taken as it is (`yoloslim.train.from_weights.take_base`).

    Args:
        cfg (Config): The study.
        model (str): `base` or the name of a trained variant.
        callbacks (Sequence[tuple[str, Callable]]): Extra Ultralytics trainer callbacks `(event, function)`.

    Returns:
        (Path): `runs/<config>/train/<model>/`.
    """
    if model == "base" and cfg.model.base == "weights":
        return take_base(cfg)  # the user's trained detector: evaluated, not retrained
    paths = StudyPaths.of(cfg)
    key = stage_key(cfg, "train", model)  # KeyError naming the models to train when `model` is none of them
    variant = {v.name: v for v in cfg.trained_variants}.get(model)
    scale = variant.width_scale if variant else 1.0
    imgsz = (variant.imgsz if variant else None) or cfg.train.imgsz
    nc = len(cfg.data.names)
    weights = cfg.model.weights if model == "base" else None  # model.base: train, starting from these weights

    def build() -> nn.Module:
        net = build_model(cfg, nc, scale)
        if weights:
            net.load(load_trainable(weights))
        return net

    job = TrainJob(
        stage=paths.train(model).dir,
        name=model,
        trainer=YoloTrainer,
        build=build,
        args=train_args(cfg, imgsz),
        key=key,
        inputs={"weights": Path(weights)} if weights else {},
        callbacks=list(callbacks),
        precise_bn=cfg.train.precise_bn,
    )
    return run_training(job)


def summary_table(cfg: Config) -> pd.DataFrame:
    """One row per trained model of the train stage (base and variants that exist): size, time, val mAP."""
    paths = StudyPaths.of(cfg)
    labels = {"base": cfg.base_label, **{v.name: v.label for v in cfg.train.variants}}
    rows = []
    for name, label in labels.items():
        if paths.train(name).metrics.is_file():
            m = read_metrics(paths.train(name).dir)
            rows.append(
                {
                    "model": name,
                    "label": label,
                    "imgsz": m["imgsz"],
                    "epochs": m["epochs"],
                    "params_m": m["params"] / 1e6,
                    "train_min": m["train_seconds"] / 60,
                    **m["val"],
                }
            )
    return pd.DataFrame(rows)
