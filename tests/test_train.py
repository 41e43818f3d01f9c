"""Base/variant training on the smoke data: width variants, the 02 notebook, resume and no-rerun, the log tee."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from yoloslim.config import Config
from yoloslim.models.build import build_model, conv_channels
from yoloslim.paths import StudyPaths
from yoloslim.train.base import run_train
from yoloslim.ultra import tee_output


def test_variant_is_uniformly_narrower_and_aligned(smoke_cfg: Config) -> None:
    base = conv_channels(build_model(smoke_cfg, nc=3))
    half = conv_channels(build_model(smoke_cfg, nc=3, width_scale=0.5))
    assert base.keys() == half.keys()
    body = [k for k in base if not k.startswith("model.24.")]  # the Detect head follows nc and its inputs
    assert all(half[k] % 8 == 0 for k in body)
    assert all(half[k] == max(8, base[k] // 2) for k in body)  # yolov5n's channels halve exactly
    smoke_cfg.prune.round_to = 24  # each layer's output channels (its YAML argument) round up to 24
    wide = build_model(smoke_cfg, nc=3, width_scale=0.5)
    assert [wide.model[i].conv.out_channels for i in (0, 1, 3, 5, 7)] == [24, 24, 48, 72, 144]


def _saved_epoch(last: Path) -> int | None:
    """The epoch of a complete last.pt, None while it is missing or cut off."""
    try:
        return torch.load(last, weights_only=False)["epoch"]
    except Exception:
        return None


def test_training_killed_with_sigkill_resumes_and_finished_one_is_not_rerun(smoke_cfg: Config) -> None:
    smoke_cfg.train.epochs, smoke_cfg.model.width = 2, 0.125
    stage = StudyPaths.of(smoke_cfg).train("half").dir
    # The child kills itself after the first batch of the second epoch, when epoch 0's last.pt is written whole:
    # no handler runs, nothing is cleaned up. (Killing it from here raced with the next checkpoint's write.)
    code = (
        "import os, signal\nfrom ultralytics.utils.callbacks.base import default_callbacks\n"
        "default_callbacks['on_train_batch_end'].append(\n"
        "    lambda trainer: trainer.epoch == 1 and os.kill(os.getpid(), signal.SIGKILL))\n"
        "from yoloslim.config import ROOT, load_config\nfrom yoloslim.train.base import run_train\n"
        "cfg = load_config(ROOT / 'params' / 'smoke.yaml')\ncfg.train.epochs, cfg.model.width = 2, 0.125\n"
        "run_train(cfg, 'half')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.wait(timeout=240)
    last = stage / "ultra/weights/last.pt"
    assert proc.returncode == -9 and _saved_epoch(last) == 0
    assert not (stage / "weights.pt").exists()

    run_train(smoke_cfg, "half")
    assert "Resuming training" in (stage / "train.log").read_text()
    assert pd.read_csv(stage / "results.csv")["epoch"].tolist() == [1, 2]
    assert json.loads((stage / "params.json").read_text())["finished"] is True

    stamp = (stage / "weights.pt").stat().st_mtime_ns
    run_train(smoke_cfg, "half")  # same parameters: nothing to do
    assert (stage / "weights.pt").stat().st_mtime_ns == stamp

    smoke_cfg.train.epochs = 1  # changed parameters: trained again, from scratch
    run_train(smoke_cfg, "half")
    assert (stage / "weights.pt").stat().st_mtime_ns != stamp
    assert pd.read_csv(stage / "results.csv")["epoch"].tolist() == [1]


def test_tee_sends_output_to_log_and_terminal_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ultralytics.utils import LOGGER, TQDM

    terminal = io.StringIO()
    with tee_output(tmp_path / "train.log", terminal=terminal):
        LOGGER.info("logged line")
        print("printed line")
        for _ in TQDM(range(3), desc="bar"):
            pass
    log = (tmp_path / "train.log").read_text()
    assert "logged line" in log and "printed line" in log and "3/3" in log
    assert "\r" not in log and log.count("bar:") == 1  # the bar's last frame only
    assert "logged line" in terminal.getvalue() and terminal.getvalue().count("bar:") >= 1
    captured = capsys.readouterr()
    assert "logged line" not in captured.out + captured.err


def test_cpu_training_uses_the_threads_it_is_given(smoke_cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Snakemake job's OMP_NUM_THREADS wins over Ultralytics' own choice (all cores but one)."""
    from ultralytics.utils import NUM_THREADS
    from yoloslim.train.runner import YoloTrainer, train_args

    wanted, before = NUM_THREADS + 1, torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", str(wanted))
    try:
        YoloTrainer(overrides=train_args(smoke_cfg, save_dir=str(StudyPaths.of(smoke_cfg).run / "threads")))
        assert torch.get_num_threads() == wanted
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("channels_last", [None, False])
def test_cpu_training_runs_channels_last_unless_told_not_to(smoke_cfg: Config, channels_last: bool | None) -> None:
    """On the CPU the trainer converts the model and every batch to NHWC (Ultralytics does so on CUDA only);
    `channels_last=False` keeps both in the stock layout."""
    from yoloslim.train.runner import YoloTrainer, train_args

    args = train_args(smoke_cfg, save_dir=str(StudyPaths.of(smoke_cfg).run / "nhwc"), channels_last=channels_last)
    trainer = YoloTrainer(overrides=args)
    trainer.model = build_model(smoke_cfg, nc=3)
    trainer.setup_model()
    batch = trainer.preprocess_batch({"img": torch.zeros(2, 3, 32, 32, dtype=torch.uint8)})
    convs = [m.weight for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    nhwc = channels_last is None
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) == nhwc for w in convs)
    assert batch["img"].is_contiguous(memory_format=torch.channels_last) == nhwc
    assert batch["img"].dtype == torch.float32 and batch["img"].max() == 0
