"""A full disk in the middle of a stage: the stage stops with a clear message, keeps its last complete checkpoint,
and the same call finishes it once space is freed (the simulated disk of `yoloslim.jobs.faults`)."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from yoloslim.config import ROOT, Config, load_config
from yoloslim.jobs.faults import fault_env, free_space, full_marker
from yoloslim.jobs.reliability import message_last
from yoloslim.jobs.run import DiskFull, disk_full
from yoloslim.paths import StudyPaths
from yoloslim.train.runner import kept_until_written, previous
from yoloslim.train.sparse import run_sparse

SPARSE = (
    "from yoloslim.config import ROOT, load_config\nfrom yoloslim.train.sparse import run_sparse\n"
    "cfg = load_config(ROOT / 'params' / 'smoke.yaml')\ncfg.sparse.start, cfg.sparse.epochs = 'scratch', 2\n"
    "cfg.model.width = 0.125\nrun_sparse(cfg)\n"
)


def _epoch(checkpoint: Path) -> int:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["epoch"]


def test_fault_hook_fills_the_disk_for_every_later_write(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    code = (
        "from pathlib import Path\nimport sys\nd = Path(sys.argv[1])\n(d / 'a.txt').write_text('a')\n"
        "for name in ('b/one.txt', 'c.txt'):\n    (d / name).parent.mkdir(exist_ok=True)\n"
        "    try:\n        (d / name).write_text('x')\n    except OSError as err:\n        print(err.errno, name)\n"
        "print(open(d / 'a.txt').read())\n"
    )
    env = {**os.environ, **fault_env(disk, "b/*")}
    out = subprocess.run([sys.executable, "-c", code, str(disk)], env=env, text=True, capture_output=True, check=True)
    assert out.stdout.split("\n")[:3] == ["28 b/one.txt", "28 c.txt", "a"]  # full from then on; reads still work
    assert full_marker(disk).is_file() and not (disk / "c.txt").exists()
    free_space(disk)
    subprocess.run([sys.executable, "-c", code, str(disk)], env=os.environ, check=True, capture_output=True)
    assert (disk / "c.txt").read_text() == "x"


def test_sparse_training_stopped_by_a_full_disk_resumes_from_its_last_checkpoint(
    smoke_cfg: Config, out_root: Path
) -> None:
    """The disk fills while the second epoch's checkpoint is written: the first epoch's checkpoint is kept whole,
    the gamma log never gets ahead of it, and the same call resumes from it once space is freed. Then Snakemake's
    removal of a failed job's outputs costs a copy, not a training."""
    files = StudyPaths.of(smoke_cfg).sparse
    second_save = fault_env(out_root, "runs/smoke/sparse/ultra/weights/last.pt", skip=1)
    env = {**os.environ, "YOLOSLIM_OUT": str(out_root), **second_save}
    proc = subprocess.run([sys.executable, "-c", SPARSE], env=env, text=True, capture_output=True)
    assert proc.returncode != 0
    assert "no space left on the device" in proc.stderr and "free space" in proc.stderr, proc.stderr[-2000:]
    last = files.ultra / "weights" / "last.pt"
    assert _epoch(last) == 0 and not previous(last).exists()  # the epoch before, whole
    logged = pd.read_csv(files.ultra / "gamma_log.csv")["epoch"].tolist()
    assert logged[: _epoch(last) + 2] == [0, 1]  # the log holds every epoch of the checkpoint it resumes from
    assert not json.loads(files.record.read_text())["finished"] and not files.weights.exists()

    free_space(out_root)
    smoke_cfg.sparse.start, smoke_cfg.sparse.epochs, smoke_cfg.model.width = "scratch", 2, 0.125
    run_sparse(smoke_cfg)
    assert "Resuming training" in files.log.read_text()
    log = pd.read_csv(files.gamma_log)
    assert log["epoch"].tolist() == [0, 1, 2] and log["steps"].is_monotonic_increasing
    assert pd.read_csv(files.results)["epoch"].tolist() == [1, 2]  # epoch 2 logged twice, kept once
    assert json.loads(files.record.read_text())["finished"] is True

    kept = {p: p.read_bytes() for p in (files.weights, files.gamma_log, files.gammas)}
    for path in (files.weights, files.metrics, files.gamma_log, files.gammas):  # as Snakemake does after a failure
        path.unlink()
    stamp = last.stat().st_mtime_ns
    run_sparse(smoke_cfg)
    assert last.stat().st_mtime_ns == stamp and files.metrics.is_file()  # copied up again, not trained again
    assert {p: p.read_bytes() for p in kept} == kept


def test_disk_full_message_names_the_folder_the_space_and_what_to_do(smoke_cfg: Config, out_root: Path) -> None:
    files = StudyPaths.of(smoke_cfg).sparse
    files.dir.mkdir(parents=True)
    (files.dir / "last.pt").write_bytes(b"0" * 3_000_000)  # the study's largest checkpoint so far
    output = (
        "Executing Cell 5\nOSError: [Errno 28] No space left on device: "
        f"'{files.dir}/ultra/weights/last.pt'\nError in rule sparse:\n    jobid: 3\n"
        "Error recording metadata for finished job (No space left on device)\nExiting because a job execution failed."
    )
    config = ROOT / "params" / "smoke.yaml"
    full = disk_full(smoke_cfg, config, output)
    assert full is not None and full.rule == "sparse" and full.folder == files.dir / "ultra" / "weights"
    assert full.needed == 5 * 3_000_000
    message = full.message()
    assert str(files.dir / "ultra" / "weights") in message and re.search(r"has [\d.]+ [MG]iB free", message)
    assert "about 14.3 MiB in all" in message
    assert message.rstrip().endswith("make report CONFIG=params/smoke.yaml")
    assert "free space and run the same command again" in message
    assert disk_full(load_config(config), config, "Error in rule sparse:\nValueError: bad label") is None


def test_an_image_the_renderer_could_not_write_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from yoloslim.data import synth

    monkeypatch.setattr(synth.cv2, "imwrite", lambda *args: False)  # what OpenCV says on a full disk: only False
    monkeypatch.setattr(synth.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 0))
    with pytest.raises(OSError) as err:
        synth.synthesize(tmp_path / "synth", 2, imgsz=64, seed=0, workers=1)
    assert err.value.errno == errno.ENOSPC and err.value.filename.endswith(".jpg")


@pytest.mark.parametrize("copy", [False, True])
def test_checkpoints_are_kept_until_their_new_versions_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    last, best = tmp_path / "last.pt", tmp_path / "best.pt"
    for path in (last, best):
        path.write_text(f"old {path.stem}")

    def fail_writing() -> None:
        last.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device", str(last))

    with pytest.raises(OSError), kept_until_written([last, best], copy=copy):
        fail_writing()
    assert (last.read_text(), best.read_text()) == ("old last", "old best")  # both put back
    with kept_until_written([last, best], copy=copy):
        last.write_text("new last")  # best.pt not rewritten this epoch
    assert (last.read_text(), best.read_text()) == ("new last", "old best")
    assert not previous(last).exists() and not previous(best).exists()

    copies = iter([None])  # the second copy finds the disk full: nothing is changed, nothing is left behind
    real_copy = shutil.copyfile

    def copy_until_full(src: Path, dst: Path) -> None:
        if next(copies, "full") == "full":
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_copy(src, dst)

    monkeypatch.setattr(shutil, "copyfile", copy_until_full)
    with pytest.raises(OSError), kept_until_written([last, best], copy=True):
        pytest.fail("the block must not run when its checkpoints could not be kept")
    assert (last.read_text(), best.read_text()) == ("new last", "old best")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_the_message_counts_as_last_only_when_nothing_but_make_follows_it() -> None:
    message = DiskFull(Path("runs/x"), 0, "report", 1, "a guess", "make report CONFIG=params/x.yaml").message()
    tail = "make[1]: *** [Makefile:27: report] Error 1\nmake[1]: Leaving directory '/repo'\n"
    assert message_last(f"Error in rule report:\nOSError: [Errno 28]\n\n{message}\n{tail}")
    assert not message_last(f"{message}\nTraceback (most recent call last):\nOSError: [Errno 28]\n{tail}")
    assert not message_last("Error in rule report:\nOSError: [Errno 28]\n")


def test_setup_stops_before_pip_when_the_disk_cannot_hold_the_environment(tmp_path: Path) -> None:
    """A fresh checkout on a disk with less space than `.venv` needs: `make setup` says so and creates nothing (here
    the need is raised above any disk, `SETUP_GB`, rather than the disk filled)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    done = subprocess.run(["make", "setup", "SETUP_GB=1000000"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert f".venv needs about 1000000 GB and {tmp_path} has" in done.stdout
    assert "free some space and run the command again" in done.stdout
    assert not (tmp_path / ".venv").exists()
