"""COCO JSON and Pascal VOC XML read into YOLO label files: class ids by name, normalised boxes, every bad
annotation named with its file and annotation id or object number, and nothing written into the data set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import tree_hash
from helpers.annotations import ann, coco_json, image, voc_splits, voc_xml
from yoloslim.data.convert import coco_names, read_coco, read_voc, voc_names


def lines(sample: Any) -> list[str]:
    """The label lines of a sample."""
    return sample.label.read_text().splitlines()


def test_coco_2017_layout(coco: Path, tmp_path: Path) -> None:
    names = coco_names(coco)
    assert names == ["zebra", "ant"]  # by category id (3, 7), not alphabetical
    before = tree_hash(coco)
    converted = read_coco(coco, names, tmp_path / "out")
    assert tree_hash(coco) == before
    assert converted.problems == [] and converted.skipped == []
    assert list(converted.splits) == ["train", "val", "test"]
    a, b, c = converted.splits["train"]
    assert a.image == coco / "train2017" / "a.jpg" and a.inner == Path("a.jpg") and a.classes == (1, 0)
    assert a.label == tmp_path / "out" / "train" / "a.txt"
    assert lines(a) == ["1 0.250000 0.500000 0.250000 0.500000", "0 0.500000 0.500000 1.000000 1.000000"]
    assert b.label is None and b.classes == ()  # a background image
    assert c.inner == Path("sub/c.jpg") and c.label == tmp_path / "out" / "train" / "sub" / "c.txt"
    assert lines(c) == ["1 0.156250 0.541667 0.312500 0.916667"]  # x clipped to 0..10, y to 2..24
    (v,) = converted.splits["val"]
    assert v.image == coco / "images" / "val2017" / "v.jpg" and lines(v) == ["0 0.500000 0.500000 0.500000 1.000000"]
    assert lines(converted.splits["test"][0]) == ["1 0.250000 0.750000 0.500000 0.500000"]
    assert converted.notes == [
        "1 COCO annotations marked iscrowd left out (COCO evaluation ignores crowd regions)",
        "1 boxes reaching at most 1 pixel beyond their image clipped to it",
    ]


def test_coco_roboflow_layout(tmp_path: Path) -> None:
    root = tmp_path / "roboflow"
    categories = [{"id": 0, "name": "codes"}, {"id": 1, "name": "dm"}, {"id": 2, "name": "qr"}]
    for split, category in (("train", 1), ("valid", 2)):
        image(root / split / "x.jpg")
        annotations = [ann(0, 0, category, [0, 0, 16, 12])]
        coco_json(root / split / "_annotations.coco.json", [(0, "x.jpg")], annotations, categories=categories)
    assert coco_names(root) == ["dm", "qr"]  # category 0, the data set's name, has no annotation
    converted = read_coco(root, ["dm", "qr"], tmp_path / "out")
    assert converted.problems == [] and list(converted.splits) == ["train", "val"]
    (sample,) = converted.splits["val"]
    assert sample.image == root / "valid" / "x.jpg" and sample.label == tmp_path / "out" / "val" / "x.txt"
    assert lines(sample) == ["1 0.250000 0.250000 0.500000 0.500000"]


def test_coco_problems_named(coco: Path, tmp_path: Path) -> None:
    train = coco / "annotations" / "instances_train2017.json"
    image(coco / "train2017" / "d.jpg")
    image(coco / "train2017" / "e.jpg", size=(40, 24))
    image(coco / "train2017" / "f.jpg", orientation=6)  # stored 32x24, read as 24x32 (EXIF: rotate 90 degrees)
    image(coco / "train2017" / "g.jpg", size=(24, 32), orientation=6)  # stored 24x32, read as 32x24
    (coco / "train2017" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    images = [(1, "a.jpg"), (2, "b.jpg"), (3, "sub/c.jpg"), (4, "d.jpg"), (5, "missing.jpg"), (6, "corrupt.jpg")]
    images += [(7, "e.jpg"), (8, "f.jpg"), (9, "g.jpg")]
    annotations = [
        ann(101, 1, 7, [20, 0, 20, 10]),  # x+w 40 > width 32
        ann(102, 2, 3, [4, 4, 0, 5]),  # zero width
        ann(103, 3, 5, [1, 1, 2, 2]),  # category 5 not in the JSON
        ann(104, 4, 9, [1, 1, 2, 2]),  # category 9 'bird' not among the study's classes
        ann(105, 99, 3, [1, 1, 2, 2]),  # image 99 not in images
        ann(106, 4, 3, [1, 1, 2, 2], iscrowd=1),  # crowd: left out, not a problem
    ]
    categories = [{"id": 3, "name": "zebra"}, {"id": 7, "name": "ant"}, {"id": 9, "name": "bird"}]
    coco_json(train, images, annotations, categories=categories)
    before = tree_hash(coco)
    converted = read_coco(coco, ["zebra", "ant"], tmp_path / "out")
    assert tree_hash(coco) == before, "the conversion wrote into the data set"
    expected = {
        "annotation 101: box outside the image (x+w 40 > width 32)",
        "annotation 102: empty box (width 0, height 5)",
        "annotation 103: unknown category id 5",
        "annotation 104: category id 9 'bird' is not one of the study's classes",
        "annotation 105: image id 99 not in 'images'",
        "image 5 'missing.jpg': image file not found in",
        "image 6 'corrupt.jpg': ",  # ... corrupt or unreadable image: ...
        "image 7 'e.jpg': size 32x24 in the annotations, 40x24 in the image file",
        "image 8 'f.jpg': size 32x24 in the annotations, 24x32 in the image file (after its EXIF rotation",
    }
    messages = [p.message for p in converted.problems]
    assert all(p.file == str(train) and p.line == 0 for p in converted.problems)
    for message in expected:
        assert any(m.startswith(message) for m in messages), f"{message!r} not in {messages}"
    assert "corrupt or unreadable image" in next(m for m in messages if m.startswith("image 6"))
    assert len(messages) == 9 and not any("annotation 106" in m for m in messages)
    skipped = {Path(s).name for s in converted.skipped}
    assert skipped == {"a.jpg", "b.jpg", "c.jpg", "d.jpg", "missing.jpg", "corrupt.jpg", "e.jpg", "f.jpg"}
    assert [s.image.name for s in converted.splits["train"]] == ["g.jpg"]


def test_coco_image_in_two_splits(tmp_path: Path) -> None:
    root = tmp_path / "coco"
    image(root / "images" / "x.jpg")
    image(root / "images" / "y.jpg")
    train = coco_json(root / "annotations" / "instances_train.json", [(1, "x.jpg"), (2, "y.jpg")], [])
    val = coco_json(root / "annotations" / "instances_val.json", [(1, "x.jpg")], [])
    converted = read_coco(root, ["zebra", "ant"], tmp_path / "out")
    (problem,) = converted.problems
    assert problem.file == str(root / "images" / "x.jpg")
    assert problem.message == f"image listed 2 times ({train} image 1; {val} image 1): left out"
    assert converted.splits == {"train": [converted.splits["train"][0]], "val": []}
    assert converted.splits["train"][0].image.name == "y.jpg"


def test_coco_unusable_files(tmp_path: Path) -> None:
    root = tmp_path / "coco"
    with pytest.raises(FileNotFoundError, match=r"coco: no COCO annotation file found.*instances_<split>\*\.json"):
        read_coco(root, ["a"], tmp_path / "out")
    broken = root / "annotations" / "instances_val2017.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=f"{broken}: not valid JSON"):
        read_coco(root, ["a"], tmp_path / "out")
    broken.write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(ValueError, match=f"{broken}: not a COCO annotation file: no list of objects under categories"):
        coco_names(root)
    other = coco_json(root / "annotations" / "instances_train2017.json", [], [ann(1, 1, 3, [0, 0, 1, 1])])
    coco_json(broken, [], [ann(1, 1, 3, [0, 0, 1, 1])], categories=[{"id": 3, "name": "horse"}])
    with pytest.raises(ValueError, match=f"category id 3 is 'horse', but 'zebra' in {other}"):
        coco_names(root)
    with pytest.raises(ValueError, match="must lie outside the data set"):
        read_coco(root, ["zebra"], root / "labels")


def test_voc_layout(voc: Path, tmp_path: Path) -> None:
    names = voc_names(voc)
    assert names == ["cat", "dog", "person"]
    before = tree_hash(voc)
    converted = read_voc(voc, names, tmp_path / "out")
    assert tree_hash(voc) == before
    assert converted.problems == [] and list(converted.splits) == ["train", "val"]  # trainval.txt is no split
    first, second = converted.splits["train"]
    assert first.image == voc / "JPEGImages" / "000001.jpg" and first.inner == Path("000001.jpg")
    assert first.label == tmp_path / "out" / "train" / "000001.txt" and first.classes == (1, 0)
    assert lines(first) == ["1 0.281250 0.541667 0.250000 0.500000", "0 0.515625 0.520833 0.968750 0.958333"]
    assert second.label is None and second.inner == Path("000002.jpg")  # no <filename>: <id>.jpg
    assert lines(converted.splits["val"][0]) == ["2 0.765625 0.270833 0.468750 0.458333"]
    assert converted.notes == ["1 VOC objects marked difficult left out (as Ultralytics' VOC.yaml does)"]


def test_voc_problems_named(voc: Path, tmp_path: Path) -> None:
    annotations, main = voc / "Annotations", voc / "ImageSets" / "Main"
    for ident in ("000004", "000006", "000007", "000008"):
        image(voc / "JPEGImages" / f"{ident}.jpg")
    image(voc / "JPEGImages" / "000009.jpg", size=(20, 20))
    outside = voc_xml(annotations / "000004.xml", "000004.jpg", [("dog", 0, 1, 1, 5, 5), ("dog", 0, 20, 1, 40, 5)])
    (annotations / "000005.xml").write_text("<annotation><filename>000005.jpg</filename>")
    unknown = voc_xml(annotations / "000006.xml", None, [("bird", 0, 1, 1, 5, 5)])
    empty = voc_xml(annotations / "000007.xml", None, [("cat", 0, 1, 1, 2, 2), ("dog", 0, 10, 1, 10, 5)])
    missing_image = voc_xml(annotations / "000010.xml", "gone.jpg", [])
    wrong_size = voc_xml(annotations / "000009.xml", None, [])
    voc_xml(annotations / "000008.xml", None, [])
    train = ["000001", "000002", "000004", "000005", "000006", "000007", "000009", "000010", "000011", "000002"]
    voc_splits(voc, train=train, val=["000003", "000008"], test=["000008"])
    before = tree_hash(voc)
    converted = read_voc(voc, ["cat", "dog", "person"], tmp_path / "out")
    assert tree_hash(voc) == before, "the conversion wrote into the data set"
    found = {(p.file, p.line): p.message for p in converted.problems}
    expected = {
        (outside, 2): "object 2 'dog': box outside the image (xmax 40 > width 32)",
        (annotations / "000005.xml", 0): "unparsable XML: ",
        (unknown, 1): "object 1 'bird': unknown class name 'bird'",
        (empty, 2): "object 2 'dog': empty box (width 0, height 4)",
        (missing_image, 0): f"image file {voc / 'JPEGImages' / 'gone.jpg'} not found",
        (wrong_size, 0): "size 32x24 in the annotations, 20x20 in the image file",
        (main / "train.txt", 9): f"id 000011: annotation file {annotations / '000011.xml'} not found",
        (main / "train.txt", 10): "id 000002 listed again (line 2): kept once",
        (voc / "JPEGImages" / "000008.jpg", 0): f"image listed 2 times ({main / 'val.txt'}:2; {main / 'test.txt'}:1)",
    }
    for (file, line), message in expected.items():
        assert found.get((str(file), line), "").startswith(message), f"{message!r} not at {file}:{line}: {found}"
    assert len(converted.problems) == len(expected)
    skipped = {Path(s).stem for s in converted.skipped}
    assert skipped == {"000004", "000005", "000006", "000007", "000009", "gone", "000011", "000008"}
    assert [s.inner.stem for s in converted.splits["train"]] == ["000001", "000002"]
    assert [s.inner.stem for s in converted.splits["val"]] == ["000003"] and converted.splits["test"] == []


def test_voc_without_split_files(tmp_path: Path) -> None:
    root = tmp_path / "VOC"
    voc_splits(root, trainval=["000001"])
    with pytest.raises(FileNotFoundError, match=f"{root / 'ImageSets' / 'Main'}: no split file"):
        read_voc(root, ["dog"], tmp_path / "out")


def test_rerun_clears_stale_labels(voc: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    read_voc(voc, ["cat", "dog", "person"], out)
    stale = out / "test" / "old.txt"
    stale.parent.mkdir()
    stale.write_text("0 0.5 0.5 0.1 0.1\n")
    voc_splits(voc, train=["000002"], val=["000003"])
    converted = read_voc(voc, ["cat", "dog", "person"], out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["val", "val/000003.txt"]
    assert converted.splits["train"][0].label is None
