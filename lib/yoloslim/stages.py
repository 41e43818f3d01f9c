"""Each stage's own slice of the configuration, written where Snakemake sees it change.

Snakemake reruns a job when one of its input files changes. Every stage therefore gets one small
file, `runs/<config>/params/<stage>.yaml`, holding exactly the settings that change that stage's
result, and the file is rewritten only when its content differs. Editing one prune threshold changes
only `prune_<target>.yaml` (and the eval key of that model, whose label names the threshold), so
Snakemake reruns that model's prune, then its fine-tune and eval through their changed inputs, then
the tables and the report. Upstream results reach a stage as input files
(weights, data.yaml), so a key holds only what the stage itself reads from the config.

    stage               key: settings it holds
    data                data
    train_base          model, train
    train_<variant>     model, train, that variant, prune.round_to (the width is aligned to it)
    sparse              model, train, sparse
    prune_<id>          train, prune (policy, alignment, importance, fold_beta), that target's value and the
                        channel selection (gamma, or random for a `<target>-random` control); a latency
                        target adds its engine and eval.latency (the search times candidates)
    finetune_<id>       train, finetune (epochs, lr0) and that model's init
    eval_<id>           data.names, train, eval (but the latency budget) and that model's entry (id, label,
                        kind, imgsz)
    eval_tables         data.names, eval (the budget included) and the list of models
    report              the whole resolved configuration (the report prints it and its hash)

Notebooks load the whole resolved configuration, `runs/<config>/config.yaml`, so every stage sees the
same values whichever key it is cached by. Known approximation: the sparse stage logs the fraction of
gammas under each prune target, but its key leaves the targets out (changing a threshold must not
rerun sparse training), so that log column keeps the value of the threshold it was trained with.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from yoloslim.config import Config
from yoloslim.eval.metrics import METRICS as ACCURACY_METRICS
from yoloslim.paths import StudyPaths
from yoloslim.study import finetune_jobs, prune_jobs, study_models


def eval_measurement(cfg: Config) -> dict[str, Any]:
    """What every model's evaluation depends on in the config (not the budget or the bootstrap, which the tables
    stage applies), with the accuracy metrics it computes: a new metric reruns every model's evaluation."""
    return {**cfg.eval.measurement(), "metrics": list(ACCURACY_METRICS)}


def stage_sections(cfg: Config) -> dict[str, dict[str, Any]]:
    """Stage name -> the settings that change its result (the content of its params file)."""
    train = cfg.section("train")
    base = {"model": cfg.section("model"), "train": train}
    sections: dict[str, dict[str, Any]] = {"data": {"data": cfg.section("data")}, "train_base": base}
    for variant, raw in zip(cfg.variants, cfg.section("variants"), strict=True):
        if variant.same_as is not None:
            continue  # evaluated only: its eval key holds its image size and weights
        sections[f"train_{variant.name}"] = {**base, "variant": raw, "prune": {"round_to": cfg.prune.round_to}}
    sections["sparse"] = {**base, "sparse": cfg.section("sparse")}
    per_target = ("thresholds", "fractions", "random", "compare", "targets", "engine", "margin")
    prune = {k: v for k, v in cfg.section("prune").items() if k not in per_target}
    for prune_id, (target, selection) in prune_jobs(cfg).items():
        value = cfg.target_value(target)
        sections[f"prune_{prune_id}"] = {
            "train": train,
            "prune": {**prune, "target": target, "value": value, "selection": selection},
        }
        if target in cfg.latency_targets():  # searched: timed on the engine, with the eval stage's timing settings
            search = {"engine": cfg.prune.engine, "margin": cfg.prune.margin, "latency": asdict(cfg.eval.latency)}
            sections[f"prune_{prune_id}"]["search"] = search
    finetune = {k: v for k, v in cfg.section("finetune").items() if k != "init"}
    for model_id, (_, init) in finetune_jobs(cfg).items():
        sections[f"finetune_{model_id}"] = {"train": train, "finetune": {**finetune, "init": init}}
    models = study_models(cfg)
    entries = [{"id": m.id, "label": m.label, "kind": m.kind, "imgsz": m.imgsz} for m in models]
    names = {"names": list(cfg.data.names)}
    measurement = eval_measurement(cfg)
    for entry in entries:
        sections[f"eval_{entry['id']}"] = {"data": names, "train": train, "eval": measurement, "model": entry}
    sections["eval_tables"] = {"data": names, "eval": cfg.section("eval"), "models": entries}
    sections["report"] = resolved_config(cfg)
    return sections


def resolved_config(cfg: Config) -> dict[str, Any]:
    """The whole configuration as plain data that `load_config` reads back to an equal Config."""
    return {k: v for k, v in cfg.to_dict().items() if k != "source"}


def write_if_changed(path: Path, data: dict[str, Any]) -> bool:
    """Write `data` as YAML to `path` unless the file already holds exactly that; True if written."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def config_file(cfg: Config) -> Path:
    """`runs/<config>/config.yaml`: the resolved configuration every stage notebook loads."""
    return StudyPaths.of(cfg).run / "config.yaml"


def write_stage_params(cfg: Config) -> dict[str, Path]:
    """Write the resolved config and every stage's params file (each only if changed); stage -> path."""
    paths = StudyPaths.of(cfg)
    write_if_changed(config_file(cfg), resolved_config(cfg))
    written = {}
    for stage, data in stage_sections(cfg).items():
        path = paths.stage_params(stage)
        write_if_changed(path, data)
        written[stage] = path
    return written
