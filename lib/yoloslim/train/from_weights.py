"""The base model taken from a detector the user trained already (`model.base: weights`): evaluated, not retrained.

The checkpoint (`model.weights`, such as Ultralytics' best.pt) is the study's base model as it is: its bytes are
copied to `train/base/weights.pt`, so every later stage (sparse training starts from it) and the report see exactly
the user's detector, with its own architecture. Its classes and image size are checked against the study's data
set and `train.imgsz` first, each disagreement an error naming both. The learning curves it was trained with
(Ultralytics keeps them in the checkpoint) become `results.csv`; `metrics.json` holds its val accuracy on the
study's val split, measured here, and names the checkpoint.

    info = read_detector(Path("best.pt"))   # names, image size, epochs, architecture
    take_base(cfg)                          # runs/<config>/train/base/, or an error naming what disagrees
"""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yoloslim.atomic import atomic_path, write_json
from yoloslim.config import Config
from yoloslim.paths import StudyPaths
from yoloslim.stages import data_digest, file_digest, stage_key
from yoloslim.uptodate import recording, stage_record, up_to_date


@dataclass(frozen=True)
class DetectorInfo:
    """What a trained detection checkpoint says about itself."""

    path: Path
    names: list[str]  # class names by class id
    imgsz: int  # the image size it was trained at
    epochs: int  # the epochs it was trained for (as its training arguments say; 0 when unknown)
    architecture: str  # its model YAML's file name, or "custom"
    params: int  # parameter count


def read_detector(path: Path) -> DetectorInfo:
    """Read an Ultralytics detection checkpoint's classes, image size and architecture.

    Raises:
        ValueError: When the file is not a readable Ultralytics checkpoint of a detection model (the message names it).
    """
    return _info(Path(path), *_load(path))


def _info(path: Path, ckpt: dict[str, Any], model: Any) -> DetectorInfo:
    """`read_detector`'s result from the loaded checkpoint and its model."""
    args = ckpt.get("train_args") or {}
    imgsz = args.get("imgsz", 640)
    names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
    return DetectorInfo(
        path=path,
        names=[str(names[k]) for k in sorted(names)],
        imgsz=int(imgsz[0] if isinstance(imgsz, (list, tuple)) else imgsz),
        epochs=int(args.get("epochs") or 0),
        architecture=Path(str(model.yaml.get("yaml_file") or "custom")).name,
        params=sum(p.numel() for p in model.parameters()),
    )


def check_classes(info: DetectorInfo, names: list[str], data: str | Path) -> None:
    """Stop when the checkpoint's classes are not the data set's `names`, the same classes in the same order.

    Raises:
        ValueError: Naming the checkpoint and its classes, and the data set (`data`) and its classes.
    """
    if len(info.names) != len(names):
        raise ValueError(
            f"{info.path}: the checkpoint detects {classes(info.names)} ({', '.join(info.names)}), the data set "
            f"({data}) has {len(names)} ({', '.join(names)})"
        )
    if info.names != list(names):
        raise ValueError(
            f"{info.path}: the checkpoint's class names {info.names} disagree with the data set's {list(names)} "
            f"({data}); they must be the same classes in the same order"
        )


def check_detector(info: DetectorInfo, cfg: Config) -> None:
    """Stop when the checkpoint's classes or image size disagree with the study's data set and `train.imgsz`.

    Raises:
        ValueError: Naming the checkpoint's value and the study's (and where each comes from).
    """
    check_classes(info, cfg.data.names, cfg.data.yaml or cfg.data.root or "the synthetic set")
    if info.imgsz != cfg.train.imgsz:
        raise ValueError(
            f"{info.path}: the checkpoint was trained at {info.imgsz} px, {cfg.source or 'the params'} sets "
            f"train.imgsz {cfg.train.imgsz}; set train.imgsz: {info.imgsz}"
        )


def classes(names: list[str]) -> str:
    """How many classes, in words: "1 class", "5 classes"."""
    return f"{len(names)} class{'' if len(names) == 1 else 'es'}"


def take_base(cfg: Config) -> Path:
    """Make the checkpoint `model.weights` the study's base model (`train/base/`), unless done already.

    Args:
        cfg (Config): The study (`model.base: weights`).

    Returns:
        (Path): `runs/<config>/train/base/`.

    Raises:
        ValueError: When the checkpoint is not a detector, or disagrees with the data set or `train.imgsz`.
    """
    paths = StudyPaths.of(cfg)
    files, weights = paths.train("base"), Path(str(cfg.model.weights))
    inputs = {"data": data_digest(paths.data.yaml), "weights": file_digest(weights)}
    key = stage_record(stage_key(cfg, "train", "base"), inputs)
    if up_to_date(files.record, key, [files.weights, files.metrics, files.log]):
        return files.dir
    ckpt, model = _load(weights)
    info = _info(weights, ckpt, model)
    check_detector(info, cfg)
    files.dir.mkdir(parents=True, exist_ok=True)
    with recording(files.record, key):
        start = time.time()
        with atomic_path(files.weights) as tmp:
            shutil.copyfile(weights, tmp)
        curves = _write_results(ckpt, files.results)
        val = _validate(cfg, files.weights, files.ultra)
        write_json(
            files.metrics,
            {
                "model": "base",
                "imgsz": info.imgsz,
                "epochs": info.epochs,
                "params": info.params,
                "train_seconds": 0.0,
                "val": val,
                "checkpoint": str(weights),
            },
        )
        log = (
            f"base model: the checkpoint {weights} ({info.architecture}, {classes(info.names)}, {info.imgsz} px, "
            f"{info.epochs} epochs as it says), copied to {files.weights}, not retrained\n"
            f"learning curves: {'from the checkpoint' if curves else 'none in the checkpoint'}\n"
            f"val on {paths.data.yaml}: mAP50 {val['mAP50']:.4f}, mAP50-95 {val['mAP50-95']:.4f} "
            f"({time.time() - start:.0f} s)\n"
        )
        with atomic_path(files.log) as tmp:
            tmp.write_text(log)
    print(log, end="")
    return files.dir


def _load(path: Path) -> tuple[dict[str, Any], Any]:
    """The checkpoint dictionary and its model (the EMA when it has one); ValueError naming the file otherwise."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a torch pickle fails in many ways
        raise ValueError(f"{path}: not a readable PyTorch checkpoint (model.weights): {err}") from err
    model = (ckpt.get("ema") or ckpt.get("model")) if isinstance(ckpt, dict) else None
    if not isinstance(model, DetectionModel) or type(model).__name__ != "DetectionModel":
        kind = type(model).__name__ if model is not None else "no model"
        raise ValueError(f"{path}: not an Ultralytics detection checkpoint (model.weights): it holds {kind}")
    return ckpt, model


def _write_results(ckpt: dict[str, Any], results: Path) -> bool:
    """The checkpoint's learning curves (Ultralytics' `train_results`) as results.csv; False when it has none."""
    curves = ckpt.get("train_results") or {}
    if not curves or "epoch" not in curves:
        results.unlink(missing_ok=True)
        return False
    columns = list(curves)
    with atomic_path(results) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(*(curves[c] for c in columns), strict=True))
    return True


def _validate(cfg: Config, weights: Path, folder: Path) -> dict[str, float]:
    """mAP50 and mAP50-95 of the checkpoint on the study's val split (Ultralytics' validator, its default
    confidence), its files kept in `folder`."""
    from ultralytics import YOLO

    paths = StudyPaths.of(cfg)
    metrics = YOLO(str(weights)).val(
        data=str(paths.data.yaml),
        split="val",
        imgsz=cfg.train.imgsz,
        batch=cfg.train.batch,
        device=cfg.train.device,
        workers=cfg.train.workers,
        plots=False,
        verbose=False,
        project=str(folder.parent),
        name=folder.name,
        exist_ok=True,
    )
    return {"mAP50": float(metrics.box.map50), "mAP50-95": float(metrics.box.map)}
