"""One stage key decides every rerun: a changed setting rewrites exactly the key files of the jobs that read it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from yoloslim.config import ROOT, load_config
from yoloslim.stages import stage_key, stage_sections, write_stage_params

SMOKE = yaml.safe_load((ROOT / "params" / "smoke.yaml").read_text())
TRAINED = {"train_base", "train_half"}
FINETUNED = {"finetune_large", "finetune_small", "finetune_small-seed1"}  # smoke: small fine-tuned twice
PRUNED = {"prune_large", "prune_small"}
EVALUATED = {f"eval_{m}" for m in ("base", "sparse", "large", "small", "half", "half_lowres")}

# (path in the params file, new value) -> the jobs whose key file changes, besides the report (which prints it all)
CHANGES = [
    (("train", "workers"), 4, set()),  # where it runs, not what it learns
    (("train", "device"), "0", set()),
    (("train", "epochs"), 2, TRAINED | {"sparse"} | FINETUNED),
    # prune exports and validates at it, and the models not trained at their own size are evaluated at it
    (
        ("train", "imgsz"),
        96,
        TRAINED | {"sparse"} | FINETUNED | PRUNED | (EVALUATED | {"eval_tables"}) - {"eval_half_lowres"},
    ),
    (("train", "variants", 0, "imgsz"), 96, {"train_half", "eval_half", "eval_tables"}),
    (("train", "variants", 1, "imgsz"), 96, {"eval_half_lowres", "eval_tables"}),  # evaluated only
    (("model", "cfg"), "yolov8n.yaml", TRAINED | {"sparse", "eval_base", "eval_tables"}),  # the base's label
    (("data", "split"), [0.7, 0.2, 0.1], {"data"}),
    (("data", "names"), ["a", "b", "c"], {"data", "eval_tables"} | PRUNED | EVALUATED),
    (("sparse", "sl"), 0.1, {"sparse"}),
    (("prune", "thresholds", "small"), 0.2, {"prune_small", "eval_small", "eval_tables"}),  # its label names it
    (("prune", "round_to"), 16, PRUNED | {"train_half"}),  # a variant's width is aligned to it
    (("prune", "attention"), "heads", {"sparse"} | PRUNED),  # it decides which gammas the sparse L1 acts on
    (("finetune", "epochs"), 2, FINETUNED),
    (("finetune", "scratch_epochs"), 3, set()),  # read by re-initialized models only: none here, nothing reruns
    (("eval", "conf"), 0.4, EVALUATED | {"eval_tables"}),
    (("eval", "target_latency"), "60ms", {"eval_tables"}),  # applied by the tables stage only
    (("eval", "bootstrap"), 100, {"eval_tables"}),
    (("eval", "decode"), {}, EVALUATED | {"eval_tables"}),  # unset (automatic) it is in no key: older keys hold
    (("report", "lang"), "zh", set()),
]


def changed_params(folder: Path, path: tuple, value: Any) -> Path:
    """params/smoke.yaml with one value changed, written to `folder`."""
    data = copy.deepcopy(SMOKE)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    out = folder / "smoke.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


@pytest.mark.parametrize(("path", "value", "jobs"), CHANGES, ids=[".".join(map(str, c[0])) for c in CHANGES])
def test_a_changed_setting_rewrites_exactly_the_keys_that_hold_it(out_root: Path, path, value, jobs) -> None:
    first = write_stage_params(load_config(ROOT / "params" / "smoke.yaml"))
    stamp = {job: (file.stat().st_mtime_ns, file.read_text()) for job, file in first.items()}
    second = write_stage_params(load_config(changed_params(out_root, path, value)))
    assert set(second) == set(first)
    changed = {job for job, file in second.items() if file.read_text() != stamp[job][1]}
    assert changed == jobs | {"report"}
    assert all(second[job].stat().st_mtime_ns == stamp[job][0] for job in second if job not in changed)


def test_decode_in_the_eval_keys(out_root: Path) -> None:
    """`eval.decode` unset: the synthetic set's eval keys are those written before it existed; a user's data set's
    say that nothing is decoded (its models, evaluated when every class was, are evaluated again)."""
    synthetic = load_config(ROOT / "params" / "smoke.yaml")
    user = load_config(changed_params(out_root, ("data", "root"), str(out_root)))
    for stage, item in [("eval", "base"), ("eval_tables", "")]:
        assert "decode" not in stage_key(synthetic, stage, item)["eval"]
        assert stage_key(user, stage, item)["eval"]["decode"] == {}


def leaves(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every scalar or list-of-scalars setting of a resolved config, with its path."""
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in leaves(value, (*path, key))]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [leaf for i, value in enumerate(data) for leaf in leaves(value, (*path, i))]
    return [(path, data)]


def perturbed(value: Any) -> Any:
    """Another value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "_changed"
    if isinstance(value, list):
        return [*value, *value[:1]] if value else ["changed"]
    return "changed" if value is None else None


NAMED = {("prune", "random"): ["small"], ("prune", "compare"): ["small"], ("finetune", "init"): ["inherit", "scratch"],
         ("finetune", "compare"): ["small"], ("finetune", "teacher"): "base"}  # fmt: skip


def set_in(cfg: Any, path: tuple, value: Any) -> None:
    """Set the setting at `path` (attributes, list indices, dict keys) of a Config in place."""
    node = cfg
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) or isinstance(node, dict) else getattr(node, part)
    if isinstance(node, (dict, list)):
        node[path[-1]] = value
    else:
        setattr(node, path[-1], value)


def test_every_setting_is_in_some_stage_key() -> None:
    """No setting is silently ignored: changing any one changes the key of a stage besides the report, unless it
    only describes the run (where it runs, the study's name, the report's own settings)."""
    cfg = load_config(ROOT / "params" / "smoke.yaml")
    before = stage_sections(cfg)
    report_only = {("name",), ("train", "device"), ("train", "workers")}
    report_only.add(("train", "variants", 1, "width_scale"))  # half_lowres: validated equal to half's, read by none
    report_only.add(("train", "variants", 1, "same_as"))  # its eval job's input: the weights file it names
    report_only.add(("prune", "fractions" if cfg.prune.policy == "threshold" else "thresholds"))  # the other policy's
    if "scratch" not in cfg.finetune.init:  # read by re-initialized models only
        report_only.add(("finetune", "scratch_epochs"))
    if not cfg.finetune.distill and not cfg.finetune.compare:  # the teacher's settings, read by distilled models only
        report_only |= {("finetune", "teacher"), ("finetune", "distill_weight")}
    if cfg.finetune.seeds < 2:  # which models are trained again: read only when they are
        report_only.add(("finetune", "seeded"))
    if not cfg.latency_targets():  # the latency search's settings, read by latency targets only
        report_only |= {("prune", "engine"), ("prune", "margin")}
    ignored = []
    for path, value in leaves(before["report"]):
        if path[0] == "report" or any(path[: len(p)] == p for p in report_only):
            continue
        changed = copy.deepcopy(cfg)
        set_in(changed, path, NAMED.get(path, perturbed(value)))
        after = stage_sections(changed)
        if all(before.get(job) == after.get(job) for job in before.keys() | after.keys() if job != "report"):
            ignored.append(".".join(map(str, path)))
    assert not ignored, f"in no stage's key: {ignored}"
