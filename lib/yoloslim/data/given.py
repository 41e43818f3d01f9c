"""Data sets that bring their own train/val/test split: an Ultralytics data YAML, COCO JSON or Pascal VOC XML.

The split stage uses their splits as they are (no re-split): a test split stays the test split, and a data set
without one has no test split (the report says so). Every image and label is checked as a category/source tree's
are (`yoloslim.data.check`); COCO and VOC annotations are read into YOLO label files under the study's outputs by
`yoloslim.data.convert`, which names each bad annotation. Nothing is written into the user's data set.

    given = read_given(cfg, Path("runs/mydata/data/converted"))
    given.splits["test"]  # the user's test images, as `Sample`s
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from yoloslim.config import Config, data_source, yaml_names
from yoloslim.data.check import Problem, Sample, check_image, check_label
from yoloslim.data.convert import Converted, coco_names, read_coco, read_voc, voc_names
from yoloslim.data.mirror import SPLITS, label_path, split_images


def read_given(cfg: Config, out: Path) -> Converted:
    """The configured data set's own splits, checked (`data.yaml`, or `data.root` as COCO or VOC).

    Args:
        cfg (Config): The study (`data.yaml`, or `data.root` and `data.format`; `data.names`).
        out (Path): A folder of ours for the label files converted from COCO or VOC (replaced).

    Returns:
        (Converted): Each split's usable images, the problems found and the images they left out.

    Raises:
        ValueError: When the data set has no train or no val images.
    """
    where = str(cfg.data.yaml or cfg.data.root)
    given = read_source(data_source(cfg), Path(where), list(cfg.data.names), out)
    for split in ("train", "val"):
        if not given.splits.get(split) and not given.problems:
            raise ValueError(f"{where}: no usable '{split}' images (the study trains on train and validates on val)")
    return given


def data_set_name(path: Path) -> str:
    """A data set's name: its folder's, or its data YAML's file name (the folder's when that is data.yaml)."""
    path = Path(path)
    return path.parent.name if path.is_file() and path.stem in ("data", "dataset") else path.stem


def guess_source(path: Path) -> str:
    """How a data set is given: `yaml` (a file: an Ultralytics data YAML), `voc` (a folder with Annotations/ and
    ImageSets/), `coco` (annotations/instances_*.json, or <split>/_annotations.coco.json), else `tree`."""
    path = Path(path)
    if path.is_file():
        return "yaml"
    if (path / "Annotations").is_dir() and (path / "ImageSets").is_dir():
        return "voc"
    if any(path.glob("annotations/instances_*.json")) or any(path.glob("*/_annotations.coco.json")):
        return "coco"
    return "tree"


def source_names(source: str, path: Path) -> list[str]:
    """The class names a data set with its own splits states: its data YAML's `names`, its COCO categories (by id)
    or its VOC object names (sorted)."""
    if source == "yaml":
        return yaml_names(path)
    return coco_names(path) if source == "coco" else voc_names(path)


def read_source(source: str, path: Path, names: list[str], out: Path) -> Converted:
    """A data set with its own splits read as `source` (yaml, coco or voc; `yoloslim check` and `init` too).

    Args:
        source (str): `yaml` (an Ultralytics data YAML), `coco` or `voc`.
        path (Path): The data YAML, or the COCO or VOC data set's folder.
        names (list[str]): The class names, by class id.
        out (Path): A folder of ours for the label files converted from COCO or VOC (replaced).

    Returns:
        (Converted): Each split's usable images, the problems found and the images they left out.
    """
    readers = {"yaml": lambda: read_data_yaml(path, names), "coco": lambda: read_coco(path, names, out),
               "voc": lambda: read_voc(path, names, out)}  # fmt: skip
    if source not in readers:
        raise ValueError(f"{path}: {source} is not a data set with its own splits (yaml, coco or voc)")
    return readers[source]()


def read_data_yaml(data_yaml: Path, names: list[str]) -> Converted:
    """Check the images and YOLO labels of every split an Ultralytics data YAML names, reading them where they are.

    Args:
        data_yaml (Path): The YAML (train/val/test as folders, list files or lists of them; `path` relative to it).
        names (list[str]): The class names, by class id.

    Returns:
        (Converted): Each split's usable images (`inner`: the path below the split's common folder).

    Raises:
        FileNotFoundError: When a split names a path that does not exist (the message names the YAML and split).
        ValueError: When a split holds no images.
    """
    given = Converted(names=list(names), splits={}, problems=[], skipped=[], notes=[])
    seen: dict[Path, str] = {}
    for split in SPLITS:
        try:
            images = split_images(data_yaml, split)
        except KeyError:
            continue  # no such split: a missing test split is stated in the report, not replaced by val
        common = Path(os.path.commonpath([image.parent for image in images]))
        given.splits[split] = []
        for image in images:
            if image in seen:
                given.problems.append(Problem(str(image), 0, f"in both the '{seen[image]}' and '{split}' splits"))
                given.skipped.append(str(image))
                continue
            seen[image] = split
            sample, problems = _checked_sample(image, image.relative_to(common), names)
            given.problems += problems
            if sample is None:
                given.skipped.append(str(image))
            else:
                given.splits[split].append(sample)
    return given


def given_digest(data_yaml: Path) -> str:
    """Fingerprint of an Ultralytics data YAML and every image and label file its splits name: their paths, sizes
    and modification times (`yoloslim.uptodate.tree_digest` does the same for a folder)."""
    h = hashlib.sha256(Path(data_yaml).read_bytes())
    for split in SPLITS:
        try:
            images = split_images(data_yaml, split)
        except KeyError:
            continue
        for path in (p for image in images for p in (image, label_path(image))):
            stat = path.stat() if path.exists() else None
            h.update(f"{split}\0{path}\0{stat and stat.st_size}\0{stat and stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _checked_sample(image: Path, inner: Path, names: list[str]) -> tuple[Sample | None, list[Problem]]:
    """The image as a `Sample` with its label file (None: a background image), or None and its problems."""
    label = label_path(image)
    problems = check_image(image)
    classes: tuple[int, ...] = ()
    if label.is_file():
        line_problems, classes = check_label(label, len(names), names)
        problems += line_problems
    if problems:
        return None, problems
    return Sample(image, label if label.is_file() else None, inner, classes), []
