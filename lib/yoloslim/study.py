"""The models a study compares, named once for the pipeline, the evaluation and the report.

    base            the trained base model               runs/<c>/train/base/weights.pt
    sparse          after L1 sparse training             runs/<c>/sparse/weights.pt
    <variant>       uniform-width baselines (1/2, ...)   runs/<c>/train/<variant>/weights.pt
    <target>        pruned + fine-tuned (inherit)        runs/<c>/finetune/<target>/weights.pt
    <target>-scratch  pruned + re-initialized            runs/<c>/finetune/<target>-scratch/weights.pt
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yoloslim.config import Config
from yoloslim.paths import WEIGHTS, StudyPaths


@dataclass(frozen=True)
class StudyModel:
    """One model of the study: its id (folder name), report label, kind, weights and image size."""

    id: str
    label: str
    kind: Literal["base", "sparse", "variant", "pruned"]
    weights: Path
    imgsz: int


def study_models(cfg: Config) -> list[StudyModel]:
    """Every model the study evaluates, in report order: base, sparse, pruned, variants."""
    paths = StudyPaths.of(cfg)
    base_label = Path(cfg.model.cfg).stem
    models = [
        StudyModel("base", base_label, "base", paths.train("base") / WEIGHTS, cfg.train.imgsz),
        StudyModel("sparse", "sl", "sparse", paths.sparse / WEIGHTS, cfg.train.imgsz),
    ]
    prefix = "nas" if cfg.prune.policy == "threshold" else "frac"
    for target, value in cfg.prune_targets().items():
        for init in cfg.finetune.init:
            folder = paths.finetune(target, init)
            label = f"{prefix}_{value:g}({target})" + ("" if init == "inherit" else f" {init}")
            models.append(StudyModel(folder.name, label, "pruned", folder / WEIGHTS, cfg.train.imgsz))
    for v in cfg.variants:
        models.append(StudyModel(v.name, v.label, "variant", paths.train(v.name) / WEIGHTS, v.imgsz or cfg.train.imgsz))
    return models


def find_model(cfg: Config, model_id: str) -> StudyModel:
    """The study model with this id; a clear error lists the valid ids."""
    models = {m.id: m for m in study_models(cfg)}
    if model_id not in models:
        raise KeyError(f"{cfg.source}: no model '{model_id}' in this study; models: {', '.join(models)}")
    return models[model_id]
