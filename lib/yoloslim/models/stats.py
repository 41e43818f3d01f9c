"""Size and cost of one model: the checkpoint file, its ONNX export, parameters and GFLOPs at an image size.

from yoloslim.models.stats import load_model, model_stats
yolo = load_model(Path("runs/demo/train/base/weights.pt"))
model_stats(yolo.model, imgsz=256)                   # {'params': 1765270, 'gflops': 0.67}
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

import torch

from yoloslim.config import ULTRALYTICS_IMGSZ

MB = 1e6  # sizes are reported in decimal megabytes, like the file managers and the original report


def existing_weights(weights: Path | str) -> Path:
    """`weights` as a path that Ultralytics reads as the local file it is; a FileNotFoundError naming it when
    there is no such file.

    Ultralytics renames official-looking YOLOv5/YOLOv3 file names before opening them (`yolov5s.pt` becomes
    `yolov5su.pt`, which it then tries to download), so a user's own `yolov5s.pt` could not be read offline.
    Such a file is read through a symlink with a neutral name (`<tmp>/yoloslim-checkpoints/<hash>/weights.pt`);
    the file itself is neither copied nor changed.
    """
    from ultralytics.utils.checks import check_yolov5u_filename

    weights = Path(weights)
    if weights.is_dir() and (weights / "metadata.yaml").is_file():
        return weights  # an exported model's folder (OpenVINO), read through its metadata
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: weights file not found")
    if check_yolov5u_filename(str(weights), verbose=False) == str(weights):
        return weights
    target = weights.resolve()
    link = Path(tempfile.gettempdir()) / "yoloslim-checkpoints" / hashlib.sha256(bytes(target)).hexdigest()[:16]
    link = link / "weights.pt"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() and link.resolve() == target):
        tmp = link.with_name(f".{os.getpid()}.pt")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        tmp.replace(link)  # atomic: another process never sees a half-made link
    return link


def load_model(weights: Path):  # -> ultralytics.YOLO
    """Load a detection checkpoint with plain `ultralytics.YOLO`; a clear error names a missing file."""
    from ultralytics import YOLO

    return YOLO(str(existing_weights(weights)), task="detect")


def checkpoint_imgsz(weights: Path) -> int:
    """The image size a checkpoint was trained at (its saved train args), Ultralytics' default when it does not say."""
    imgsz = getattr(load_model(weights).model, "args", {}).get("imgsz", ULTRALYTICS_IMGSZ)
    return int(imgsz[0] if isinstance(imgsz, (list, tuple)) else imgsz)


def file_mb(path: Path) -> float:
    """The size of a file as saved, in MB."""
    return Path(path).stat().st_size / MB


def count_params(model: torch.nn.Module) -> int:
    """The number of parameters of a model."""
    return sum(p.numel() for p in model.parameters())


class FlopsError(RuntimeError):
    """A model whose FLOPs could not be counted (the message names it and the likely cause)."""


def count_gflops(model: torch.nn.Module, imgsz: int, name: str | None = None) -> float:
    """GFLOPs of one forward pass at `imgsz` x `imgsz` (Ultralytics' THOP count, fp32 copy of the model).

    Ultralytics' `get_flops` returns 0 on any failure, which a FLOPs ratio would show as a model that costs
    nothing.

    Args:
        model (torch.nn.Module): The model (counted on a copy).
        imgsz (int): The input size.
        name (str | None): The model's name in the error; None: its class and config file.

    Returns:
        (float): The GFLOPs, above 0.

    Raises:
        FlopsError: When the FLOPs could not be counted, naming the model and the likely cause.
    """
    from ultralytics.utils.torch_utils import get_flops

    gflops = float(get_flops(_float_copy(model), imgsz))
    if gflops > 0:
        return gflops
    cause = (
        "THOP failed to profile it (Ultralytics' get_flops hides the error)"
        if importlib.util.find_spec("thop")
        else "THOP is not installed (pip install ultralytics-thop)"
    )
    raise FlopsError(f"{name or _describe(model)}: its FLOPs at {imgsz} px could not be counted: {cause}")


def model_stats(model: torch.nn.Module, imgsz: int, name: str | None = None) -> dict:
    """Parameters and GFLOPs of a model at `imgsz`.

    Args:
        model (torch.nn.Module): The model.
        imgsz (int): The input size of the FLOPs count.
        name (str | None): Names the model if its FLOPs cannot be counted (`count_gflops`).

    Returns:
        (dict): {"params": ..., "gflops": ...}.
    """
    return {"params": count_params(model), "gflops": count_gflops(model, imgsz, name)}


def _describe(model: torch.nn.Module) -> str:
    """A model as an error message names it: its class, and the config file it was built from when known."""
    config = (getattr(model, "yaml", None) or {}).get("yaml_file")
    return f"{type(model).__name__} ({config})" if config else type(model).__name__


def _float_copy(model: torch.nn.Module) -> torch.nn.Module:
    """An fp32 copy on the CPU (checkpoints hold fp16 weights, which THOP cannot run on the CPU)."""
    return copy.deepcopy(model).float().cpu().eval()
