"""Size and cost of one model: the checkpoint file, its ONNX export, parameters and GFLOPs at an image size.

from yoloslim.modelstats import load_model, model_stats, export_onnx
yolo = load_model(Path("runs/demo/train/base/weights.pt"))
model_stats(yolo.model, imgsz=256)                   # {'params': 1765270, 'gflops': 0.67}
export_onnx(Path("weights.pt"), Path("out/"), 256)   # out/weights.onnx, exported by Ultralytics
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import torch

MB = 1e6  # sizes are reported in decimal megabytes, like the file managers and the original report


def existing_weights(weights: Path | str) -> Path:
    """`weights` as a Path; a FileNotFoundError naming it when there is no such file."""
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: weights file not found")
    return weights


def load_model(weights: Path):  # -> ultralytics.YOLO
    """Load a detection checkpoint with plain `ultralytics.YOLO`; a clear error names a missing file."""
    from ultralytics import YOLO

    return YOLO(str(existing_weights(weights)), task="detect")


def checkpoint_imgsz(weights: Path) -> int:
    """The image size a checkpoint was trained at (its saved train args), 640 when it does not say."""
    imgsz = getattr(load_model(weights).model, "args", {}).get("imgsz", 640)
    return int(imgsz[0] if isinstance(imgsz, (list, tuple)) else imgsz)


def file_mb(path: Path) -> float:
    """The size of a file as saved, in MB."""
    return Path(path).stat().st_size / MB


def count_params(model: torch.nn.Module) -> int:
    """The number of parameters of a model."""
    return sum(p.numel() for p in model.parameters())


def count_gflops(model: torch.nn.Module, imgsz: int) -> float:
    """GFLOPs of one forward pass at `imgsz` x `imgsz` (Ultralytics' THOP count, fp32 copy of the model)."""
    from ultralytics.utils.torch_utils import get_flops

    return float(get_flops(_float_copy(model), imgsz))


def model_stats(model: torch.nn.Module, imgsz: int) -> dict:
    """Parameters and GFLOPs of a model at `imgsz`."""
    return {"params": count_params(model), "gflops": count_gflops(model, imgsz)}


def export_onnx(weights: Path, out_dir: Path, imgsz: int) -> Path:
    """Export a checkpoint through Ultralytics to `out_dir/model.onnx` (batch 1, static `imgsz`, simplified).

    The export runs on a copy in a temporary folder: Ultralytics writes beside its input, and the input's
    folder may belong to another stage or to the user.
    """
    out = Path(out_dir) / "model.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.pt"
        shutil.copy2(weights, local)
        exported = load_model(local).export(format="onnx", imgsz=imgsz, batch=1, device="cpu", simplify=True)
        shutil.move(exported, out)
    return out


def _float_copy(model: torch.nn.Module) -> torch.nn.Module:
    """An fp32 copy on the CPU (checkpoints hold fp16 weights, which THOP cannot run on the CPU)."""
    return copy.deepcopy(model).float().cpu().eval()
