"""A study killed with SIGKILL leaves Snakemake's lock behind: the next `make report` clears it when no run is
alive, and stops, touching nothing, when the same study is still running."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from yoloslim.cli import main
from yoloslim.config import ROOT
from yoloslim.jobs.locks import StudyRunning, check_lock, live_snakemake, lock_dir

PARAMS = ROOT / "params" / "smoke.yaml"


def _stale_lock() -> Path:
    """The lock files a killed Snakemake run leaves (the same names Snakemake writes)."""
    locks = lock_dir()
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("/some/input\n")
    (locks / "0.output.lock").write_text("/some/output\n")
    return locks


def _fake_snakemake(folder: Path, cwd: Path, params: Path) -> subprocess.Popen:
    """A live process that looks like a Snakemake run of `params` working in `cwd`."""
    script = folder / "bin" / "snakemake"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("import time\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, str(script), "--cores", "2", "--config", f"params={params}"], cwd=cwd)
    for _ in range(300):  # until /proc shows it (at most 30 s on a loaded machine)
        if any(p.pid == proc.pid for p in live_snakemake()):
            break
        time.sleep(0.1)
    return proc


def test_stale_lock_is_removed_with_one_line(out_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_lock(PARAMS) == ""  # no lock: nothing to do
    locks = _stale_lock()
    assert main(["unlock", str(PARAMS)]) == 0
    assert "removed a stale Snakemake lock" in capsys.readouterr().out
    assert not any(locks.iterdir())


def test_a_live_run_of_the_same_study_is_left_alone(out_root: Path, tmp_path: Path) -> None:
    locks = _stale_lock()
    proc = _fake_snakemake(tmp_path, out_root, PARAMS)
    try:
        with pytest.raises(StudyRunning, match=rf"is running \(pid {proc.pid}\)"):
            check_lock(PARAMS)
        assert main(["unlock", str(PARAMS)]) == 1
        assert check_lock(ROOT / "params" / "demo.yaml") == ""  # another study's run: its lock is not ours to clear
        assert len(list(locks.iterdir())) == 2
    finally:
        proc.kill()
        proc.wait()
    assert "removed a stale" in check_lock(PARAMS)  # once it is gone, the lock is stale
