"""Outputs are written whole or not at all: a writer killed mid-write leaves no file that looks complete, and a
full disk stops a stage with a message naming the file, keeping what was there; the rerun then finishes."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from yoloslim.atomic import DiskFullError, atomic_path, write_text
from yoloslim.config import Config
from yoloslim.paths import StudyPaths
from yoloslim.train.base import run_train


def test_a_writer_killed_mid_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom yoloslim.atomic import atomic_path\n"
        "with atomic_path(Path(sys.argv[1])) as tmp, open(tmp, 'w') as f:\n"
        "    f.write('{\"half\": '); f.flush(); print('writing', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()  # only a hidden temporary file, never metrics.json itself
    assert [p.name for p in tmp_path.iterdir()] == [f".metrics.{proc.pid}.tmp.json"]
    write_text(target, "{}")  # the rerun writes it whole
    assert target.read_text() == "{}"


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system (tmpfs) where the machine allows mounting one (root); else the test is skipped."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_names_the_file_and_keeps_the_previous_one(small_disk: Path) -> None:
    target = write_text(small_disk / "report.html", "the previous report")
    with pytest.raises(DiskFullError, match=r"no space left on the device while writing .*report\.html") as err:
        write_text(target, "x" * 1_000_000)  # 1 MB into 256 KiB
    assert err.value.errno == errno.ENOSPC and "run the same command again" in str(err.value)
    assert target.read_text() == "the previous report"
    assert [p.name for p in small_disk.iterdir()] == ["report.html"]  # the partial temporary file is gone


def test_the_error_names_the_file_when_a_write_fails_for_space(tmp_path: Path) -> None:
    with pytest.raises(DiskFullError, match=r"while writing .*layers\.csv"), atomic_path(tmp_path / "layers.csv"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not list(tmp_path.iterdir())


def test_training_out_of_space_names_the_stage_and_the_rerun_finishes_and_a_cut_off_best_pt_is_not_used(
    smoke_cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ultralytics.engine.trainer import BaseTrainer

    smoke_cfg.model.width = 0.125
    save = BaseTrainer.save_model

    def full_disk(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BaseTrainer, "save_model", full_disk)
    stage = StudyPaths.of(smoke_cfg).train("base").dir
    with pytest.raises(DiskFullError, match=rf"while writing {stage / 'ultra' / 'weights'}"):
        run_train(smoke_cfg, "base")
    monkeypatch.setattr(BaseTrainer, "save_model", save)  # space freed
    run_train(smoke_cfg, "base")
    assert (stage / "weights.pt").is_file() and (stage / "metrics.json").is_file()

    # killed while Ultralytics wrote best.pt, after the last epoch's last.pt: the stage finishes from last.pt
    record = json.loads((stage / "params.json").read_text())
    (stage / "params.json").write_text(json.dumps({**record, "finished": False}))
    (stage / "weights.pt").unlink()
    best = stage / "ultra/weights/best.pt"
    best.write_bytes(best.read_bytes()[: best.stat().st_size // 2])
    run_train(smoke_cfg, "base")
    assert torch.load(stage / "weights.pt", weights_only=False)["model"] is not None
    assert "best.pt cannot be read (cut off by an interruption?); keeping last.pt" in (stage / "train.log").read_text()
