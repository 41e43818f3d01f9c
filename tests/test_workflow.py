"""The Snakemake workflow: the jobs a study expands to, the SLURM executor, and the per-stage cache keys."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import THREE_TARGETS, write_params
from helpers.workflow import dry_run, job_counts
from yoloslim.config import ROOT, ConfigError, load_config
from yoloslim.jobs.gpu_slots import claim_gpus
from yoloslim.stages import stage_sections
from yoloslim.study import study_models


def test_dry_run_smoke_lists_every_stage(out_root: Path) -> None:
    out = dry_run(ROOT / "params" / "smoke.yaml")
    assert job_counts(out) == {
        "data": 1, "train": 1, "train_variant": 1, "sparse": 1, "prune": 2, "finetune": 3, "eval_model": 6,
        "eval_tables": 1,
        "report": 1, "all": 1,
    }  # fmt: skip
    for executed in ["01_data", "02_train_half", "04_prune_small", "05_finetune_large", "05_finetune_small-seed1",
                     "06_eval_sparse",
                     "06_eval_half_lowres", "06_eval_tables", "07_report"]:  # fmt: skip
        assert f"runs/smoke/notebooks/{executed}.ipynb" in out
    assert (out_root / ".snakemake").is_dir()  # metadata next to runs/, not in the repository


def test_dry_run_scratch_init_and_gpu_resources(out_root: Path) -> None:
    prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
    params = write_params(out_root, {"name": "gpu", "finetune": {"init": ["inherit", "scratch"]},
                                     "train": {"device": "0,1"}, "prune": prune})  # fmt: skip
    out = dry_run(params, "--resources", "gpu=2", "--printshellcmds")
    counts = job_counts(out)  # 3 targets x 2 inits, the random control of middle (inherited weights only)
    assert (counts["prune"], counts["finetune"], counts["eval_model"]) == (4, 8, 11)  # and small-seed1 (smoke.yaml)
    assert "finetune/small-scratch/weights.pt" in out and "finetune/middle-random/weights.pt" in out
    assert "middle-random-scratch" not in out and "prune/middle-random/weights.pt" in out
    assert re.search(r"rule finetune:.*?resources: [^\n]*gpu=2", out, flags=re.S)
    assert re.search(r"-m yoloslim.jobs.gpu_slots 2 -- \S+/papermill .*05_finetune.ipynb", out)


def test_dry_run_slurm_executor(out_root: Path) -> None:
    """The same workflow through snakemake-executor-plugin-slurm, with the example profile (no sbatch needed)."""
    out = dry_run(ROOT / "params" / "smoke.yaml", "--profile", str(ROOT / "workflow" / "profiles" / "slurm"))
    assert "This was a dry-run" in out and job_counts(out)["eval_model"] == 6
    assert "slurm_partition=" in out


def test_stage_sections_hold_only_their_settings(tmp_path: Path) -> None:
    scratch = {"train": {"epochs": 3}, "finetune": {"init": ["inherit", "scratch"]}}
    params = write_params(tmp_path, {"name": "keys", **scratch})
    sections = stage_sections(load_config(params))
    assert set(sections["sparse"]) == {"model", "train", "sparse", "prune"}
    assert sections["sparse"]["prune"] == {"attention": "intact"}  # which gammas the L1 acts on; no threshold
    assert sections["prune_small"]["prune"]["value"] == 0.15 and "thresholds" not in sections["prune_small"]["prune"]
    assert sections["finetune_small-scratch"]["finetune"]["init"] == "scratch"
    assert sections["finetune_small"]["finetune"]["init"] == "inherit"
    # re-initialized, a structure trains as long as the base model (finetune.scratch_epochs: None); inherited: finetune
    assert [sections[f"finetune_{m}"]["finetune"]["epochs"] for m in ("small-scratch", "small")] == [3, 1]
    assert sections["train_half"]["variant"]["width_scale"] == 0.5 and "variant" not in sections["train_base"]
    assert "train_half_lowres" not in sections and sections["eval_half_lowres"]["model"]["imgsz"] == 32
    assert sections["report"]["name"] == "keys"  # the report prints the whole config


def test_stage_params_cli(out_root: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "yoloslim.cli", "stage-params", ROOT / "params" / "smoke.yaml"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert re.search(r"changed\s+prune_small\s+\S+/runs/smoke/params/prune_small.yaml", done.stdout)
    again = subprocess.run([sys.executable, "-m", "yoloslim.cli", "stage-params", ROOT / "params" / "smoke.yaml"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert not re.search(r"^changed", again.stdout, flags=re.M) and "unchanged prune_small" in again.stdout


def test_gpu_slots_give_concurrent_jobs_different_devices(tmp_path: Path) -> None:
    from contextlib import ExitStack

    with ExitStack() as first, ExitStack() as second:
        a = claim_gpus(1, ["0", "1"], first, tmp_path)
        b = claim_gpus(1, ["0", "1"], second, tmp_path)
        assert a != b
    with ExitStack() as again:
        assert claim_gpus(2, ["0", "1"], again, tmp_path) == ["0", "1"]  # released when the jobs ended


def test_an_eval_only_variant_evaluates_the_weights_it_names(out_root: Path) -> None:
    """The demo's `1/2_128` (same_as: half) is not trained: it evaluates 1/2's weights at 128 px."""
    cfg = load_config(ROOT / "params" / "demo.yaml")
    models = {m.id: m for m in study_models(cfg)}
    assert models["half_lowres"].weights == models["half"].weights
    assert (models["half_lowres"].imgsz, models["half"].imgsz) == (128, 160)
    sections = stage_sections(cfg)
    assert "train_half" in sections and "train_half_lowres" not in sections
    assert sections["eval_half_lowres"]["model"]["imgsz"] == 128
    counts = job_counts(dry_run(ROOT / "params" / "demo.yaml"))
    assert (counts["train"], counts["train_variant"], counts["eval_model"]) == (1, 1, 8)


def test_same_as_must_name_a_trained_variant_of_the_same_width(out_root: Path) -> None:
    for variants, message in [
        ([{"name": "a", "same_as": "b"}], r"variants\[0\].same_as' must be the name of a trained variant"),
        ([{"name": "a"}, {"name": "b", "same_as": "a", "width_scale": 0.25}], r"variants\[1\].width_scale"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(write_params(out_root, {"train": {"variants": variants}}))


def test_bench_study_plans_every_alternative(out_root: Path) -> None:
    """`make bench`'s study: the budget search, both Torch-Pruning pruners, the controls (random selection, and each
    yoloslim structure re-initialized for the base model's epochs), and the fine-tune recipes of large and small at
    equal cost (distilled, longer), trained once each."""
    counts = job_counts(dry_run(ROOT / "params" / "bench.yaml"))
    assert (counts["prune"], counts["prune_latency"], counts["finetune"], counts["eval_model"]) == (6, 1, 15, 19)
    cfg = load_config(ROOT / "params" / "bench.yaml")
    labels = {m.label for m in study_models(cfg)}
    assert {"lat_0.5x(fast)", "tp-magnitude(large)", "tp-bnscale(large)", "random_0.1(middle)", "yolov5n_96"} <= labels
    assert {"nas_0.1(middle) scratch", "lat_0.5x(fast) scratch"} <= labels
    assert {"nas_0.01(large) distill", "nas_0.01(large) longer", "nas_0.15(small) distill"} <= labels
    assert stage_sections(cfg)["finetune_middle-scratch"]["finetune"]["epochs"] == cfg.train.epochs == 30


def test_int8_budget_study_searches_and_judges_on_openvino_int8(out_root: Path) -> None:
    """`params/int8_budget.yaml` (#23's acceptance run): one budget search timed on OpenVINO INT8, judged there, and
    every model's INT8 export calibrated on no more images than the training split holds."""
    cfg = load_config(ROOT / "params" / "int8_budget.yaml")
    assert cfg.prune.engine == cfg.eval.target_engine == "openvino_cpu_int8"
    assert (cfg.prune.targets, cfg.eval.target_latency) == ({"fast": {"latency": "0.5x"}}, "0.5x")
    train_images = cfg.data.synth.images * cfg.data.split[0] / sum(cfg.data.split)
    assert cfg.quant.calib_images <= train_images
    counts = job_counts(dry_run(ROOT / "params" / "int8_budget.yaml"))
    assert (counts["prune"], counts["prune_latency"], counts["finetune"], counts["eval_model"]) == (1, 1, 2, 4)
