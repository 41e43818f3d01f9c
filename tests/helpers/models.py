"""Tiny detectors for the pruning tests, their channels, an independent FLOPs count, and loading in a clean process."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn
from ultralytics.nn.tasks import DetectionModel
from yoloslim.config import Config
from yoloslim.models.c2f import split_c2f
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import StudyPaths

IMGSZ = 64  # the pruning tests' image size


def sparse_model(cfg: str, seed: int = 0) -> DetectionModel:
    """A tiny detector whose gammas look sparse-trained: 60% near zero, the rest in [0, 1); betas random."""
    torch.manual_seed(seed)
    model = DetectionModel(cfg, nc=3, verbose=False)
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        gamma = torch.rand(bn.num_features)
        gamma[torch.rand(bn.num_features) < 0.6] *= 0.01
        bn.weight.data, bn.bias.data = gamma, 0.5 * torch.randn(bn.num_features)
    return model.eval()


def uniform_gamma_model(seed: int = 0) -> DetectionModel:
    """A tiny yolov5n (nc=3) whose gammas are uniform in [0, 0.3)."""
    torch.manual_seed(seed)
    model = DetectionModel("yolov5n.yaml", nc=3, verbose=False)
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.weight.data = 0.3 * torch.rand(bn.num_features)
    return model


def write_sparse_checkpoint(cfg: Config) -> None:
    """`runs/smoke/sparse/weights.pt`: `uniform_gamma_model()`, where the sparse stage would save it."""
    save_checkpoint(uniform_gamma_model(), StudyPaths.of(cfg).sparse.weights, train_args={"imgsz": cfg.train.imgsz})


def bn_channels(model: nn.Module) -> dict[str, int]:
    """Conv block name -> channels of its BatchNorm."""
    return {n.removesuffix(".bn"): m.num_features for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}


def split_channels(model: nn.Module) -> dict[str, int]:
    """`bn_channels` of a copy whose C2f/C3k2 blocks are split in halves (cv0, cv1): the layer table's names."""
    model = copy.deepcopy(model)
    split_c2f(model)
    return bn_channels(model)


def conv_gflops(model: nn.Module, imgsz: int) -> float:
    """GFLOPs of a model's convolutions at `imgsz`, counted by hand from the shapes one forward pass gives each
    Conv2d (2 FLOPs a multiply-add: output elements x input channels per group x kernel area); independent of
    THOP, which `count_gflops` uses. Convolutions are nearly all of a YOLO's FLOPs."""
    macs = []

    def count(conv: nn.Conv2d, _: tuple, output: torch.Tensor) -> None:
        kh, kw = conv.kernel_size
        macs.append(output.numel() * conv.in_channels // conv.groups * kh * kw)

    model = copy.deepcopy(model).float().eval()
    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, imgsz, imgsz))
    for hook in hooks:
        hook.remove()
    return 2 * sum(macs) / 1e9


def load_without_yoloslim(paths: list[str], cwd: Path) -> dict[str, dict[str, int]]:
    """Load and predict each checkpoint with plain `YOLO(path)` in a Python where yoloslim cannot be imported;
    returns each one's Conv block channels (`bn_channels`)."""
    script = (
        "import json, sys, numpy as np\nsys.modules['yoloslim'] = None\nfrom ultralytics import YOLO\n"
        "from torch import nn\nout = {}\n"
        "for path in sys.argv[1:]:\n"
        "    y = YOLO(path)\n"
        "    y.predict(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False)\n"
        "    out[path] = {n: m.num_features for n, m in y.model.named_modules() if isinstance(m, nn.BatchNorm2d)}\n"
        "print(json.dumps(out))"
    )
    run = subprocess.run([sys.executable, "-c", script, *paths], cwd=cwd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    return {p: {n.removesuffix(".bn"): c for n, c in ch.items()} for p, ch in loaded.items()}


def load_in_fresh_process(*weights: Path) -> list[dict]:
    """Load checkpoints with plain `ultralytics.YOLO(path)` in a new Python process; their task and conv channels."""
    code = (
        "import json, sys\nfrom torch import nn\nfrom ultralytics import YOLO\n"
        "for p in sys.argv[1:]:\n    m = YOLO(p)\n"
        "    ch = {n: c.out_channels for n, c in m.model.named_modules() if isinstance(c, nn.Conv2d)}\n"
        "    print(json.dumps({'task': m.task, 'channels': ch}))\n"
    )
    env = {"YOLO_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code, *map(str, weights)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
