"""Tiny COCO and Pascal VOC data sets written by the tests: images, annotation files, split lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

SIZE = (32, 24)  # width, height of every test image


def image(path: Path, size: tuple[int, int] = SIZE, orientation: int | None = None) -> Path:
    """A small JPEG at `path` (folders created), with an EXIF orientation if given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if orientation:
        exif[274] = orientation
    Image.new("RGB", size, (90, 140, 200)).save(path, exif=exif)
    return path


def coco_json(path: Path, images: list[tuple[int, str]], annotations: list[dict], **extra: Any) -> Path:
    """A COCO annotation file: images as (id, file_name) of SIZE, categories 3 'zebra', 7 'ant' unless given."""
    data = {
        "images": [{"id": i, "file_name": name, "width": SIZE[0], "height": SIZE[1]} for i, name in images],
        "annotations": annotations,
        "categories": [{"id": 3, "name": "zebra"}, {"id": 7, "name": "ant"}],
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def ann(aid: int, image_id: int, category_id: int, bbox: list[float], **extra: Any) -> dict:
    """One COCO annotation."""
    return {"id": aid, "image_id": image_id, "category_id": category_id, "bbox": bbox, "iscrowd": 0, **extra}


def voc_xml(path: Path, filename: str | None, objects: list[tuple], size: tuple[int, int] = SIZE) -> Path:
    """A VOC annotation file; objects as (name, difficult, xmin, ymin, xmax, ymax)."""
    body = "".join(
        f"<object><name>{name}</name><difficult>{difficult}</difficult>"
        f"<bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for name, difficult, x0, y0, x1, y1 in objects
    )
    named = f"<filename>{filename}</filename>" if filename else ""
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation>{named}{size_xml}{body}</annotation>")
    return path


def voc_splits(root: Path, **splits: list[str]) -> None:
    """ImageSets/Main/<split>.txt listing the ids."""
    folder = root / "ImageSets" / "Main"
    folder.mkdir(parents=True, exist_ok=True)
    for split, ids in splits.items():
        (folder / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
