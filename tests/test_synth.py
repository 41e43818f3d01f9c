"""The synthetic data set: tree and proportions, determinism, readable codes, tight boxes, ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from yoloslim.cli import main
from yoloslim.data.codes import CLASSES, SYMBOLOGIES, decode_clean, make_code
from yoloslim.data.groundtruth import load_ground_truth
from yoloslim.data.scene import MIN_BAR_MODULE_PX, MIN_MODULE_PX, MIN_SIZE_CAP, Style, render_scene
from yoloslim.data.synth import NEGATIVE, SOURCES, source_counts, synthesize
from yoloslim.eval.decode import crop_box, decode_crop

IMAGES, IMGSZ = 42, 64


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic set, rendered once for this module."""
    return synthesize(tmp_path_factory.mktemp("synth"), images=IMAGES, imgsz=IMGSZ, seed=3)


def _labels(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("labels/*.txt"))}


def test_source_counts_scale_the_original_proportions() -> None:
    counts = source_counts(1000)
    assert sum(counts.values()) == 1000 and set(counts) == set(SOURCES)
    assert all(n >= 1 for n in counts.values())
    assert counts[("multicode", "manual")] > counts[("dmcode", "nignde")] > counts[("qrcode", "dingli")]
    assert sum(source_counts(10).values()) == 10  # fewer images than sources: some sources are empty


def test_tree_matches_counts_and_negatives_are_empty(synth_root: Path) -> None:
    for (category, source), count in source_counts(IMAGES).items():
        folder = synth_root / category / source if source else synth_root / category
        stems = {tuple(sorted(p.stem for p in (folder / sub).iterdir())) for sub in ("images", "labels", "meta")}
        assert len(stems) == 1, f"{folder}: images, labels and meta differ"
        assert len(list((folder / "images").glob("*.jpg"))) == count
    negatives = list((synth_root / NEGATIVE / "labels").glob("*.txt"))
    assert negatives and all(p.read_bytes() == b"" for p in negatives)
    assert all(json.loads(p.read_text())["codes"] == [] for p in (synth_root / NEGATIVE / "meta").glob("*.json"))
    multi = [len(json.loads(p.read_text())["codes"]) for p in synth_root.glob("multicode/*/meta/*.json")]
    # 2-6 codes each, fewer where a 64 px image has no room for them at a readable module size
    assert multi and all(1 <= n <= 6 for n in multi) and max(multi) >= 3


def test_same_seed_gives_identical_labels(synth_root: Path, tmp_path: Path) -> None:
    again = synthesize(tmp_path / "again", images=IMAGES, imgsz=IMGSZ, seed=3)
    other = synthesize(tmp_path / "other", images=IMAGES, imgsz=IMGSZ, seed=4)
    assert _labels(again) == _labels(synth_root)
    assert _labels(other) != _labels(synth_root)


def test_clean_renderings_decode() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for i in range(90):
        code = make_code(rng, CLASSES[i % 3])
        assert decode_clean(code) == (code.symbology, code.payload)
        seen.add(code.symbology)
    assert seen == {s for symbologies in SYMBOLOGIES.values() for s in symbologies}


def test_boxes_inside_image_and_match_meta(synth_root: Path) -> None:
    boxes = 0
    for meta_file in synth_root.rglob("meta/*.json"):
        meta = json.loads(meta_file.read_text())
        label = meta_file.parent.parent / "labels" / f"{meta_file.stem}.txt"
        rows = [list(map(float, line.split())) for line in label.read_text().splitlines()]
        assert len(rows) == len(meta["codes"])
        for row, code in zip(rows, meta["codes"], strict=True):
            cls, x, y, w, h = row
            assert CLASSES[int(cls)] == code["class"] and code["payload"]
            assert 0 < w <= 1 and 0 < h <= 1 and 0 <= x - w / 2 and x + w / 2 <= 1 and 0 <= y - h / 2 and y + h / 2 <= 1
            polygon = np.array(code["polygon"])
            assert np.allclose(polygon.min(0), code["box"][:2], atol=0.01)
            assert np.allclose(polygon.max(0), code["box"][2:], atol=0.01)
            assert np.allclose([x - w / 2, y - h / 2], np.array(code["box"][:2]) / IMGSZ, atol=1e-4)
            boxes += 1
    assert boxes >= IMAGES


def test_ground_truth_through_a_symlink(synth_root: Path, tmp_path: Path) -> None:
    image = next(synth_root.glob("qrcode/*/images/*.jpg"))
    link = tmp_path / "images" / "x.jpg"
    link.parent.mkdir()
    link.symlink_to(image)
    codes = load_ground_truth(link)
    assert codes and codes[0]["class"] == "qr" and codes[0]["symbology"] == "QRCode"
    plain = tmp_path / "images" / "plain.jpg"
    plain.write_bytes(image.read_bytes())
    assert load_ground_truth(plain) is None


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["synth", str(tmp_path / "set"), "--images", "21", "--imgsz", "48", "--seed", "1"]) == 0
    assert len(list((tmp_path / "set").rglob("images/*.jpg"))) == 21
    assert "written" in capsys.readouterr().out


def test_refuses_a_folder_in_use(synth_root: Path) -> None:
    with pytest.raises(ValueError, match="not empty"):
        synthesize(synth_root, images=21, imgsz=48)


def test_codes_keep_a_readable_module_size_at_small_render_sizes() -> None:
    """No code is drawn under its minimum module size, even when its style asks for a tiny code."""
    rng = np.random.default_rng(0)
    style = Style(rotation=180, perspective=0.0, scale=(0.01, 0.02))  # 0.6-1.3 px at 64 px
    seen = set()
    for cls, upscale in zip(CLASSES * 5, [1] * 9 + [4] * 6, strict=True):  # rendered 4x larger than detected
        _, placed = render_scene(rng, [make_code(rng, cls)], style, IMGSZ * upscale, detect_imgsz=IMGSZ)
        assert len(placed) == 1, "a single code always finds room"
        for p in placed:
            side = float(np.linalg.norm(p.polygon[1] - p.polygon[0])) / upscale  # in pixels the detector sees
            smallest = MIN_BAR_MODULE_PX if p.code.linear else MIN_MODULE_PX
            assert side >= min(p.code.modules.shape[1] * smallest, MIN_SIZE_CAP * IMGSZ) - 1e-6
            assert side >= 10  # the smallest Data Matrix has 10 modules a side
            seen.add(p.code.cls)
    assert seen == {"dm", "qr", "bar"}


def test_a_large_rendering_decodes_every_class_and_symbology(tmp_path: Path) -> None:
    """Rendered at 640 px for a detector at 160 px (the demo): at least 80 % of every class's codes, and most of
    each symbology's, decode from their own ground-truth crop of the original image (the decode ceiling)."""
    root = synthesize(tmp_path / "large", images=120, imgsz=640, seed=7, detect_imgsz=160, workers=2)
    tally: dict[str, list[int]] = {}
    for image in sorted(root.rglob("images/*.jpg")):
        picture = cv2.imread(str(image))
        for code in load_ground_truth(image) or []:
            readable = code["payload"] in decode_crop(crop_box(picture, tuple(code["box"]), 0.15))
            for key in (code["class"], code["symbology"]):
                tally.setdefault(key, []).append(readable)
    rates = {key: sum(v) / len(v) for key, v in tally.items()}
    assert set(rates) >= {*CLASSES, *(s for group in SYMBOLOGIES.values() for s in group)}
    assert all(rates[cls] >= 0.8 for cls in CLASSES), rates
    low = {key: round(rate, 2) for key, rate in rates.items() if rate < 0.6}
    assert not low, low
