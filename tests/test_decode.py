"""Decode-rate matching: clean codes found by their ground-truth boxes decode and match; shifted boxes do not; only
the code classes are decoded, each as its symbology (`eval.decode`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from yoloslim.config import SYNTH_DECODE
from yoloslim.data.codes import clean_image, make_code
from yoloslim.data.mirror import split_images
from yoloslim.eval.decode import (
    DecodeTally,
    Detection,
    box_iou,
    cached_decodable,
    crop_box,
    decodable_codes,
    tally_image,
)

NAMES = ["dm", "qr", "bar"]


def _scene(seed: int) -> tuple[np.ndarray, list[dict]]:
    """A white 360x360 image holding one clean code of each class, with its payload ground truth."""
    rng = np.random.default_rng(seed)
    canvas = np.full((360, 360), 255, np.uint8)
    codes = []
    for (top, left), cls in zip([(10, 10), (10, 190), (220, 10)], NAMES, strict=True):
        code = make_code(rng, cls)
        tile = clean_image(code, scale=2 if cls == "bar" else 3)[:130, :340]
        canvas[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
        ys, xs = np.nonzero(tile < 128)  # the code's dark extent: its box without the quiet zone
        box = [left + xs.min(), top + ys.min(), left + xs.max() + 1, top + ys.max() + 1]
        codes.append({"class": cls, "symbology": code.symbology, "payload": code.payload, "box": box})
    return canvas, codes


def _tally(shift: float, seeds: range, classes: dict[str, str] | None = None) -> dict[str, DecodeTally]:
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    for seed in seeds:
        image, codes = _scene(seed)
        detections = []
        for c in codes:
            x1, y1, x2, y2 = c["box"]
            dx = (x2 - x1) * shift
            detections.append(Detection((x1 + dx, y1, x2 + dx, y2), NAMES.index(c["class"])))
        tally_image(image, detections, codes, margin=0.15, names=NAMES, tallies=tallies, classes=classes)
    return tallies


def test_ground_truth_boxes_decode_and_match() -> None:
    tallies = _tally(shift=0.0, seeds=range(4))
    total = tallies["all"]
    assert total.gt_codes == 12 and total.detections == 12
    assert total.decoded >= 10  # clean codes cropped at their true box decode
    assert total.decoded <= total.detections_decoded
    for cls in NAMES:
        assert tallies[cls].gt_codes == 4
        assert tallies[cls].decoded >= 2
    row = total.row(has_payloads=True)
    assert row["decode_rate"] == pytest.approx(total.decoded / 12)


def test_shifted_boxes_do_not_match() -> None:
    tallies = _tally(shift=0.7, seeds=range(2))
    assert tallies["all"].gt_codes == 6
    assert tallies["all"].decoded == 0


def test_each_code_matches_once() -> None:
    image, codes = _scene(0)
    box = tuple(codes[1]["box"])
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    tally_image(
        image, [Detection(box, 1, 0.9), Detection(box, 1, 0.8)], codes, margin=0.15, names=NAMES, tallies=tallies
    )
    assert tallies["qr"].detections == 2
    assert tallies["qr"].decoded == 1  # two detections of one code: one match
    assert tallies["dm"].decoded == 0 and tallies["dm"].gt_codes == 1


def test_a_detection_of_another_class_decodes_nothing() -> None:
    """A QR code found as a DataMatrix: its crop decodes, but the detector did not find a QR code."""
    image, codes = _scene(0)
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    tally_image(image, [Detection(tuple(codes[1]["box"]), 0)], codes, margin=0.15, names=NAMES, tallies=tallies)
    assert tallies["dm"].detections_decoded == 1 and tallies["all"].decoded == 0
    right = {k: DecodeTally() for k in [*NAMES, "all"]}
    tally_image(image, [Detection(tuple(codes[1]["box"]), 1)], codes, margin=0.15, names=NAMES, tallies=right)
    assert right["qr"].decoded == 1  # the same box with the right class counts


def test_a_read_of_another_format_does_not_count() -> None:
    """A `qr` detection whose crop reads as a DataMatrix has not decoded a QR code, when `qr` must read as QRCode."""
    image, codes = _scene(0)
    datamatrix = codes[0]
    mislabelled = [{**datamatrix, "class": "qr"}]  # ground truth that calls the DataMatrix a qr
    detection = [Detection(tuple(datamatrix["box"]), NAMES.index("qr"))]

    def qr_tally(classes: dict[str, str] | None) -> DecodeTally:
        tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
        tally_image(image, detection, mislabelled, margin=0.15, names=NAMES, tallies=tallies, classes=classes)
        return tallies["qr"]

    assert qr_tally(None).decoded == 1  # any format: its payload was read
    wrong = qr_tally(SYNTH_DECODE)
    assert (wrong.detections, wrong.detections_decoded, wrong.decoded, wrong.gt_codes) == (1, 0, 0, 1)
    assert qr_tally({"qr": "DataMatrix"}).decoded == 1  # the format the mapping asks for


def test_the_synthetic_mapping_counts_as_any_format() -> None:
    """On the synthetic set each class is drawn in its own symbologies: its mapping changes no count."""
    assert _tally(0.0, range(2), SYNTH_DECODE) == _tally(0.0, range(2))


def test_only_the_code_classes_are_decoded(tmp_path: Path) -> None:
    """Classes left out of the mapping are neither decoded nor counted: no tally is needed for them."""
    qr_only = {"qr": "QRCode"}
    images = _write_scenes(tmp_path, range(2))
    found = decodable_codes(images, margin=0.15, classes=qr_only)
    assert found == [[1], [1]]  # the qr code of each scene; its dm and bar are not tried
    image, codes = _scene(0)
    tallies = {k: DecodeTally() for k in ["qr", "all"]}
    detections = [Detection(tuple(c["box"]), NAMES.index(c["class"])) for c in codes]
    tally_image(image, detections, codes, margin=0.15, names=NAMES, tallies=tallies, decodable=found[0],
                classes=qr_only)  # fmt: skip
    assert tallies["all"] == tallies["qr"] == DecodeTally(1, 1, 1, 1, 1, 1)


def test_ratio_to_the_ceiling_counts_only_decodable_codes() -> None:
    """Codes the detector's crop decodes but their own box does not are decoded, not in the ceiling's ratio: it
    cannot exceed 1."""
    image, codes = _scene(0)
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    detections = [Detection(tuple(c["box"]), NAMES.index(c["class"])) for c in codes]
    tally_image(image, detections, codes, margin=0.15, names=NAMES, tallies=tallies, decodable=[1])
    total = tallies["all"]
    assert total.decoded == 3 and total.gt_decodable == 1 and total.decoded_decodable == 1
    assert total.row(has_payloads=True)["decode_rate_vs_decodable"] == 1.0  # not 3 / 1
    assert tallies["qr"].gt_decodable == 1 and tallies["dm"].gt_decodable == 0


def test_without_payloads_only_detection_fraction() -> None:
    image, _ = _scene(1)
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    tally_image(image, [Detection((0, 0, 5, 5), 0)], None, margin=0.15, names=NAMES, tallies=tallies)
    row = tallies["all"].row(has_payloads=False)
    assert row["gt_codes"] is None and row["decode_rate"] is None
    assert row["detections"] == 1 and row["detection_decode_fraction"] == 0.0


def _write_scenes(root: Path, seeds: range) -> list[Path]:
    """The scenes saved as the synthetic set stores them: images/<n>.png beside meta/<n>.json."""
    (root / "images").mkdir(parents=True)
    (root / "meta").mkdir()
    images = []
    for seed in seeds:
        image, codes = _scene(seed)
        path = root / "images" / f"{seed}.png"
        cv2.imwrite(str(path), image)
        codes = [{**c, "box": [int(v) for v in c["box"]]} for c in codes]  # numpy ints -> JSON
        (root / "meta" / f"{seed}.json").write_text(json.dumps({"codes": codes}))
        images.append(path)
    return images


def test_ceiling_counts_what_ground_truth_boxes_decode(tmp_path: Path) -> None:
    images = _write_scenes(tmp_path, range(4))
    decodable = decodable_codes(images, margin=0.15)
    tallies = {k: DecodeTally() for k in [*NAMES, "all"]}
    for seed, found in zip(range(4), decodable, strict=True):  # detected exactly at their ground-truth boxes
        image, codes = _scene(seed)
        detections = [Detection(tuple(c["box"]), NAMES.index(c["class"])) for c in codes]
        tally_image(image, detections, codes, margin=0.15, names=NAMES, tallies=tallies, decodable=found)
    for key in [*NAMES, "all"]:
        assert tallies[key].gt_decodable == tallies[key].decoded == tallies[key].decoded_decodable
    assert tallies["all"].gt_decodable >= 10
    plain = tmp_path / "plain.png"  # no meta file: no payload ground truth, nothing counted
    assert cv2.imwrite(str(plain), _scene(0)[0])
    assert decodable_codes([plain], margin=0.15) == [[]]


def test_ceiling_cached_per_split_and_settings(tmp_path: Path) -> None:
    images = _write_scenes(tmp_path / "data", range(2))
    cache = tmp_path / "eval" / "gt_decodable.json"
    found = cached_decodable(cache, images, split="test", margin=0.15)
    assert found == decodable_codes(images, margin=0.15)
    stored = json.loads(cache.read_text())
    stored["entries"][0]["codes"][0] = [-1]  # a marker: a reused entry returns it, a recount would not
    cache.write_text(json.dumps(stored))
    assert cached_decodable(cache, images, split="test", margin=0.15)[0] == [-1]
    assert cached_decodable(cache, images, split="test", margin=0.3)[0] != [-1]  # other settings
    assert len(json.loads(cache.read_text())["entries"]) == 2
    stat = images[0].stat()
    os.utime(images[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the data set changed: counted again
    assert cached_decodable(cache, images, split="test", margin=0.15) == found


def test_ratio_to_ceiling() -> None:
    row = DecodeTally(gt_codes=10, decoded=4, gt_decodable=4, decoded_decodable=3).row(has_payloads=True)
    assert row["gt_decodable"] == 4 and row["decode_rate_vs_decodable"] == pytest.approx(0.75)
    assert row["decode_rate"] == pytest.approx(0.4)
    assert DecodeTally(gt_codes=5, gt_decodable=0).row(has_payloads=True)["decode_rate_vs_decodable"] is None
    missing = DecodeTally(detections=2, gt_decodable=3).row(has_payloads=False)
    assert missing["gt_decodable"] is None and missing["decode_rate_vs_decodable"] is None


def test_crop_and_iou() -> None:
    image = np.zeros((50, 100), np.uint8)
    assert crop_box(image, (90, 40, 110, 60), 0.1).shape[:2] != (0, 0)  # clipped, enlarged
    assert min(crop_box(image, (10, 10, 20, 20), 0.0).shape[:2]) >= 96
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_split_images_reads_list_files(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "test.txt").write_text(f"{tmp_path / 'a.jpg'}\n./b.png\n")
    data = tmp_path / "data.yaml"
    data.write_text(f"path: {tmp_path}\ntest: test.txt\nnames: {{0: dm}}\n")
    assert split_images(data, "test") == [tmp_path / "a.jpg", tmp_path / "b.png"]
    with pytest.raises(KeyError, match="val"):
        split_images(data, "val")
