"""What each stage's result depends on: `stage_key`, the one definition every rerun decision reads.

A stage's key is the settings that change its result; its inputs (the data set, upstream weights) reach it as
files, whose digests complete the key. These places read it:

- Snakemake: `write_stage_params` writes each job's key to `runs/<config>/params/<stage>[_<item>].yaml`, rewritten
  only when it changes; a job reruns when its key file or an input file changed.
- The training runner (`yoloslim.train.runner`): a training stage whose `params.json` holds the same key and input
  digests is not run again, whether Snakemake or a notebook opened by hand calls it.
- The evaluation (`yoloslim.eval.stage`): a model's `metrics.json` holds the key and weights digest it was made with.
- The data, prune and eval-tables stages: their `params.json` holds the key and input digests their outputs were made
  from (`yoloslim.uptodate`), so a stage notebook run by hand on a finished study writes nothing.
- The synthetic data set (`yoloslim.data.split.ensure_synthetic`): its stamp is the renderer's part of the data key
  (`data.synth` and the renderer's version), so a split setting changed re-splits without rendering again.

    stage        item             key: settings it holds
    data         -                data (and the synthetic renderer's version)
    train        base, a variant  model, the training recipe; a variant adds itself and prune.round_to (its width
                                  is aligned to it)
    sparse       -                model, the training recipe, sparse, and prune.attention (which gammas get the L1)
    prune        a prune job id   prune (policy, alignment, importance, fold_beta), that target's value and channel
                                  selection; train.imgsz and train.seed, data.names; a latency target adds its
                                  engine, margin and eval.latency (the search times candidates)
    finetune     a model id       the training recipe, finetune (lr0, nbs), that model's init and its epochs, and
                                  its teacher (finetune.teacher, distill_weight) when distilled; a run trained
                                  again (`<model>-seed<i>`) adds its seed
    eval         a model id       data.names, eval (but what the tables stage applies) with the accuracy metrics,
                                  and that model's entry (id, label, kind, imgsz); a seeded model adds its runs
    eval_tables  -                data.names, eval (budget and bootstrap included) and the list of models, and
                                  finetune.seeds and seeded when a model is trained more than once
                                  (eval.decode, in both, when set or resolved to none: `_decode_key`)
    report       -                the whole resolved configuration (the report prints it and its hash)

The training recipe is the `train` section without `device` and `workers` (where it runs, not what it learns) and
without `variants` (each variant has its own key). The sparse stage logs every |gamma| per epoch, not fractions under
the prune targets, so a threshold edited after sparse training changes only the prune stage's key.

Not a stage: the decode-rate ceiling (`eval/gt_decodable.json`) is a memo keyed by everything that computation reads
(its split's image fingerprint, margin, zxing-cpp version), so it is never stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from yoloslim.atomic import write_text
from yoloslim.config import Config, decode_classes
from yoloslim.paths import StudyPaths
from yoloslim.shared import ACCURACY_METRICS, SYNTH_VERSION
from yoloslim.study import (
    finetune_jobs,
    job_epochs,
    prune_job,
    prune_jobs,
    seed_of,
    seed_runs,
    study_models,
    teacher_weights,
)

UNKEYED_TRAIN = ("device", "workers", "variants")  # train settings that do not change a stage's result
# per model: its own init, teacher, recipe and seed
UNKEYED_FINETUNE = ("init", "scratch_epochs", "target_epochs", "distill", "teacher", "distill_weight", "compare",
                    "seeds", "seeded")  # fmt: skip
PER_TARGET = ("thresholds", "fractions", "random", "compare", "targets", "engine", "margin")  # prune: one job's own


def stage_key(cfg: Config, stage: str, item: str = "") -> dict[str, Any]:
    """The settings that change `stage`'s result for `item`. See the module docstring.

    Args:
        cfg (Config): The study.
        stage (str): data, train, sparse, prune, finetune, eval, eval_tables or report.
        item (str): The job's item: a model, target or variant; "" for single jobs.

    Returns:
        (dict[str, Any]): The key.

    Raises:
        KeyError: For an unknown stage or an item the study does not have.
    """
    names = {"names": list(cfg.data.names)}
    if stage == "data":
        return {"data": cfg.section("data"), "synth_version": SYNTH_VERSION}
    if stage == "train":
        return _train_key(cfg, item)
    if stage == "sparse":
        attention = {"attention": cfg.prune.attention}  # which BatchNorms get the L1 (yoloslim.models.attention)
        return {"model": cfg.section("model"), "train": training_recipe(cfg), "sparse": cfg.section("sparse"),
                "prune": attention}  # fmt: skip
    if stage == "prune":
        return _prune_key(cfg, item)
    if stage == "finetune":
        return _finetune_key(cfg, item)
    if stage == "eval":
        entry = {e["id"]: e for e in _model_entries(cfg)}[item]
        measurement = {**cfg.eval.measurement(), **_decode_key(cfg), "metrics": list(ACCURACY_METRICS)}
        runs = {"runs": seed_runs(cfg, item)[1:]} if seed_runs(cfg, item)[1:] else {}
        return {"data": names, "eval": measurement, "quant": cfg.section("quant"), "model": entry, **runs}
    if stage == "eval_tables":
        quant = cfg.section("quant")
        seeds = {"seeds": cfg.finetune.seeds, "seeded": cfg.finetune.seeded} if cfg.finetune.seeds > 1 else {}
        return {"data": names, "eval": {**cfg.eval.keyed(), **_decode_key(cfg)}, "quant": quant,
                "models": _model_entries(cfg), **({"finetune": seeds} if seeds else {})}  # fmt: skip
    if stage == "report":
        return resolved_config(cfg)
    raise KeyError(f"no stage '{stage}'")


def stage_jobs(cfg: Config) -> list[tuple[str, str]]:
    """Every (stage, item) job of the study, in pipeline order."""
    jobs = [("data", ""), ("train", "base"), *(("train", v.name) for v in cfg.trained_variants), ("sparse", "")]
    jobs += [("prune", i) for i in prune_jobs(cfg)] + [("finetune", i) for i in finetune_jobs(cfg, replicas=True)]
    return jobs + [("eval", m.id) for m in study_models(cfg)] + [("eval_tables", ""), ("report", "")]


def job_name(stage: str, item: str = "") -> str:
    """A job's name: its stage, and its item when it has one (`prune_small`, `train_base`, `eval_tables`)."""
    return f"{stage}_{item}" if item else stage


def stage_sections(cfg: Config) -> dict[str, dict[str, Any]]:
    """Job name -> its stage key (the content of its params file)."""
    return {job_name(stage, item): stage_key(cfg, stage, item) for stage, item in stage_jobs(cfg)}


def training_recipe(cfg: Config) -> dict[str, Any]:
    """The `train` settings every training stage learns with (see UNKEYED_TRAIN for those left out)."""
    return {k: v for k, v in cfg.section("train").items() if k not in UNKEYED_TRAIN}


def _train_key(cfg: Config, model: str) -> dict[str, Any]:
    """The base model's key, or a trained variant's (its settings and the alignment of its width)."""
    base = {"model": cfg.section("model"), "train": training_recipe(cfg)}
    if model == "base":
        return base
    variants = {v.name: asdict(v) for v in cfg.trained_variants}
    if model not in variants:
        raise KeyError(f"{cfg.source}: no model '{model}' to train; choose base or one of {', '.join(variants)}")
    return {**base, "variant": variants[model], "prune": {"round_to": cfg.prune.round_to}}


def _finetune_key(cfg: Config, model_id: str) -> dict[str, Any]:
    """One fine-tune's key: the training recipe, lr0 and nbs, its init and epochs, and its teacher when one teaches
    it (a `-longer` model: the teacher whose step cost sets its epochs). Without a teacher the key is what it was
    before distillation existed."""
    _, init = finetune_jobs(cfg, replicas=True)[model_id]
    finetune = {k: v for k, v in cfg.section("finetune").items() if k not in UNKEYED_FINETUNE}
    finetune |= {"epochs": job_epochs(cfg, model_id), "init": init}
    if teacher_weights(cfg, init) is not None:
        finetune["distill"] = {"teacher": cfg.finetune.teacher, "weight": cfg.finetune.distill_weight}
    elif init == "longer":
        finetune["cost_of"] = {"teacher": cfg.finetune.teacher}
    if seed_of(model_id):  # another run of a seeded model: its own seed (the first run's key is unchanged)
        finetune["seed"] = cfg.train.seed + seed_of(model_id)
    return {"train": training_recipe(cfg), "finetune": finetune}


def _prune_key(cfg: Config, prune_id: str) -> dict[str, Any]:
    """One prune job's key: the shared prune settings, its own target and selection, and what it reads elsewhere."""
    target, selection = prune_job(cfg, prune_id)
    shared = {k: v for k, v in cfg.section("prune").items() if k not in PER_TARGET}
    key = {
        "data": {"names": list(cfg.data.names)},
        "train": {"imgsz": cfg.train.imgsz, "seed": cfg.train.seed + seed_of(prune_id)},
        "prune": {**shared, "target": target, "value": cfg.target_value(target), "selection": selection},
    }
    if target in cfg.flops_targets():  # the same value as a latency budget must not give the same key
        key["prune"]["budget"] = "flops"
    if target in cfg.latency_targets():  # searched: timed on the engine, with the eval stage's timing settings
        key["search"] = {"engine": cfg.prune.engine, "margin": cfg.prune.margin, "latency": asdict(cfg.eval.latency)}
    return key


def _decode_key(cfg: Config) -> dict[str, Any]:
    """`eval.decode` resolved where the eval keys need it: {} when unset and off (a user's data set), so that its
    models, evaluated when every class was decoded, are evaluated again; nothing when unset on the synthetic set (its
    decoding is what it was: keys written before `eval.decode` existed hold) or when set (`EvalConfig.keyed` has it)."""
    return {"decode": {}} if cfg.eval.decode is None and not decode_classes(cfg) else {}


def _model_entries(cfg: Config) -> list[dict[str, Any]]:
    """The study's models as the eval keys name them."""
    return [{"id": m.id, "label": m.label, "kind": m.kind, "imgsz": m.imgsz} for m in study_models(cfg)]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits): an input fingerprint for the stage cache."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def data_digest(data_yaml: Path) -> str:
    """Fingerprint of a data.yaml and the image-list files it names (train, val, test)."""
    if not data_yaml.is_file():
        raise FileNotFoundError(f"{data_yaml}: data.yaml not found; run the data stage first")
    text = data_yaml.read_text()
    data = yaml.safe_load(text) or {}
    root = Path(data.get("path") or data_yaml.parent)
    root = root if root.is_absolute() else data_yaml.parent / root
    h = hashlib.sha256(text.encode())
    for split in ("train", "val", "test"):
        value = data.get(split)
        for item in value if isinstance(value, list) else [value]:
            path = root / str(item) if item else None  # an absolute item stays absolute
            if path is not None and path.is_file():
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def resolved_config(cfg: Config) -> dict[str, Any]:
    """The whole configuration as plain data that `load_config` reads back to an equal Config."""
    return {k: v for k, v in cfg.to_dict().items() if k != "source"}


def write_if_changed(path: Path, data: dict[str, Any]) -> bool:
    """Write `data` as YAML to `path` unless the file already holds exactly that; True if written."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if path.is_file() and path.read_text() == text:
        return False
    write_text(path, text)
    return True


def write_stage_params(cfg: Config) -> dict[str, Path]:
    """Write the resolved config and every job's key file (each only if changed); job name -> path."""
    paths = StudyPaths.of(cfg)
    write_if_changed(paths.config, resolved_config(cfg))
    written = {}
    for job, key in stage_sections(cfg).items():
        path = paths.stage_params(job)
        write_if_changed(path, key)
        written[job] = path
    return written
