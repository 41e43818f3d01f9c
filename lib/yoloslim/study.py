"""The models a study compares, named once for the pipeline, the evaluation and the report.

base            the trained base model               runs/<c>/train/base/weights.pt
sparse          after L1 sparse training             runs/<c>/sparse/weights.pt
<variant>       uniform-width baselines (1/2, ...)   runs/<c>/train/<variant>/weights.pt
<target>        pruned + fine-tuned (inherit)        runs/<c>/finetune/<target>/weights.pt
                (a threshold or fraction, or a latency budget of prune.targets, searched)
<target>-scratch  pruned + re-initialized            runs/<c>/finetune/<target>-scratch/weights.pt
<target>-random   the random-selection control       runs/<c>/finetune/<target>-random/weights.pt
                  (prune.random: the same kept counts per layer, channels chosen at random)
<target>-tp_magnitude, <target>-tp_bnscale             runs/<c>/finetune/<target>-tp_*/weights.pt
                  (prune.compare: Torch-Pruning's pruners at the target's GFLOPs)
<target>-distill  taught by the unpruned model      runs/<c>/finetune/<target>-distill/weights.pt
<target>-longer   no teacher, trained longer         runs/<c>/finetune/<target>-longer/weights.pt
                  (finetune.compare: the fine-tune recipes at equal cost, yoloslim.train.recipes)
<model>-seed<i>   a fine-tuned model trained again   runs/<c>/finetune/<model>-seed<i>/weights.pt
                  with seed train.seed + i (finetune.seeds, seeded): not a model of the report, but a run whose
                  accuracy puts the spread between trainings into <model>'s intervals (yoloslim.measure.seeds); a
                  random control's run also draws its channels again (prune/<target>-random-seed<i>/)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yoloslim.config import Config
from yoloslim.paths import WEIGHTS, StudyPaths

RANDOM_SUFFIX = "-random"  # the random-selection control of a prune target: `<target>-random`
TP_METHODS = ("tp_magnitude", "tp_bnscale")  # Torch-Pruning's pruners of prune.compare (yoloslim.prune.tp)
RECIPES = ("distill", "longer")  # finetune.compare's fine-tunes besides the recipe's: `<target>-distill`, `-longer`
SEED_SUFFIX = "-seed"  # a fine-tune trained again with another seed: `<model>-seed<i>` (finetune.seeds)


@dataclass(frozen=True)
class StudyModel:
    """One model of the study: its id (folder name), report label, kind, weights and image size."""

    id: str
    label: str
    kind: Literal["base", "sparse", "variant", "pruned", "random", "alternative"]
    weights: Path
    imgsz: int


def study_models(cfg: Config) -> list[StudyModel]:
    """Every model the study evaluates, in report order: base, sparse, pruned, variants."""
    paths = StudyPaths.of(cfg)
    base_label = cfg.base_label
    models = [
        StudyModel("base", base_label, "base", paths.train("base").weights, cfg.train.imgsz),
        StudyModel("sparse", "sl", "sparse", paths.sparse.weights, cfg.train.imgsz),
    ]
    for model_id, (prune_id, init) in finetune_jobs(cfg).items():
        target, selection = prune_jobs(cfg)[prune_id]
        folder = paths.finetune(model_id).dir
        suffix = "" if init == "inherit" else f" {init}"
        if selection == "random":
            label, kind = f"random_{_value_label(cfg, target)}({target})", "random"
        elif selection in TP_METHODS:  # Torch-Pruning's pruner at the target's GFLOPs
            label, kind = f"{selection.replace('_', '-')}({target})", "alternative"
        else:
            label, kind = f"{_prefix(cfg, target)}_{_value_label(cfg, target)}({target}){suffix}", "pruned"
        models.append(StudyModel(model_id, label, kind, folder / WEIGHTS, cfg.train.imgsz))
    for v in cfg.train.variants:
        weights = paths.train(v.weights_of).weights  # an eval-only variant (same_as) evaluates another's weights
        models.append(StudyModel(v.name, v.label, "variant", weights, v.imgsz or cfg.train.imgsz))
    return models


def _prefix(cfg: Config, target: str) -> str:
    """The label prefix of a pruned model: nas (threshold), frac (fraction), lat (latency budget) or flops (FLOPs
    budget)."""
    if target in cfg.latency_targets():
        return "lat"
    if target in cfg.flops_targets():
        return "flops"
    return "nas" if cfg.prune.policy == "threshold" else "frac"


def _value_label(cfg: Config, target: str) -> str:
    """A target's value as its label shows it: 0.01, 0.5, 0.5x, 20ms, 0.5G."""
    value = cfg.target_value(target)
    return value.replace(" ", "") if isinstance(value, str) else f"{value:g}"


def prune_jobs(cfg: Config) -> dict[str, tuple[str, str]]:
    """Pruned-structure id (its folder under prune/) -> (prune target, channel selection).

    Selection `gamma` keeps the channels of largest |gamma|; `random` (the `<target>-random` control of
    `prune.random`) keeps as many per layer, chosen at random.
    """
    jobs = {target: (target, "gamma") for target in cfg.target_names()}
    jobs |= {f"{target}{RANDOM_SUFFIX}": (target, "random") for target in cfg.prune.random}
    jobs |= {f"{target}-{method}": (target, method) for target in cfg.prune.compare for method in TP_METHODS}
    redrawn = {  # a random control trained again draws its channels again
        f"{prune_id}{SEED_SUFFIX}{i}": jobs[prune_id]
        for model_id, (prune_id, _) in finetune_jobs(cfg).items()
        if jobs[prune_id][1] == "random" and _seeded(cfg, model_id)
        for i in range(1, cfg.finetune.seeds)
    }
    return jobs | redrawn


def prune_job(cfg: Config, prune_id: str) -> tuple[str, str]:
    """The (prune target, channel selection) of a pruned-structure id; KeyError naming the study's ids if none."""
    jobs = prune_jobs(cfg)
    if prune_id not in jobs:
        raise KeyError(f"{cfg.source}: no prune target '{prune_id}'; targets: {', '.join(jobs)}")
    return jobs[prune_id]


def finetune_jobs(cfg: Config, replicas: bool = False) -> dict[str, tuple[str, str]]:
    """Fine-tuned model id (`<target>`, `<target>-scratch`, `<target>-random`, `<target>-distill`, ...) ->
    (pruned-structure id, init); with `replicas`, also each run trained again with another seed (`seed_runs`): the
    fine-tune jobs, which the pipeline runs, rather than the models, which the report compares.

    The init is how the fine-tune starts (`inherit`, `scratch`) or, for the targets of `finetune.compare`, the other
    recipe it is trained with (`distill`, `longer`: RECIPES, both from the inherited weights). A random control is
    fine-tuned from its inherited weights only: re-initialized, it would be the same architecture from scratch as its
    target's `-scratch` model.
    """
    jobs = {}
    for target in cfg.target_names():
        for init in cfg.finetune.init:
            jobs[target if init == "inherit" else f"{target}-{init}"] = (target, init)
    jobs |= {f"{target}{RANDOM_SUFFIX}": (f"{target}{RANDOM_SUFFIX}", "inherit") for target in cfg.prune.random}
    for target in cfg.prune.compare:
        jobs |= {f"{target}-{method}": (f"{target}-{method}", "inherit") for method in TP_METHODS}
    for prune_id in cfg.finetune.compare:
        jobs |= {f"{prune_id}-{recipe}": (prune_id, recipe) for recipe in RECIPES}
    if not replicas:
        return jobs
    runs = {}
    for model_id, (prune_id, init) in jobs.items():
        for i, run in enumerate(seed_runs(cfg, model_id)[1:], start=1):
            redrawn = prune_id.endswith(RANDOM_SUFFIX)  # its channels drawn again (`prune_jobs`)
            runs[run] = (f"{prune_id}{SEED_SUFFIX}{i}" if redrawn else prune_id, init)
    return jobs | runs


def job_epochs(cfg: Config, model_id: str) -> int:
    """The epochs of fine-tune job `model_id`: `Config.finetune_epochs` of its init and its prune target."""
    prune_id, init = finetune_jobs(cfg, replicas=True)[model_id]
    return cfg.finetune_epochs(init, prune_job(cfg, prune_id)[0])


def job_priorities(cfg: Config) -> tuple[dict[str, int], dict[str, int]]:
    """Snakemake priorities of the prune and fine-tune jobs: (prune id -> priority, fine-tune job -> priority).

    The longest fine-tune starts first: by its epochs (`job_epochs`), then by its structure's expected size (a
    lower threshold or fraction keeps more channels; a latency or FLOPs target's size is unknown until it is searched,
    so it counts as the smallest). Trainings run two at a time, and longest-first packs them best: the demo's 60-epoch
    `small` and its largest structure `large` had started last, with a core idle for 4 minutes at the end
    (docs/calibration.md, "The demo"). A prune job takes the priority of the first fine-tune it feeds. Every
    priority is at least 1, above the evaluations' 0.
    """
    jobs = finetune_jobs(cfg, replicas=True)
    values = cfg.prune_targets()

    def cost(model_id: str) -> tuple[int, float]:
        target = prune_job(cfg, jobs[model_id][0])[0]
        return job_epochs(cfg, model_id), -values.get(target, float("inf"))

    finetune = {model_id: 1 + rank for rank, model_id in enumerate(sorted(jobs, key=cost))}
    prune: dict[str, int] = {}
    for model_id, (prune_id, _) in jobs.items():
        prune[prune_id] = max(prune.get(prune_id, 1), finetune[model_id])
    return prune, finetune


def seed_runs(cfg: Config, model_id: str) -> list[str]:
    """The fine-tunes of one model, one per seed (`finetune.seeds`): the model itself, then `<model>-seed1`, ...;
    only the model for a model outside `finetune.seeded` or one that is not fine-tuned."""
    if not _seeded(cfg, model_id):
        return [model_id]
    return [model_id, *(f"{model_id}{SEED_SUFFIX}{i}" for i in range(1, cfg.finetune.seeds))]


def seed_of(item: str) -> int:
    """The seed offset of a fine-tune or prune job (`small-seed2` -> 2); 0 for the first run."""
    match = re.search(rf"{SEED_SUFFIX}(\d+)$", item)
    return int(match[1]) if match else 0


def _seeded(cfg: Config, model_id: str) -> bool:
    """Whether a fine-tuned model is trained `finetune.seeds` times (`finetune.seeded`; empty: every one)."""
    if cfg.finetune.seeds < 2 or model_id not in finetune_jobs(cfg):
        return False
    return not cfg.finetune.seeded or model_id in cfg.finetune.seeded


def teacher_weights(cfg: Config, init: str) -> Path | None:
    """The checkpoint that teaches a fine-tune of this init (`finetune.teacher`: the sparse or the base model), or
    None for a fine-tune without a teacher: every fine-tune distills with `finetune.distill`, else only `distill`."""
    if not (cfg.finetune.distill or init == "distill"):
        return None
    paths = StudyPaths.of(cfg)
    return paths.sparse.weights if cfg.finetune.teacher == "sparse" else paths.train("base").weights


def find_model(cfg: Config, model_id: str) -> StudyModel:
    """The study model with this id; a clear error lists the valid ids."""
    models = {m.id: m for m in study_models(cfg)}
    if model_id not in models:
        raise KeyError(f"{cfg.source}: no model '{model_id}' in this study; models: {', '.join(models)}")
    return models[model_id]
