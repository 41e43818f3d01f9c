"""The mirror of a user's data YAML: Ultralytics reads it as the data set it mirrors and writes only into the mirror."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import file_listing
from PIL import Image
from ultralytics.cfg import get_cfg
from ultralytics.data import build_yolo_dataset
from ultralytics.data.utils import check_det_dataset
from yoloslim.data.mirror import mirror_dataset
from yoloslim.paths import DataFiles

LABEL = "0 0.5 0.5 0.25 0.25\n"


def tiny_dataset(root: Path, **splits: str) -> Path:
    """A hand-made data set: train a folder of three images (b.jpg without a label file), val a list of two images
    (one outside images/); `splits` overrides the YAML's entries. Returns its data.yaml."""
    for name in ("images/train/a.jpg", "images/train/b.jpg", "images/train/sub/c.png", "images/val/d.jpg", "e.jpg"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), (90, 90, 90)).save(root / name)
    for name in ("labels/train/a.txt", "labels/train/sub/c.txt", "labels/val/d.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(LABEL)
    (root / "val.txt").write_text(f"./images/val/d.jpg\n{root / 'e.jpg'}\n")
    spec = {"path": str(root), "train": "images/train", "val": "val.txt", "names": ["dm", "qr"], "nc": 2, **splits}
    (root / "data.yaml").write_text(yaml.safe_dump(spec))
    return root / "data.yaml"


def test_mirror_layout_and_ultralytics_reading_it(tmp_path: Path, out_root: Path) -> None:
    data = tiny_dataset(tmp_path / "user")
    before, files = file_listing(data.parent), DataFiles(out_root / "runs" / "eval" / "w" / "data")
    assert mirror_dataset(data, files) == files.yaml
    train = files.images("train")
    assert [Path(p) for p in files.split_list("train").read_text().splitlines()] == [
        train / "a.jpg", train / "b.jpg", train / "sub" / "c.png"]  # fmt: skip
    assert (train / "sub" / "c.png").resolve() == data.parent / "images" / "train" / "sub" / "c.png"
    copies = sorted(str(p.relative_to(files.dir)) for p in files.dir.rglob("*") if p.is_file() and not p.is_symlink())
    assert copies == [
        "data.yaml",
        "images/val/labels/val/d.txt",  # val's images lie below the data set's root: where Ultralytics looks for it
        "labels/train/a.txt",
        "labels/train/sub/c.txt",
        "train.txt",
        "val.txt",
    ]
    assert (files.dir / "labels" / "train" / "a.txt").read_text() == LABEL
    read = check_det_dataset(str(files.yaml), autodownload=False)
    assert read["names"] == {0: "dm", 1: "qr"} and read["nc"] == 2
    for split, images, boxes in (("train", 3, 2), ("val", 2, 1)):
        dataset = build_yolo_dataset(get_cfg(overrides={"imgsz": 32}), read[split], 2, read, mode="val")
        assert len(dataset) == images and sum(len(lb["cls"]) for lb in dataset.labels) == boxes  # b, e: background
    assert {p.parent.is_relative_to(files.dir) for p in tmp_path.rglob("*.cache")} == {True}
    assert file_listing(data.parent) == before, "mirroring wrote into the data set"


@pytest.mark.parametrize("split", ["val", "test"])
def test_a_missing_split_path_names_the_yaml(tmp_path: Path, out_root: Path, split: str) -> None:
    data = tiny_dataset(tmp_path / "user", **{split: "images/missing"})
    files = DataFiles(out_root / "mirror")
    missing = re.escape(str(data.parent / "images" / "missing"))
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(data))}: '{split}'.*{missing}"):
        mirror_dataset(data, files)
    assert not files.dir.exists()


def test_a_data_set_under_runs_is_used_as_it_is(out_root: Path) -> None:
    data = tiny_dataset(out_root / "runs" / "study" / "data")
    files = DataFiles(out_root / "mirror")
    assert mirror_dataset(data, files) == data and not files.dir.exists()
    user = tiny_dataset(out_root / "user")
    with pytest.raises(ValueError, match="lies inside"):  # a mirror there would remove what it mirrors
        mirror_dataset(user, DataFiles(user.parent))
    assert (user.parent / "images" / "train" / "a.jpg").is_file()
