"""The embedded synthetic data set: the original study's category/source tree, scaled to N images.

    OUT/<category>/<source>/images/<name>.jpg   the image
    OUT/<category>/<source>/labels/<name>.txt   YOLO labels: class cx cy w h (normalized; dm=0, qr=1, bar=2)
    OUT/<category>/<source>/meta/<name>.json    {"image", "codes": [{class, symbology, payload, box, polygon}]}
    OUT/AiFail/{images,labels,meta}/            hard negatives: no codes, empty label files

Each source has its own character (a `Style`); codes are rendered by zxing-cpp and checked to decode
before nuisances are applied. Every image draws from its own generator seeded by (seed, index), so the
same seed gives byte-identical labels. When rendering changes, bump `yoloslim.shared.SYNTH_VERSION`.
"""

from __future__ import annotations

import errno
import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from yoloslim.data.codes import CLASSES, make_code
from yoloslim.data.scene import Placed, Style, render_negative, render_scene

NEGATIVE = "AiFail"  # the category of hard negatives, which has no sources
_ANY = 180.0  # Style.rotation meaning "any angle"

# (category, source): (image count in the original study, classes drawn, style)
SOURCES: dict[tuple[str, str], tuple[int, tuple[str, ...], Style]] = {
    ("dmcode", "custom"): (819, ("dm",), Style(clutter=0.6)),
    ("dmcode", "dpm"): (512, ("dm",), Style(surface="metal", marking="dots", scale=(0.2, 0.6), glare=0.5)),
    ("dmcode", "fitbit"): (694, ("dm",), Style(surface="dark", marking="light", scale=(0.08, 0.3))),
    ("dmcode", "foxcon"): (643, ("dm",), Style(surface="pcb", marking="etch", scale=(0.1, 0.4), clutter=0.2)),
    ("dmcode", "nignde"): (4261, ("dm",), Style(surface="metal", rotation=30, glare=0.5)),
    ("qrcode", "argos"): (1836, ("qr",), Style(perspective=0.15, scale=(0.15, 0.7))),
    ("qrcode", "chuanqi"): (82, ("qr",), Style(surface="cardboard", rotation=20)),
    ("qrcode", "custom"): (905, ("qr",), Style(clutter=0.7)),
    ("qrcode", "dingli"): (26, ("qr",), Style(surface="plastic", glare=0.8)),
    ("qrcode", "rotate"): (2751, ("qr",), Style(rotation=_ANY)),
    ("barcode", "argos"): (811, ("bar",), Style(perspective=0.12)),
    ("barcode", "chip"): (989, ("bar",), Style(surface="dark", marking="light", scale=(0.25, 0.6))),
    ("barcode", "custom"): (2528, ("bar",), Style(clutter=0.6)),
    ("barcode", "cyclops"): (299, ("bar",), Style(perspective=0.2, motion=0.6)),
    ("barcode", "dibai"): (618, ("bar",), Style(surface="cardboard")),
    ("barcode", "ningde"): (336, ("bar",), Style(surface="metal", glare=0.5)),
    ("barcode", "plastic"): (333, ("bar",), Style(surface="plastic", glare=0.8)),
    ("barcode", "rotate"): (3827, ("bar",), Style(rotation=_ANY)),
    ("multicode", "custom"): (689, CLASSES, Style(rotation=30, scale=(0.08, 0.35), codes=(2, 6), clutter=0.5)),
    ("multicode", "manual"): (7373, CLASSES, Style(rotation=_ANY, scale=(0.08, 0.35), codes=(2, 6))),
    (NEGATIVE, ""): (521, (), Style()),
}


def source_counts(images: int) -> dict[tuple[str, str], int]:
    """Images per (category, source): the original proportions scaled to `images` (largest remainder).

    Every source gets at least one image when `images` is at least the number of sources.
    """
    original = {key: spec[0] for key, spec in SOURCES.items()}
    total = sum(original.values())
    floor = 1 if images >= len(original) else 0
    spare = images - floor * len(original)
    exact = {key: spare * n / total for key, n in original.items()}
    counts = {key: floor + int(v) for key, v in exact.items()}
    order = sorted(original, key=lambda key: (-(exact[key] - int(exact[key])), list(original).index(key)))
    for key in order[: images - sum(counts.values())]:
        counts[key] += 1
    return counts


def synthesize(
    out: Path, images: int, imgsz: int = 256, seed: int = 0, detect_imgsz: int | None = None, workers: int = 1
) -> Path:
    """Write `images` synthetic images (imgsz square) with YOLO labels and payload ground truth to `out`.

    Every image has its own generator, so the files do not depend on `workers`.

    Args:
        out (Path): The folder; must be new or empty, so that no older file mixes in and no existing data set is
            overwritten.
        images (int): The image count (at least 1), split among the sources by `source_counts`.
        imgsz (int): The image side in pixels (at least 32).
        seed (int): Seeds every image's generator with (seed, index): the same seed gives the same labels.
        detect_imgsz (int | None): The side the detector sees the images at (None: `imgsz`); no code is drawn smaller
            than readable there (see `yoloslim.data.scene`).
        workers (int): Processes rendering side by side (1: in this process).

    Returns:
        (Path): `out`.
    """
    if images <= 0 or imgsz < 32:
        raise ValueError(f"synthesize: need images > 0 and imgsz >= 32, got images={images}, imgsz={imgsz}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: already exists and is not empty; synthesize into a new folder")
    jobs = []
    for (category, source), count in source_counts(images).items():
        folder = out / category / source if source else out / category
        for sub in ("images", "labels", "meta"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            name = f"{category}_{source}_{i:05d}" if source else f"{category}_{i:05d}"
            jobs.append(((seed, len(jobs)), folder, name, (category, source), imgsz, detect_imgsz))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_render_job, jobs, chunksize=16))
    else:
        for job in jobs:
            _render_job(job)
    return out


def _render_job(job: tuple) -> None:
    """Render one image: (generator seed, folder, name, (category, source), imgsz, detect_imgsz)."""
    rng_seed, *rest = job
    _write_image(np.random.default_rng(list(rng_seed)), *rest)


def _write_image(
    rng: np.random.Generator, folder: Path, name: str, key: tuple[str, str], imgsz: int, detect_imgsz: int | None
) -> None:
    """Render one image of a source and write its image, label and meta files."""
    _, classes, style = SOURCES[key]
    if not classes:
        image, placed = render_negative(rng, imgsz), []
    else:
        count = int(rng.integers(style.codes[0], style.codes[1] + 1))
        codes = [make_code(rng, str(rng.choice(classes))) for _ in range(count)]
        image, placed = render_scene(rng, codes, style, imgsz, detect_imgsz)
    path = folder / "images" / f"{name}.jpg"
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 96))]):
        free = shutil.disk_usage(path.parent).free  # imwrite says only False: a full disk is the usual cause
        code = errno.ENOSPC if free < 1 << 20 else errno.EIO
        raise OSError(code, f"OpenCV could not write the image ({free // 1024} KB free)", str(path))
    (folder / "labels" / f"{name}.txt").write_text("".join(_label_line(p, imgsz) for p in placed))
    meta = {"image": f"{name}.jpg", "codes": [_meta_code(p) for p in placed]}
    (folder / "meta" / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")


def _label_line(placed: Placed, imgsz: int) -> str:
    """One YOLO label line for a drawn code (box clipped to the image)."""
    x1, y1, x2, y2 = (min(max(v / imgsz, 0.0), 1.0) for v in placed.box)
    cls = CLASSES.index(placed.code.cls)
    return f"{cls} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}\n"


def _meta_code(placed: Placed) -> dict:
    """The ground truth of one drawn code: class, symbology, payload, box and corners in pixels."""
    return {
        "class": placed.code.cls,
        "symbology": placed.code.symbology,
        "payload": placed.code.payload,
        "box": [round(v, 2) for v in placed.box],
        "polygon": [[round(float(x), 2), round(float(y), 2)] for x, y in placed.polygon],
    }
