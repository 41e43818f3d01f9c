"""Break a study in every stage, twice over, and check that the README's command finishes it: `make reliability`.

One study (by default the smoke study, named `reliability`) meets two faults in each stage:

- **SIGKILL** (a crash, an OOM kill, a lost SSH session): `make report CONFIG=...` is started and, as soon as a
  stage's executed notebook appears, the whole run (make, Snakemake, papermill, the kernel) is killed. The same
  command is run again and killed at the next stage, and so on; the last run must finish.
- **A full disk:** the stage's outputs and the report are removed (so that the stage and all that follows run
  again), and
  `make report` is started with the study's outputs on a small file system. As soon as the stage's notebook
  appears, the disk is filled: a tmpfs mounted for the purpose is shrunk to what it holds (as root, where the
  machine allows mounting one), or else the simulated disk of `yoloslim.jobs.faults` fills at the first write
  into the stage's folder. The run must fail with the disk-full message as the last thing it prints. Space is
  then freed, and the same command must finish the study with a complete report.

Each fault is one row of `runs/reliability/faults.csv`; each run's output is in `runs/reliability/logs/`.

    python -m yoloslim.jobs.reliability [--config params/smoke.yaml] [--faults kill,disk]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pandas as pd
import yaml

from yoloslim.config import ROOT, load_config, output_root
from yoloslim.jobs.faults import fault_env, free_space
from yoloslim.jobs.run import DISK_FULL_HEADLINE
from yoloslim.paths import StudyPaths

# Each stage: the glob of its executed notebooks (the fault strikes once the current run writes one), and the
# folders under runs/<config>/ (reports/<config>/ for the report) removed so that a finished study runs it again.
STAGES = {
    "01_data": ("data",),
    "02_train_*": ("train",),
    "03_sparse": ("sparse",),
    "04_prune_*": ("prune",),
    "05_finetune_*": ("finetune",),
    "06_eval_*": ("eval",),
    "07_report": (),
}
DISK_MB = 400  # the study's file system, when a tmpfs can be mounted (the smoke study writes about 150 MB)


def run_until(config: Path, stage: str | None, notebooks: Path, log: Path, strike: Callable[[], bool] | None = None,
              env: dict[str, str] | None = None, timeout: float = 1800) -> dict:  # fmt: skip
    """`make report CONFIG=config` with its output in `log`; once this run writes a notebook of `stage`, call
    `strike`. With `stage` None, let it finish.

    The output goes to a file, not a pipe: a pipe nobody reads while waiting fills up and blocks the study.

    Args:
        config (Path): The study's config file.
        stage (str | None): The glob of the stage's notebook names (a key of `STAGES`); None: no fault.
        notebooks (Path): The folder of the executed notebooks.
        log (Path): The file the run's output goes to (its folder is created).
        strike (Callable[[], bool] | None): Called once the notebook appears; True: kill the run with SIGKILL (its
            whole process group) 2 s later, False: let it go on (a disk filled under it). None: kill.
        env (dict[str, str] | None): Variables added to the run's environment.
        timeout (float): The seconds after which the run is killed.

    Returns:
        (dict): The run's row: the notebook the fault struck in (or None), exit code (None when killed), output,
            seconds.
    """
    start = time.time()
    log.parent.mkdir(parents=True, exist_ok=True)
    hit, kill = None, False
    with log.open("w") as sink:
        proc = subprocess.Popen(
            ["make", "report", f"CONFIG={config}"], cwd=ROOT, text=True, start_new_session=True,
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )  # fmt: skip
        while proc.poll() is None and time.time() - start < timeout:
            if stage is not None and hit is None:
                hit = next((p for p in notebooks.glob(f"{stage}.ipynb") if p.stat().st_mtime >= start), None)
                if hit is not None:
                    kill = strike() if strike else True
                    if kill:
                        time.sleep(2)
                        break
            time.sleep(0.2)
        killed = proc.poll() is None and (kill or time.time() - start >= timeout)
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return {"notebook": hit.stem if hit else None, "exit": None if killed else proc.returncode,
            "output": log.read_text(errors="replace"), "seconds": round(time.time() - start)}  # fmt: skip


def kill_points(config: Path) -> list[dict]:
    """Kill the study once in each stage, rerunning the same command each time; one row per kill."""
    paths = StudyPaths.of(load_config(config))
    rows: list[dict] = []
    for stage in [*STAGES, None]:
        log = paths.run / "logs" / f"kill_{_slug(stage)}.log"
        run = run_until(config, stage, paths.notebooks, log)
        if rows:
            rows[-1]["rerun"] = _outcome(run, paths)
            rows[-1]["rerun_cleared_stale_lock"] = "removed a stale Snakemake lock" in run["output"]
            rows[-1]["rerun_resumed_training"] = "Resuming training" in run["output"]
        if stage is not None:
            killed = "SIGKILL" if run["exit"] is None else run["exit"]
            rows.append({"fault": "SIGKILL", "stage": stage, "struck_in": run["notebook"] or "-", "exit": killed,
                         "seconds": run["seconds"]})  # fmt: skip
    return rows


def full_disks(config: Path, disk: Path, mounted: bool) -> list[dict]:
    """Fill the disk under the study once in each stage, then free it and run the same command; one row each.

    Args:
        config (Path): The study's config file.
        disk (Path): The study's output root (`YOLOSLIM_OUT`).
        mounted (bool): Whether `disk` is a tmpfs (filled by shrinking it to what it holds); else it is a folder
            under the simulated disk of `yoloslim.jobs.faults`.

    Returns:
        (list[dict]): Per stage: where the fault struck, the exit code, the seconds, whether the disk-full message
            came last, and how the rerun ended.
    """
    env = {"YOLOSLIM_OUT": str(disk)}
    logs = StudyPaths.of(load_config(config)).run / "logs"  # not on the disk that fills
    with mock.patch.dict(os.environ, env):  # the study's paths on `disk`
        cfg = load_config(config)
        paths = StudyPaths.of(cfg)
    rows = []
    run_until(config, None, paths.notebooks, logs / "disk_first.log", env=env)  # the whole study, once
    for stage, folders in STAGES.items():
        for folder in folders:  # the stage runs again; and so does what follows it, once the report is gone too
            shutil.rmtree(paths.run / folder)
        shutil.rmtree(paths.report_dir)  # Snakemake does not remake a missing file whose consumers are up to date
        first_write = f"runs/{cfg.name}/{folders[0]}/*" if folders else f"reports/{cfg.name}/*"
        fault = {} if mounted else fault_env(disk, first_write)

        def fill() -> bool:
            if mounted:
                used = shutil.disk_usage(disk).used
                _mount(disk, used + (64 << 10))
            return False  # let the run meet the full disk

        run = run_until(config, stage, paths.notebooks, logs / f"disk_{_slug(stage)}.log", fill, env={**env, **fault})
        struck = re.findall(r"Error in rule (\w+):", run["output"])
        row = {"fault": "full disk", "stage": stage, "struck_in": struck[0] if struck else "-",
               "exit": run["exit"], "seconds": run["seconds"],
               "message_last": message_last(run["output"])}  # fmt: skip
        if mounted:
            _mount(disk, DISK_MB << 20)
        else:
            free_space(disk)
        rerun = run_until(config, None, paths.notebooks, logs / f"disk_{_slug(stage)}_rerun.log", env=env)
        row |= {"rerun": _outcome(rerun, paths), "rerun_resumed_training": "Resuming training" in rerun["output"]}
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the faults on a copy of the config named `reliability`; print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "params" / "smoke.yaml"))
    parser.add_argument("--faults", default="kill,disk", help="comma-separated: kill, disk")
    args = parser.parse_args(argv)
    data = yaml.safe_load(Path(args.config).read_text()) | {"name": "reliability"}
    config = output_root() / "runs" / "reliability.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    faults = args.faults.split(",")
    rows = kill_points(config) if "kill" in faults else []
    if "disk" in faults:
        disk = output_root() / "runs" / "reliability-disk"
        disk.mkdir(parents=True, exist_ok=True)
        mounted = _mount(disk, DISK_MB << 20, first=True)
        try:
            rows += full_disks(config, disk, mounted)
        finally:
            if mounted:
                subprocess.run(["umount", str(disk)], check=False)
    table = pd.DataFrame(rows)
    out = StudyPaths.of(load_config(config)).run / "faults.csv"
    table.to_csv(out, index=False)
    print(table.drop(columns=["rerun_cleared_stale_lock"], errors="ignore").to_string(index=False))
    print(f"written to {out}")
    return 0 if (table["rerun"] == "finished, report complete").iloc[-1] and _all_disk_ok(table) else 1


def _all_disk_ok(table: pd.DataFrame) -> bool:
    """Every full-disk row ended with the message last and a rerun that finished the study."""
    disk = table[table["fault"] == "full disk"]
    if disk.empty:  # --faults kill
        return True
    return bool((disk["message_last"].astype(bool) & (disk["rerun"] == "finished, report complete")).all())


def _outcome(run: dict, paths: StudyPaths) -> str:
    """How a run ended: finished with a complete report, or where a fault stopped it."""
    if run["exit"] == 0:
        html = paths.report_html
        complete = html.is_file() and "3 Summary" in html.read_text(encoding="utf-8")
        return "finished, report complete" if complete else "finished, report INCOMPLETE"
    how = "SIGKILL" if run["exit"] is None else f"exit {run['exit']}"
    return f"stopped ({how})"


def _mount(disk: Path, size: int, first: bool = False) -> bool:
    """Mount (`first`) or resize the tmpfs at `disk`; whether that worked (it needs root and a machine that
    allows it)."""
    options = f"size={size}" if first else f"remount,size={size}"
    cmd = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(disk)] if first else ["mount", "-o", options, str(disk)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def message_last(output: str) -> bool:
    """Whether a run's output ends with the disk-full message: nothing after it but the message's own lines and
    make's status lines."""
    lines = [line for line in output.splitlines() if line.strip()]
    heads = [i for i, line in enumerate(lines) if line.startswith(DISK_FULL_HEADLINE)]
    if not heads:
        return False
    after = [line for line in lines[heads[-1] + 1 :] if not line.startswith(("make:", "make["))]  # make's status
    return len(after) <= 2  # the message's own two lines: what is kept, and the command


def _slug(stage: str | None) -> str:
    return (stage or "final").replace("*", "any")


if __name__ == "__main__":
    raise SystemExit(main())
