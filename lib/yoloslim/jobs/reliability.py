"""Kill a study at every stage and check that the README's command finishes it: `make reliability`.

One study (by default the smoke study, under `runs/reliability/`) is started with `make report CONFIG=...`;
as soon as a stage's executed notebook appears, the whole run (make, Snakemake, papermill, the kernel) is
killed with SIGKILL, like a crash, an OOM kill or a lost SSH session. The same command is run again, and
killed at the next stage, and so on; the last run must finish. Each kill point is one row of
`runs/reliability/kill_points.csv`: the stage, whether the lock was stale and cleared, the rerun's exit code,
and whether the report was complete at the end. Each run's output is in `runs/reliability/kill_logs/`.

    python -m yoloslim.jobs.reliability [--config params/smoke.yaml]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd

from yoloslim.config import ROOT, load_config, output_root
from yoloslim.paths import StudyPaths

# each stage's executed notebooks; a kill point is reached when one of them is written by the current run
STAGES = ["01_data", "02_train_*", "03_sparse", "04_prune_*", "05_finetune_*", "06_eval_*", "07_report"]


def run_until(config: Path, stage: str | None, notebooks: Path, log: Path, timeout: float = 1800) -> dict:
    """`make report CONFIG=config` with its output in `log`; SIGKILL it (its whole process group) 2 s after this
    run starts writing a notebook of `stage` (a glob under `notebooks`); with `stage` None, let it finish.

    The output goes to a file, not a pipe: a pipe nobody reads while waiting fills up and blocks the study.
    Returns the run's row: the notebook it was killed in (or None), exit code (None when killed), output, seconds.
    """
    start = time.time()
    log.parent.mkdir(parents=True, exist_ok=True)
    hit = None
    with log.open("w") as sink:
        proc = subprocess.Popen(
            ["make", "report", f"CONFIG={config}"], cwd=ROOT, text=True, start_new_session=True,
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        while proc.poll() is None and time.time() - start < timeout:
            if stage is not None:
                hit = next((p for p in notebooks.glob(f"{stage}.ipynb") if p.stat().st_mtime >= start), None)
            if hit is not None:
                time.sleep(2)
                break
            time.sleep(0.2)
        killed = proc.poll() is None  # reached the kill point, or ran past the timeout
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return {"notebook": hit.stem if hit and killed else None, "exit": None if killed else proc.returncode,
            "output": log.read_text(errors="replace"), "seconds": round(time.time() - start)}  # fmt: skip


def kill_points(config: Path) -> pd.DataFrame:
    """Kill the study once in each stage of `STAGES`, rerunning the same command each time; one row per kill."""
    cfg = load_config(config)
    paths = StudyPaths.of(cfg)
    rows = []
    for stage in [*STAGES, None]:
        log = paths.run / "kill_logs" / f"{(stage or 'final').replace('*', 'any')}.log"
        run = run_until(config, stage, paths.notebooks, log)
        if rows:
            rows[-1]["rerun_cleared_stale_lock"] = "removed a stale Snakemake lock" in run["output"]
            rows[-1]["rerun_resumed_training"] = "Resuming training" in run["output"]
        rows.append({
            "kill_point": stage or "(final run)",
            "killed_in": run["notebook"] or "-",
            "exit": "SIGKILL" if run["exit"] is None else run["exit"],
            "seconds": run["seconds"],
        })  # fmt: skip
    report = StudyPaths.of(cfg).report_html
    table = pd.DataFrame(rows)
    table["report_complete"] = report.is_file() and "3 Summary" in report.read_text(encoding="utf-8")
    return table


def main(argv: list[str] | None = None) -> int:
    """Run the kill points on a copy of the config named `reliability`; print and save the table."""
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "params" / "smoke.yaml"))
    args = parser.parse_args(argv)
    data = yaml.safe_load(Path(args.config).read_text()) | {"name": "reliability"}
    config = output_root() / "runs" / "reliability.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    table = kill_points(config)
    table.to_csv(output_root() / "runs" / "reliability" / "kill_points.csv", index=False)
    print(table.to_string(index=False))
    return 0 if table["exit"].iloc[-1] == 0 and bool(table["report_complete"].iloc[-1]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
