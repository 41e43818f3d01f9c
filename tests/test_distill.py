"""Distillation during fine-tuning (`finetune.distill`, `finetune.compare`): Ultralytics' distillation teaches a pruned
student through our fine-tune trainer, its resume and its DDP workers; the `-longer` recipe gets the epochs a distilled
step's measured cost buys; the report says which recipe won at equal cost. Every family's pruned student learning from
its unpruned model: test_prune.py (v5, v8) and test_families.py (YOLO11, YOLO26), on the models they prune."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import write_params
from helpers.models import load_without_yoloslim
from helpers.training import Interrupt, interrupt_after_first_epoch, rebuilt_in_worker
from ultralytics.nn.distill_model import DistillationModel
from yoloslim.config import Config, ConfigError, load_config
from yoloslim.measure.bootstrap import INTERVAL_METRICS
from yoloslim.models.build import build_model, conv_channels
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import StudyPaths
from yoloslim.report.recipes import recipe_sentences, recipe_table
from yoloslim.stages import stage_key
from yoloslim.study import finetune_jobs, study_models
from yoloslim.train import recipes
from yoloslim.train.finetune import PrunedTrainer, finetune_job, run_finetune
from yoloslim.train.runner import read_metrics


def test_distilled_finetune_resumes_and_saves_the_pruned_student(smoke_cfg: Config, pruned: dict[str, int]) -> None:
    """A `-distill` model trains through PrunedTrainer with the sparse model as teacher, resumes after an interruption,
    and its weights.pt is the pruned student alone, loaded by plain YOLO(path) in a Python without yoloslim."""
    smoke_cfg.finetune.compare, smoke_cfg.finetune.epochs = ["small"], 2
    teacher = build_model(smoke_cfg, nc=3)
    save_checkpoint(teacher, StudyPaths.of(smoke_cfg).sparse.weights, train_args={"imgsz": smoke_cfg.train.imgsz})
    with pytest.raises(Interrupt):
        run_finetune(smoke_cfg, "small-distill", callbacks=[("on_model_save", interrupt_after_first_epoch)])
    stage = run_finetune(smoke_cfg, "small-distill")
    log = (stage / "train.log").read_text()
    assert "Resuming training DistillationModel" in log and "dis_loss" in log
    metrics = read_metrics(stage)
    assert metrics["teacher"] == "sparse" and metrics["epochs"] == 2 and metrics["channels"] == pruned
    assert load_without_yoloslim([str(stage / "weights.pt")], stage)[str(stage / "weights.pt")]
    ckpt = torch.load(stage / "weights.pt", weights_only=False)
    assert type(ckpt["model"]).__name__ == "DetectionModel" and conv_channels(ckpt["model"]) == pruned


def test_longer_recipe_trains_for_the_measured_cost(
    smoke_cfg: Config, pruned: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-longer` trains finetune.epochs x the measured step cost, measured once (kept in cost.json) and reused while
    the student and teacher are the same, so a resumed job keeps its epochs."""
    smoke_cfg.finetune.compare, smoke_cfg.finetune.epochs = ["small"], 3
    save_checkpoint(build_model(smoke_cfg, nc=3), StudyPaths.of(smoke_cfg).sparse.weights)
    job = finetune_job(smoke_cfg, "small-longer")
    cost = json.loads(StudyPaths.of(smoke_cfg).finetune("small", "longer").cost.read_text())
    assert cost["distill_s"] > 0 and cost["plain_s"] > 0 and cost["ratio"] >= 1 and cost["rounds"] == recipes.ROUNDS
    assert job.args["epochs"] == cost["epochs"] == math.ceil(3 * cost["ratio"])
    assert cost["batches"] == math.ceil(len(StudyPaths.of(smoke_cfg).data.split_list("train").read_text().split())
                                        / smoke_cfg.train.batch)  # fmt: skip
    assert "distill_model" not in job.args  # no teacher: the same recipe, longer

    def unexpected(*_: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(recipes, "step_seconds", unexpected)
    assert finetune_job(smoke_cfg, "small-longer").args["epochs"] == cost["epochs"]


def test_distilled_trainer_reaches_a_ddp_worker(
    smoke_cfg: Config, pruned: dict[str, int], tmp_path, monkeypatch
) -> None:
    """Each DDP worker gets the teacher as Ultralytics' `distill_model` argument and builds the same wrapper."""
    import ultralytics.utils.dist as dist

    monkeypatch.setattr(dist, "USER_CONFIG_DIR", tmp_path)
    smoke_cfg.finetune.distill, smoke_cfg.finetune.teacher, smoke_cfg.finetune.distill_weight = True, "base", 2.5
    teacher = StudyPaths.of(smoke_cfg).train("base").weights
    save_checkpoint(build_model(smoke_cfg, nc=3), teacher, train_args={"imgsz": smoke_cfg.train.imgsz})
    _, worker = rebuilt_in_worker(finetune_job(smoke_cfg, "small"))
    assert type(worker) is PrunedTrainer and conv_channels(worker.model) == pruned
    assert worker.args.distill_model == str(teacher) and worker.args.dis == 2.5
    worker.model.args = worker.args
    wrapped = DistillationModel(worker.args.distill_model, worker.model)
    assert conv_channels(wrapped.student_model) == pruned and len(wrapped.projector) == 3


def test_settings_are_checked_and_keys_of_plain_finetunes_kept(tmp_path) -> None:
    plain = load_config(write_params(tmp_path, {"name": "plain"}))
    cfg = load_config(write_params(tmp_path, {"name": "cmp", "finetune": {"compare": ["small"], "teacher": "base"}}))
    assert stage_key(cfg, "finetune", "small") == stage_key(plain, "finetune", "small")  # the recipe's key unchanged
    assert finetune_jobs(cfg)["small-distill"] == ("small", "distill") and "small-longer" in finetune_jobs(cfg)
    assert stage_key(cfg, "finetune", "small-distill")["finetune"]["distill"] == {"teacher": "base", "weight": 6.0}
    labels = {m.id: m.label for m in study_models(cfg)}
    assert labels["small-distill"] == "nas_0.15(small) distill"
    distilled = load_config(write_params(tmp_path, {"name": "dist", "finetune": {"distill": True}}))
    assert stage_key(distilled, "finetune", "small") != stage_key(plain, "finetune", "small")
    for finetune, message in [({"compare": ["huge"]}, "finetune.compare"), ({"distill_weight": 0}, "distill_weight"),
                              ({"distill": True, "compare": ["small"]}, "empty when finetune.distill is on"),
                              ({"teacher": "half"}, "finetune.teacher")]:  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            load_config(write_params(tmp_path, {"name": "bad", "finetune": finetune}))


def _recipe_data(cfg: Config, accuracy: dict[str, float], distill_minus_longer: float) -> SimpleNamespace:
    """Report data of the three fine-tunes of `small`: their accuracy, the cost record, and bootstrap replicates whose
    distill - longer difference is centred on `distill_minus_longer` with a spread of 0.01."""
    rows = [{"model": m, "split": "test", "class": "all", "mAP50-95": v} for m, v in accuracy.items()]
    draws = np.random.default_rng(0).normal(0, 0.01, 200)
    shape = (200, len(cfg.data.names) + 1, len(INTERVAL_METRICS))
    reps = {m: np.full(shape, v) for m, v in accuracy.items()}
    reps["small-distill"] = reps["small-longer"] + distill_minus_longer + draws[:, None, None]
    cost = {"plain_s": 0.2, "distill_s": 0.3, "ratio": 1.5, "epochs": 23, "batches": 30, "teacher": "sparse"}
    labels = {m.id: m.label for m in study_models(cfg)}
    return SimpleNamespace(cfg=cfg, accuracy=pd.DataFrame(rows), costs={"small": cost}, labels=labels,
                           replicates={"test": reps}, models=study_models(cfg),
                           table=pd.DataFrame(columns=["model"]))  # no latency: no Pareto verdicts  # fmt: skip


@pytest.mark.parametrize(
    ("distill", "verdict"),
    [(0.68, "**Distillation won** at equal cost: 0.030"), (0.62, "**Training longer won** at equal cost: 0.030"),
     (0.651, "Neither won at equal cost")],
)  # fmt: skip
def test_report_says_which_recipe_won_at_equal_cost(tmp_path, distill: float, verdict: str) -> None:
    cfg = load_config(write_params(tmp_path, {"name": "cmp", "finetune": {"compare": ["small"], "epochs": 15}}))
    accuracy = {"base": 0.75, "small": 0.60, "small-longer": 0.65, "small-distill": distill}
    data = _recipe_data(cfg, accuracy, distill - 0.65)
    (sentence,) = recipe_sentences(data, "test", "en")
    assert "today's recipe (15 epochs) scored -0.150 against the base model" in sentence
    assert "training longer (23 epochs: a distilled step costs 1.50× a plain one) added +0.050 to it" in sentence
    assert verdict in sentence
    table = recipe_table(data, "test")
    assert list(table["epochs"]) == [15, 23, 15]
    # cost: seconds per step x 30 batches x epochs
    assert np.allclose(table["cost (min)"], [0.2 * 30 * 15 / 60, 0.2 * 30 * 23 / 60, 0.3 * 30 * 15 / 60])
    assert table.loc["nas_0.15(small) longer", "− today's recipe"] == "+0.050 [+0.050, +0.050]"  # paired draws
