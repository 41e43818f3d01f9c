"""The whole smoke study through Snakemake: report, caching, one changed threshold, a failing stage.

One test, in steps that build on each other (each step needs the finished study of the one before). The study is
params/smoke.yaml without its width variants: their training, evaluation at another size and rows in the report
are tested stage by stage (test_train.py, test_eval.py, test_report.py) and planned by test_workflow.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import file_listing, write_params
from helpers.models import load_in_fresh_process
from helpers.workflow import SNAKEMAKE, job_counts
from yoloslim.config import ROOT, load_config
from yoloslim.jobs.faults import fault_env, free_space
from yoloslim.jobs.reliability import message_last
from yoloslim.paths import StudyPaths
from yoloslim.report.build import find_browser, network_loads
from yoloslim.shared import fractions_under
from yoloslim.stages import file_digest, stage_key
from yoloslim.study import study_models
from yoloslim.train.sparse import run_sparse

HEADINGS = ["1 Preparation", "1.1 Environment", "1.2 Data set", "2 Pruning", "2.1 Sparse training",
            "2.2.1 Sparsity distribution", "2.2.2 Pruning ratio", "2.3 Fine-tuning: validation set", "2.4.1 Test set",
            "2.4.2 Size, parameters, speed and FLOPs", "2.4.3 Engines and precision", "3 Summary"]  # fmt: skip


def snakemake(params: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the workflow on 1 core with outputs under `out`; stdout and stderr together.

    One core, so one job of one thread at a time: the other pytest worker has the other core. On 2 cores shared with
    it, a job of two OpenMP threads stalls at every barrier while one of them waits for a core.
    """
    return subprocess.run(
        [SNAKEMAKE, "--cores", "1", "--printshellcmds", "--config", f"params={params}", *extra],
        cwd=ROOT, env={**os.environ, "YOLOSLIM_OUT": str(out)}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def study_params(folder: Path) -> Path:
    """The end-to-end study's params file in `folder`: params/smoke.yaml (the same name) without its width variants
    and with one prune target, `small`: the plumbing of a second target and of the variants is the same, and other
    tests cover them (test_workflow's dry runs, test_train, test_eval, test_report)."""
    return write_params(folder, {"train": {"variants": []}, "prune": {"thresholds": {"small": 0.15}}})


def check_report(out: Path, params: Path, pdf_note: str) -> None:
    """The smoke report: every section, every model in the tables, numbers equal to the results files; the PDF where
    Chromium is installed, else `pdf_note` (the workflow's output) says how to get it."""
    cfg = load_config(params)
    html = (out / "reports" / "smoke" / "report.html").read_text(encoding="utf-8")
    for heading in HEADINGS:
        assert f">{heading}" in html, heading
    val = html[html.index(">2.3 Fine-tuning") : html.index(">2.4 Results")]
    accuracy = pd.read_csv(out / "runs" / "smoke" / "eval" / "accuracy.csv")
    for model in study_models(cfg):
        row = re.search(rf"<th>{re.escape(model.label)}</th>(.*?)</tr>", val, flags=re.S)
        assert row, model.label
        cells = re.findall(r"<td>(.*?)</td>", row.group(1))
        expected = accuracy[
            (accuracy["model"] == model.id) & (accuracy["split"] == "val") & (accuracy["class"] == "all")
        ]
        value, bounds = cells[-1].split(" ")  # all classes, mmAP [its 95 % bootstrap interval]
        assert value == f"{expected['mAP50-95'].iloc[0]:.3f}"
        assert bounds == f"[{expected['mAP50-95_lo'].iloc[0]:.3f},{expected['mAP50-95_hi'].iloc[0]:.3f}]"
    assert "bootstrap resamples of the images" in val
    assert html.count("data:image/png;base64") >= 8 and not network_loads(html)
    assert "Not measured on this machine" in html  # no CUDA here: torch_cuda latency
    summary = html[html.index(">3 Summary") :]
    assert "not sparse" in summary  # one sparse epoch moves no gamma under 0.01: the report says so
    assert "include the spread between trainings, measured: nas_0.15(small): " in summary  # its two runs' mmAP
    assert "Holm&#x27;s adjustment" in summary or "Holm's adjustment" in summary
    assert "Σ lr·sl" in html and "params/seed.yaml" in html  # the L1 budget next to the original study's
    if find_browser():
        assert (out / "reports" / "smoke" / "report.pdf").stat().st_size > 10_000
    else:
        assert "report.pdf not written: Chromium is not installed" in pdf_note


def check_training_notebooks(out: Path) -> None:
    """The executed 02_train (base) and 05_finetune (small) notebooks: training output kept out of the notebook and
    in train.log, metrics, figures, and weights that plain Ultralytics loads, the fine-tuned with the pruned shape."""
    paths = StudyPaths(run=out / "runs" / "smoke", report_dir=out / "reports" / "smoke")
    base, finetuned, pruned = paths.train("base"), paths.finetune("small"), paths.prune("small")
    metrics = json.loads(base.metrics.read_text())
    assert metrics["model"] == "base" and metrics["imgsz"] == 64 and metrics["epochs"] == 1
    assert set(metrics["val"]) == {"mAP50", "mAP50-95"} and metrics["params"] > 1e5
    assert {"epoch", "metrics/mAP50(B)", "metrics/mAP50-95(B)"} <= set(pd.read_csv(base.results).columns)
    log = base.log.read_text()
    assert "Starting training for 1 epochs" in log and "1/1" in log  # Ultralytics' LOGGER and the epoch bar
    for executed in (paths.notebook("02_train_base"), paths.notebook("05_finetune_small")):
        text = executed.read_text()
        assert "Starting training" not in text and "box_loss" not in text  # the training output stayed out
        assert executed.stat().st_size < 200_000
    tuned = json.loads(finetuned.metrics.read_text())
    assert tuned["init"] == "inherit" and finetuned.log.is_file()
    for stage in (base, finetuned):
        assert stage.figure("learning_curves").stat().st_size > 5000
    weights = (base.weights, paths.sparse.weights, pruned.weights, finetuned.weights)
    loaded_base, loaded_sparse, loaded_pruned, loaded_tuned = load_in_fresh_process(*weights)
    assert loaded_base["task"] == loaded_sparse["task"] == "detect" and loaded_base["channels"]["model.0.conv"] == 16
    assert loaded_tuned["channels"] == loaded_pruned["channels"] == tuned["channels"]
    check_seed_runs(paths)


def check_seed_runs(paths: StudyPaths) -> None:
    """small is fine-tuned twice (finetune.seeds: 2): the second run trained with its own seed from the same pruned
    structure, validated beside the first, and its spread in every model's interval."""
    first, again = json.loads(paths.finetune("small").metrics.read_text()), paths.finetune("small-seed1")
    assert json.loads(again.metrics.read_text())["channels"] == first["channels"]
    assert file_digest(again.weights) != file_digest(paths.finetune("small").weights)  # another seed, other weights
    record = json.loads(paths.eval("small").metrics.read_text())
    assert (
        set(record["seed_runs"]) == {"small-seed1"} and paths.eval("small").detections("test", "small-seed1").is_file()
    )
    seeds = json.loads(paths.eval_tables.seeds.read_text())
    assert seeds["runs"] == {"small": ["small", "small-seed1"]} and "base" in seeds["component"]
    runs = seeds["mAP50-95"]["small"]["test"]
    assert runs[0] == record["accuracy"]["test"]["all"]["mAP50-95"] and len(runs) == 2
    assert seeds["spread"]["test"]["mAP50-95"] == pytest.approx(abs(runs[0] - runs[1]) / 2**0.5)


def check_prune_stage(out: Path) -> None:
    """The executed 04_prune (small): its tables, figures, ONNX export and checks, and metrics."""
    paths = StudyPaths(run=out / "runs" / "smoke", report_dir=out / "reports" / "smoke")
    pruned = paths.prune("small").dir
    for name in ("weights.pt", "weights.onnx", "figures/sparsity.png", "figures/gamma_hist.png"):
        assert (pruned / name).stat().st_size > 0, name
    layers = pd.read_csv(pruned / "layers.csv")
    assert list(layers.columns) == ["layer", "part", "original", "kept", "pruned_threshold", "align_delta", "note"]
    assert (layers["kept"] % 8 == 0).all() and set(layers["part"]) == {"backbone", "head"}
    assert list(pd.read_csv(pruned / "ratios.csv")["part"]) == ["backbone", "head", "overall"]
    metrics = json.loads((pruned / "metrics.json").read_text())
    assert metrics["value"] == 0.15 and metrics["params_after"] <= metrics["params_before"]
    for key in ("val_fold", "val_nofold"):
        assert set(metrics[key]) == {"mAP50", "mAP50-95"} and 0 <= metrics[key]["mAP50"] <= 1
    check = metrics["onnx_check"]
    assert check["aligned"] is True and check["misaligned"] == [] and "|onnx - torch|" in check["tolerance"]
    assert check["outputs_match"] is True  # ONNX Runtime agrees with PyTorch within the tolerance it states
    assert "small" in paths.notebook("04_prune_small").read_text()


def check_sparse_stage(out: Path, params: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The executed 03_sparse: its metrics, gamma logs and figures; and run again by hand after a prune threshold
    (and where it runs) changed, it trains nothing: its params.json holds the stage key of Snakemake's key file."""
    monkeypatch.setenv("YOLOSLIM_OUT", str(out))
    cfg = load_config(params)
    paths = StudyPaths.of(cfg)
    sparse = paths.sparse
    metrics = json.loads(sparse.metrics.read_text())
    assert metrics["sl"] == cfg.sparse.sl and metrics["sl_mloss"] > 0
    under = fractions_under(sparse.gammas, cfg.prune.thresholds)
    assert list(under.columns) == [f"frac_under_{t}" for t in cfg.prune.thresholds] and len(under) == 2
    for name in ("sl_loss", "gamma_epochs", "map"):
        assert sparse.figure(name).stat().st_size > 5000
    assert "box_loss" not in paths.notebook("03_sparse").read_text()
    record = sparse.record.stat().st_mtime_ns
    changed = dataclasses.replace(cfg, prune=dataclasses.replace(cfg.prune, thresholds={"small": 0.3}))
    changed.train = dataclasses.replace(cfg.train, workers=3, device="cpu")
    assert run_sparse(changed) == sparse.dir and sparse.record.stat().st_mtime_ns == record
    key = json.loads(sparse.record.read_text())["key"]["stage"]
    assert key == stage_key(changed, "sparse") == yaml.safe_load(paths.stage_params("sparse").read_text())


def check_notebooks_by_hand(out: Path, params: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stage notebook run by hand on the finished study, as the README invites (papermill into a notebook of
    its own, its default parameters where they name the study's items, the study's params file for `config`):
    each shows its tables and figures, no file under runs/smoke or reports/smoke changes (bytes and modification
    time; the key files Snakemake writes included), and Snakemake then plans nothing."""
    import hashlib

    import papermill

    def files() -> dict[Path, tuple[str, int]]:  # the SHA-256 of each file's bytes (a link's target), its mtime
        found = [p for d in ("runs", "reports") for p in (out / d / "smoke").rglob("*")]
        found = [p for p in found if p.is_file() or p.is_symlink()]
        return {p: (hashlib.sha256(os.readlink(p).encode() if p.is_symlink() else p.read_bytes()).hexdigest(),
                    p.lstat().st_mtime_ns) for p in found}  # fmt: skip

    monkeypatch.setenv("YOLOSLIM_OUT", str(out))
    before = files()
    for stem in ("01_data", "02_train", "03_sparse", "04_prune", "05_finetune", "06_eval", "06_eval_tables",
                 "07_report"):  # fmt: skip
        executed = tmp_path / f"{stem}_by_hand.ipynb"
        config = {"config": str(params)}
        papermill.execute_notebook(str(ROOT / "notebooks" / f"{stem}.ipynb"), str(executed), parameters=config,
                                   kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False)  # fmt: skip
        shown = {kind for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])
                 for kind in o.get("data", {})}  # fmt: skip
        assert "text/html" in shown or "text/markdown" in shown, stem  # its tables
        assert stem == "06_eval" or "image/png" in shown, stem  # its figures (06_eval shows tables only)
        if stem == "01_data":  # the data checks' verdict and the tree of the synthetic set
            assert "No problems found" in executed.read_text() and "qrcode" in executed.read_text()
    plan = snakemake(params, out, "-n")
    assert plan.returncode == 0 and "Nothing to be done" in plan.stdout, plan.stdout[-3000:]
    after = files()
    assert [p for p in before.keys() | after.keys() if before.get(p) != after.get(p)] == []


def corrupt_copy(synth: Path, dest: Path) -> Path:
    """A small copy of the synthetic data set with one malformed label line."""
    for source in sorted((synth / "dmcode").iterdir())[:2]:
        shutil.copytree(source, dest / "dmcode" / source.name)
    label = sorted((dest / "dmcode").rglob("*.txt"))[0]
    label.write_text(label.read_text() + "7 0.5 0.5 0.2\n")
    return label


def make_report(params: Path, out: Path, env: dict[str, str] | None = None, **popen: object) -> subprocess.Popen:
    """The README's command, `make report CONFIG=...` (on one core, as `snakemake` above), with outputs under `out`
    (and `env` added to the environment); stdout and stderr together."""
    return subprocess.Popen(
        ["make", "report", f"CONFIG={params}", "CORES=1"], cwd=ROOT,
        env={**os.environ, "YOLOSLIM_OUT": str(out), **(env or {})},
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen,
    )  # fmt: skip


def check_full_disk(out: Path, params: Path) -> None:
    """The disk fills when the report stage starts (papermill's save of the executed notebook is its first write):
    the run ends with the disk-full message, and once space is freed the same command finishes the report, with
    nothing else run again (yoloslim.jobs.faults simulates the disk; `make reliability` fills a real one)."""
    (out / "reports" / "smoke" / "report.html").unlink()
    full = make_report(params, out, env=fault_env(out, "runs/smoke/notebooks/07_report.ipynb"))
    stdout, _ = full.communicate()
    assert full.returncode != 0 and message_last(stdout), stdout[-3000:]
    assert "rule report" in stdout and str(out / "runs" / "smoke" / "notebooks") in stdout
    free_space(out)
    rerun = make_report(params, out)
    stdout, _ = rerun.communicate()
    assert rerun.returncode == 0 and job_counts(stdout) == {"report": 1, "all": 1}, stdout[-3000:]
    assert (out / "reports" / "smoke" / "report.html").is_file()


def kill_when(proc: subprocess.Popen, ready: Path, timeout: float = 300) -> None:
    """SIGKILL `proc` and everything it started (its process group) as soon as `ready` exists."""
    deadline = time.monotonic() + timeout
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready.exists(), f"{ready} never appeared"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.e2e
def test_smoke_study_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, params = tmp_path / "out", study_params(tmp_path)
    start = time.monotonic()
    # killed with SIGKILL (a crash, an OOM kill) as soon as the base model's training job starts (that a training
    # killed after a checkpoint resumes from it: tests/test_train.py; each stage killed: `make reliability`)
    started = out / "runs" / "smoke" / "notebooks" / "02_train_base.ipynb"
    kill_when(make_report(params, out, start_new_session=True), started)
    assert any((out / ".snakemake" / "locks").iterdir())  # the lock a killed Snakemake leaves behind
    # the same command again: the stale lock is cleared, the killed stage runs again, the study finishes
    rerun = make_report(params, out)
    stdout, _ = rerun.communicate()
    assert rerun.returncode == 0, stdout[-6000:]
    first = time.monotonic() - start
    assert "removed a stale Snakemake lock" in stdout
    assert "rule train:" in stdout and "Epoch" in stdout  # stages and training progress are shown
    check_report(out, params, stdout)
    check_training_notebooks(out)
    check_prune_stage(out)
    check_sparse_stage(out, params, monkeypatch)

    # a finished study reruns nothing: no job runs and no file under runs/ or reports/ is written
    written = {folder: file_listing(out / folder) for folder in ("runs", "reports")}
    again = snakemake(params, out)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout, again.stdout[-3000:]
    assert {folder: file_listing(out / folder) for folder in ("runs", "reports")} == written
    check_notebooks_by_hand(out, params, tmp_path, monkeypatch)
    check_full_disk(out, params)

    # one threshold changed (same study name): only that model's prune, fine-tune and eval, the tables, the report
    data = yaml.safe_load(params.read_text())
    data["prune"]["thresholds"]["small"] = 0.2
    changed = tmp_path / "changed" / "smoke.yaml"
    changed.parent.mkdir()
    changed.write_text(yaml.safe_dump(data))
    plan = snakemake(changed, out, "-n")
    assert job_counts(plan.stdout) == {"prune": 1, "finetune": 2, "eval_model": 1, "eval_tables": 1, "report": 1,
                                       "all": 1}, plan.stdout[-3000:]  # fmt: skip
    jobs = re.findall(r"rule (\w+):\n(?:    .*\n)*?    output: (\S+)", plan.stdout)
    assert {(rule, Path(path).parent.name) for rule, path in jobs if rule in ("prune", "finetune", "eval_model")} == {
        ("prune", "small"), ("finetune", "small"), ("finetune", "small-seed1"), ("eval_model", "small")}  # fmt: skip
    print(f"first run: {first:.0f} s")


def test_a_failing_stage_shows_its_cell_and_keeps_its_notebook(smoke_data_out: Path, tmp_path: Path) -> None:
    """A stage that fails stops the workflow with the failing cell shown and keeps its executed notebook. The study:
    params/smoke.yaml on a copy of part of the session's smoke data with one malformed label."""
    label = corrupt_copy(smoke_data_out / "runs" / "smoke" / "synth", tmp_path / "bad")
    data = yaml.safe_load((ROOT / "params" / "smoke.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**data, "name": "bad", "data": {"root": str(tmp_path / "bad"), "lenient": False}}))
    out = tmp_path / "out"
    failed = snakemake(bad, out)
    assert failed.returncode != 0
    assert "Exception encountered at" in failed.stdout and label.name in failed.stdout, failed.stdout[-6000:]
    executed = out / "runs" / "bad" / "notebooks" / "01_data.ipynb"
    assert executed.is_file() and label.name in executed.read_text()
    assert [p.name for p in (out / "runs").iterdir()] == ["bad"]  # no other study's folder
