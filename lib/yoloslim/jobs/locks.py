"""Snakemake's working-directory lock, checked before a study runs: a stale one is cleared, a live run is left alone.

Snakemake locks its outputs in `.snakemake/locks/` (next to `runs/`) and removes the lock when it exits. A run
killed with SIGKILL (a crash, an OOM kill, a lost SSH session) leaves the lock behind, and the next run of the
same command then stops with a LockException. `make report` calls `check_lock` first:

- no lock: nothing to do;
- a lock, and a live Snakemake process of the same study: say so and stop, touching nothing;
- a lock, and a live Snakemake process of another study in the same folder: leave it (Snakemake itself
  refuses a run whose outputs overlap a running one's);
- a lock, and no Snakemake process alive: the lock is stale; remove it and say so in one line.

    from yoloslim.jobs.locks import check_lock
    check_lock(Path("params/demo.yaml"))   # "" or a one-line message; raises StudyRunning
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from yoloslim.config import output_root


class StudyRunning(RuntimeError):
    """Another Snakemake run of the same study is alive (its pid is in the message)."""


@dataclass(frozen=True)
class SnakemakeProcess:
    """A live Snakemake process: its pid and the params file it was given (`--config params=...`), if any."""

    pid: int
    params: str | None


def lock_dir() -> Path:
    """Snakemake's lock folder for the studies written under `output_root()`."""
    return output_root() / ".snakemake" / "locks"


def live_snakemake() -> list[SnakemakeProcess]:
    """Snakemake processes of this output folder that are alive now, read from /proc (Linux)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = (entry / "cwd").resolve()  # the Snakefile's `workdir:`, the folder of .snakemake/
        except OSError:  # gone, or not ours to read
            continue
        words = [a.decode(errors="replace") for a in args if a]
        if int(entry.name) == os.getpid() or not any(Path(w).name == "snakemake" for w in words[:2]):
            continue
        if cwd != output_root().resolve():
            continue
        params = next((w.removeprefix("params=") for w in words if w.startswith("params=")), None)
        found.append(SnakemakeProcess(int(entry.name), params))
    return found


def check_lock(params: Path) -> str:
    """Clear a stale lock before running the study of `params`; see the module docstring. Returns what was done
    ("" when there was no lock), or raises `StudyRunning` when the same study is running."""
    locks = lock_dir()
    if not locks.is_dir() or not any(locks.iterdir()):
        return ""
    study = str(Path(params).resolve())
    alive = live_snakemake()
    same = [p for p in alive if p.params and Path(p.params).resolve() == Path(study)]
    if same:
        raise StudyRunning(
            f"another run of this study ({study}) is running (pid {same[0].pid}); not starting a second one. "
            f"Wait for it, or stop it with: kill {same[0].pid}"
        )
    if alive:
        return ""
    for lock in locks.iterdir():
        lock.unlink(missing_ok=True)
    return f"removed a stale Snakemake lock ({locks}) left by an interrupted run; the study continues where it stopped"
