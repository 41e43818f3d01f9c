"""Intervals that include the spread between trainings (finetune.seeds): the runs a study trains, the two-level
bootstrap that draws one run per model and draw, the variance component of the models trained once, and Holm's
adjustment of the summary's verdicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_params
from yoloslim.config import load_config
from yoloslim.measure.bootstrap import holm, interval, p_value
from yoloslim.measure.seeds import run_spread, with_runs
from yoloslim.stages import stage_key
from yoloslim.study import finetune_jobs, job_epochs, job_priorities, prune_jobs, seed_of, seed_runs, study_models


def test_a_seeded_study_trains_each_run_once_and_reports_the_model_once(tmp_path: Path) -> None:
    params = {"prune": {"thresholds": {"large": 0.01, "small": 0.15}, "random": ["small"]},
              "finetune": {"seeds": 3, "seeded": ["small", "small-random"]}}  # fmt: skip
    cfg = load_config(write_params(tmp_path, params))
    jobs = finetune_jobs(cfg, replicas=True)
    assert jobs["small-seed2"] == ("small", "inherit")  # the same pruned structure, trained again
    assert jobs["small-random-seed1"] == ("small-random-seed1", "inherit")  # a random control draws again
    assert "large-seed1" not in jobs and prune_jobs(cfg)["small-random-seed2"] == ("small", "random")
    assert seed_runs(cfg, "small") == ["small", "small-seed1", "small-seed2"] and seed_runs(cfg, "large") == ["large"]
    assert [m.id for m in study_models(cfg) if "seed" in m.id] == []  # runs are not models of the report
    assert seed_of("small-random-seed2") == 2 and seed_of("small") == 0
    # each run has its own seed in its key; the first run's key is what it is without seeds
    assert stage_key(cfg, "finetune", "small-seed2")["finetune"]["seed"] == cfg.train.seed + 2
    (tmp_path / "plain").mkdir()
    unseeded = load_config(write_params(tmp_path / "plain", {"prune": params["prune"]}))
    assert stage_key(cfg, "finetune", "small") == stage_key(unseeded, "finetune", "small")
    assert stage_key(cfg, "prune", "small-random-seed1")["train"]["seed"] == cfg.train.seed + 1
    assert stage_key(cfg, "eval", "small")["runs"] == ["small-seed1", "small-seed2"]
    assert "runs" not in stage_key(cfg, "eval", "large")


def test_a_target_fine_tuned_longer_takes_its_control_and_runs_along_and_rekeys_only_them(tmp_path: Path) -> None:
    """finetune.target_epochs: the target's fine-tune, its random control and every seeded run of both train that long;
    the other targets keep finetune.epochs, and their keys do not change."""
    prune = {"thresholds": {"large": 0.01, "small": 0.15}, "random": ["small"]}
    finetune = {"epochs": 30, "seeds": 2, "seeded": ["small", "small-random"]}
    longer_small = {**finetune, "target_epochs": {"small": 60}}
    cfg = load_config(write_params(tmp_path, {"prune": prune, "finetune": longer_small}))
    (tmp_path / "plain").mkdir()
    plain = load_config(write_params(tmp_path / "plain", {"prune": prune, "finetune": finetune}))
    longer = ["small", "small-seed1", "small-random", "small-random-seed1"]
    epochs = {m: job_epochs(cfg, m) for m in finetune_jobs(cfg, replicas=True)}
    assert epochs == {**dict.fromkeys(longer, 60), "large": 30}
    for model in longer:
        assert stage_key(cfg, "finetune", model)["finetune"]["epochs"] == 60 != job_epochs(plain, model)
    assert stage_key(cfg, "finetune", "large") == stage_key(plain, "finetune", "large")


def test_the_longest_fine_tune_and_its_prune_job_go_first(tmp_path: Path) -> None:
    """job_priorities: the demo's shape (small 60 epochs; large, middle and middle's control and runs 30): small
    first, then large (the lowest threshold keeps the most channels), then middle's structures; every prune job as
    high as the first fine-tune it feeds, and all above the evaluations' 0."""
    params = {"prune": {"thresholds": {"large": 0.01, "middle": 0.10, "small": 0.15}, "random": ["middle"]},
              "finetune": {"epochs": 30, "target_epochs": {"small": 60}, "seeds": 3,
                           "seeded": ["middle", "middle-random"]}}  # fmt: skip
    cfg = load_config(write_params(tmp_path, params))
    prune, finetune = job_priorities(cfg)
    assert set(finetune) == set(finetune_jobs(cfg, replicas=True)) and set(prune) == set(prune_jobs(cfg))
    order = sorted(finetune, key=finetune.get, reverse=True)
    assert order[:2] == ["small", "large"] and min(finetune.values()) >= 1
    assert len(set(finetune.values())) == len(finetune)  # a strict order: no tie left to the scheduler
    assert prune["small"] == finetune["small"] > prune["large"] == finetune["large"] > prune["middle"]
    assert prune["middle"] == max(finetune[m] for m in ("middle", "middle-seed1", "middle-seed2"))
    assert prune["middle-random-seed2"] == finetune["middle-random-seed2"]


def test_the_random_control_trained_again_draws_its_channels_with_another_seed(tmp_path: Path) -> None:
    from yoloslim.prune.target import prune_options

    cfg = load_config(write_params(tmp_path, {"finetune": {"seeds": 2}, "prune": {"random": ["small"]}}))
    assert prune_options(cfg, "random", seed_of("small-random-seed1"))["seed"] == cfg.train.seed + 1
    assert prune_options(cfg, "random", seed_of("small-random"))["seed"] == cfg.train.seed


def test_each_draw_takes_one_run_of_a_seeded_model_and_the_others_get_the_measured_spread() -> None:
    draws = 4000
    rng = np.random.default_rng(0)
    image = rng.normal(0, 0.01, (draws, 1, 1))  # the images' part, shared by every model (paired)
    reps = {"small": 0.60 + image, "small-seed1": 0.66 + image, "base": 0.70 + image}
    runs = {"small": ["small", "small-seed1"]}
    spread = run_spread({"small": [np.array([[0.60]]), np.array([[0.66]])]})
    assert spread is not None and spread[0, 0] == pytest.approx(np.std([0.60, 0.66], ddof=1))
    out = with_runs(reps, runs, spread, seed=1)
    assert set(out) == {"small", "base"}  # the run is folded into its model
    values = out["small"][:, 0, 0] - image[:, 0, 0]
    assert set(np.round(values, 6)) == {0.60, 0.66} and 0.4 < np.mean(values > 0.63) < 0.6  # each run half the time
    base = out["base"][:, 0, 0] - image[:, 0, 0]
    assert np.std(base) == pytest.approx(spread[0, 0], rel=0.05)  # the component, as measured
    lo, hi = interval(out["small"] - out["base"])
    assert lo[0, 0] < -0.10 and hi[0, 0] > -0.02  # far wider than the images' part alone
    lo_images, hi_images = interval(reps["small"] - reps["base"])
    assert hi_images[0, 0] - lo_images[0, 0] < 1e-9  # paired by image: the same images cancel
    assert with_runs(reps, {}, None)["base"] is reps["base"]  # nothing measured: image intervals only
    near_one = with_runs({"base": np.full((draws, 1, 1), 0.98)}, {}, np.array([[0.05]]), seed=2)["base"]
    assert near_one.max() == 1.0 and near_one.min() >= 0.98 - 0.05 * 5  # a metric never leaves [0, 1]


def test_the_pooled_spread_leaves_out_undefined_values_and_single_runs() -> None:
    a = [np.array([[0.5, np.nan]]), np.array([[0.7, np.nan]])]
    b = [np.array([[0.4, 0.2]]), np.array([[0.4, 0.4]]), np.array([[0.4, 0.3]])]
    spread = run_spread({"a": a, "b": b, "once": [np.array([[0.9, 0.9]])]})
    assert spread[0, 0] == pytest.approx(np.sqrt((0.02 + 0.0) / (1 + 2)))  # squares over degrees of freedom
    assert spread[0, 1] == pytest.approx(0.1)  # b's runs only
    assert run_spread({"once": [np.array([[0.9]])]}) is None


def test_holm_adjusts_step_down_and_p_values_follow_the_standard_error() -> None:
    assert holm([0.01, 0.04, 0.03, float("nan")])[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm([float("nan")])[0])
    rng = np.random.default_rng(0)
    assert p_value(rng.normal(0.0, 1.0, 5000)) > 0.05 and p_value(rng.normal(3.0, 1.0, 5000)) < 0.01


def test_the_models_trained_once_get_the_spread_of_fine_tune_seeds_not_of_random_draws(tmp_path: Path) -> None:
    """The pooled spread comes from the seeded models selected by gamma; a random control's runs also redraw its
    channels, so they are left out of it (and with only a random control seeded there is no component, said so)."""
    from types import SimpleNamespace

    from yoloslim.eval.stage import _retrained_values
    from yoloslim.measure.bootstrap import INTERVAL_METRICS
    from yoloslim.report.verdicts import intervals_sentence

    params = {"prune": {"thresholds": {"small": 0.15}, "random": ["small"]},
              "finetune": {"seeds": 2, "seeded": ["small", "small-random"]}}  # fmt: skip
    cfg = load_config(write_params(tmp_path, params))

    def record(model: str, values: list[float]) -> dict:
        runs = [{"test": {"all": {"mAP50-95": v}}} for v in values]
        return {
            "model": model,
            "accuracy": runs[0],
            "seed_runs": {f"{model}-seed{i}": a for i, a in enumerate(runs[1:], 1)},
        }

    records = [record("small", [0.80, 0.82]), record("small-random", [0.70, 0.50])]
    values = _retrained_values(cfg, records, "test", [])
    assert set(values) == {"small"}
    j = INTERVAL_METRICS.index("mAP50-95")
    assert run_spread(values)[-1, j] == pytest.approx(np.std([0.80, 0.82], ddof=1))  # not pooled with 0.70, 0.50
    assert _retrained_values(cfg, records[1:], "test", []) == {}

    labels = {"small": "S", "small-random": "R"}
    seeds = {"seeds": 2, "runs": {"small-random": ["small-random", "small-random-seed1"]},
             "mAP50-95": {"small-random": {"test": [0.70, 0.50]}}, "spread": {"test": None}}  # fmt: skip
    accuracy = pd.DataFrame({"split": ["test"]})
    data = SimpleNamespace(seeds=seeds, labels=labels, models=study_models(cfg), accuracy=accuracy)
    assert "no component: only random controls" in intervals_sentence(data, "en")
    seeds["spread"] = {"test": {"mAP50-95": 0.014}}
    assert "standard deviation (0.014 all-class mmAP) as a variance component" in intervals_sentence(data, "en")
