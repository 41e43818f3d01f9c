"""Decode rate: does a detected code still decode? Each detection is cropped with a margin and read by zxing-cpp.

Only the code classes are decoded: `classes` maps each to the zxing-cpp symbology its detections must decode as
(`eval.decode`, resolved by `yoloslim.config.decode_classes`: DataMatrix, QRCode, `linear` for any 1-D barcode...);
detections and ground-truth codes of other classes are left out, and a read of another format does not count (a
`qr` detection whose crop reads as a DataMatrix has not decoded a QR code). Without a mapping (None) every class
is decoded and any format counts.

With payload ground truth (the synthetic set writes it), a ground-truth code counts as detected-and-decoded
when one detection of its class has a crop that decodes to its payload and a box that overlaps its box
(IoU >= MATCH_IOU); each code and each detection is matched at most once. A detection of another class does
not count (a detector that mislabels a QR code as a DataMatrix has not found a QR code). Without payloads only
the fraction of detections that decode is known.

Detections are cropped from the original image (Ultralytics maps boxes back from the detector's input size),
so a data set captured or rendered at a higher resolution than the detector sees decodes at full resolution.
The ceiling: a code too small or blurred does not decode even from its exact box. `gt_decodable`
counts the ground-truth codes that decode when cropped at their own ground-truth box (same margin, same
decoder); `decode_rate_vs_decodable` = the decoded codes among those, over gt_decodable (at most 1: a code the
detector's crop decodes but its own box does not is in `decoded`, not in this ratio). Which codes decode from
their own box does not depend on the model, so `cached_decodable` finds them once per split and decode
settings and keeps them in a JSON file.

    from yoloslim.eval.decode import measure_decode
    classes = {"dm": "DataMatrix", "qr": "QRCode", "bar": "linear"}
    measure_decode(model, images, imgsz=256, conf=0.5, iou=0.6, margin=0.15, names=["dm", "qr", "bar"],
                   classes=classes)
    # {'has_payloads': True, 'rows': {'dm': {'gt_codes': 40, 'decoded': 31, 'decode_rate': 0.775, ...}, 'all': ...}}
    cached_decodable(Path("runs/demo/eval/gt_decodable.json"), images, split="test", margin=0.15, classes=classes)
    # [[0, 2], [], [1], ...]: per image, the indices of its codes that decode from their own box
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from yoloslim.atomic import write_json
from yoloslim.config import LINEAR
from yoloslim.data.groundtruth import load_ground_truth

MATCH_IOU = 0.5  # a detection and a ground-truth code overlap when their boxes' IoU reaches this
MIN_CROP = 96  # crops with a shorter side are enlarged (bicubic) before decoding: zxing-cpp reads more
ROTATIONS = (30, 60, 120, 150)  # degrees: a crop that does not decode upright is also read at these angles
ROTATED_CROP = 320  # crops are enlarged to at least this shorter side before they are rotated


@dataclass(frozen=True)
class Detection:
    """One detected box in image pixels (x1, y1, x2, y2), its class id and confidence."""

    box: tuple[float, float, float, float]
    cls: int
    conf: float = 1.0


@dataclass
class DecodeTally:
    """Counts for one class (or all): ground-truth codes, how many were decoded, how many can be (the ceiling:
    decoded from their own ground-truth box) and how many of those were decoded; detections and decodes."""

    gt_codes: int = 0
    decoded: int = 0
    detections: int = 0
    detections_decoded: int = 0
    gt_decodable: int = 0
    decoded_decodable: int = 0

    def row(self, has_payloads: bool) -> dict[str, float | int | None]:
        """The documented decode.csv columns (GT columns None without payload ground truth)."""
        return {
            "gt_codes": self.gt_codes if has_payloads else None,
            "decoded": self.decoded if has_payloads else None,
            "decode_rate": _ratio(self.decoded, self.gt_codes) if has_payloads else None,
            "gt_decodable": self.gt_decodable if has_payloads else None,
            "decode_rate_vs_decodable": _ratio(self.decoded_decodable, self.gt_decodable) if has_payloads else None,
            "detections": self.detections,
            "detections_decoded": self.detections_decoded,
            "detection_decode_fraction": _ratio(self.detections_decoded, self.detections),
        }


def crop_box(image: np.ndarray, box: tuple[float, float, float, float], margin: float) -> np.ndarray:
    """The box widened by `margin` of its size on every side, clipped to the image, enlarged when small.

    Args:
        image (np.ndarray): The image cropped.
        box (tuple[float, float, float, float]): The box in image pixels (x1, y1, x2, y2).
        margin (float): The widening on each side, as a fraction of the box's width and height.

    Returns:
        (np.ndarray): The crop, enlarged (bicubic) to `MIN_CROP` pixels on its shorter side when smaller; empty when
            the box lies outside the image.
    """
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = image.shape[:2]
    left, top = max(int(x1 - dx), 0), max(int(y1 - dy), 0)
    right, bottom = min(int(np.ceil(x2 + dx)), w), min(int(np.ceil(y2 + dy)), h)
    crop = image[top:bottom, left:right]
    if crop.size == 0:
        return crop
    scale = MIN_CROP / min(crop.shape[:2])
    if scale > 1:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return crop


def decode_crop(crop: np.ndarray) -> set[str]:
    """The payloads zxing-cpp reads in a grayscale or BGR crop, of any format (empty when nothing decodes)."""
    return {payload for _, payload in read_crop(crop)}


def read_crop(crop: np.ndarray) -> set[tuple[str, str]]:
    """(format, payload) of each code zxing-cpp reads in a grayscale or BGR crop; the format is its BarcodeFormat
    name (DataMatrix, QRCode, EAN13, ...). Empty when nothing decodes.

    Read as an omnidirectional scanner reads: as it is, then inverted (light marks on a dark surface), then
    rotated by `ROTATIONS` (zxing-cpp scans 1-D codes along rows and columns only), until something decodes.
    """
    if crop.size == 0:
        return set()
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    for angle in (0, *ROTATIONS):
        view = gray if angle == 0 else _rotate(_enlarged(gray), angle)
        for image in (view, 255 - view):
            found = {(b.format.name, b.text) for b in zxingcpp.read_barcodes(np.ascontiguousarray(image)) if b.valid}
            if found:
                return found
    return set()


@functools.cache
def family_formats(symbology: str) -> frozenset[str]:
    """The BarcodeFormat names a read may have to count as `symbology` (an `eval.decode` value): the format and
    its variants (QRCode: also Micro QR, rMQR, models 1 and 2), a group's formats (EANUPC, AllMatrix), or every 1-D
    format for `linear`."""
    formats = zxingcpp.BarcodeFormat
    chosen = formats.AllLinear if symbology == LINEAR else getattr(formats, symbology)
    return frozenset(f.name for f in zxingcpp.barcode_formats_list(chosen))


def _enlarged(image: np.ndarray) -> np.ndarray:
    """`image` enlarged (bicubic) to `ROTATED_CROP` pixels on its shorter side when smaller: rotating resamples,
    and bars a few pixels wide blur together unless the crop is enlarged first."""
    scale = ROTATED_CROP / min(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else image


def _rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """`image` rotated by `angle` degrees about its center, on a canvas that holds all of it (edges repeated)."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(h * sin + w * cos), int(h * cos + w * sin))
    matrix[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REPLICATE)


def box_iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def tally_image(
    image: np.ndarray,
    detections: list[Detection],
    codes: list[dict] | None,
    *,
    margin: float,
    names: list[str],
    tallies: dict[str, DecodeTally],
    decodable: Collection[int] = (),
    classes: Mapping[str, str] | None = None,
) -> None:
    """Decode every detection of one image and add its counts to `tallies` (keys: the decoded class names and `all`).

    Args:
        image (np.ndarray): The original image the detections are cropped from.
        detections (list[Detection]): Its detections in image pixels, matched in order of confidence.
        codes (list[dict] | None): Its payload ground truth (dicts with `class`, `payload`, `box`), or None without it.
        margin (float): The crop margin (`crop_box`).
        names (list[str]): The class names by class id.
        tallies (dict[str, DecodeTally]): The counts added to, changed in place.
        decodable (Collection[int]): The indices of its codes that decode from their own box (`decodable_codes`).
        classes (Mapping[str, str] | None): The code classes -> the symbology a read must have to count for them
            (`family_formats`); detections and codes of other classes are left out. None: every class, any format.
    """
    formats = _formats(classes)
    matched: set[int] = set()
    for det in sorted(detections, key=lambda d: -d.conf):
        name = names[det.cls]
        if formats is not None and name not in formats:
            continue  # not a code class: nothing to decode
        reads = read_crop(crop_box(image, det.box, margin))
        payloads = {payload for fmt, payload in reads if formats is None or fmt in formats[name]}
        for key in (name, "all"):
            tallies[key].detections += 1
            tallies[key].detections_decoded += bool(payloads)
        for i, code in enumerate(codes or []):
            if (
                i not in matched
                and code["class"] == name
                and code["payload"] in payloads
                and box_iou(det.box, code["box"]) >= MATCH_IOU
            ):
                matched.add(i)
                break
    for i, code in enumerate(codes or []):
        if formats is not None and code["class"] not in formats:
            continue
        for key in (code["class"], "all"):
            tallies[key].gt_codes += 1
            tallies[key].decoded += i in matched
            tallies[key].gt_decodable += i in decodable
            tallies[key].decoded_decodable += i in matched and i in decodable


def measure_decode(
    model,
    images: list[Path],
    *,
    imgsz: int,
    conf: float,
    iou: float,
    margin: float,
    names: list[str],
    decodable: list[list[int]] | None = None,
    classes: Mapping[str, str] | None = None,
) -> dict:
    """Detect codes in `images` with an Ultralytics `YOLO` model at `conf`, decode each detection, tally per class.

    Args:
        model (YOLO): The Ultralytics `YOLO` model.
        images (list[Path]): The images, with their payload ground truth where there is one.
        imgsz (int): The detector's input size.
        conf (float): The confidence threshold of the detections.
        iou (float): The NMS IoU threshold.
        margin (float): The crop margin (`crop_box`).
        names (list[str]): The class names by class id.
        decodable (list[list[int]] | None): The ceiling of these images, per image the codes that decode from their
            own box (`decodable_codes` or `cached_decodable`); found here when None.
        classes (Mapping[str, str] | None): The code classes decoded and their symbologies (`tally_image`); None:
            every class, any format.

    Returns:
        (dict): {"has_payloads": ..., "images": ..., "rows": decoded class name or `all` -> its decode.csv columns}.
    """
    decodable = decodable_codes(images, margin=margin, classes=classes) if decodable is None else decodable
    tallies = {key: DecodeTally() for key in [*(n for n in names if classes is None or n in classes), "all"]}
    has_payloads = False
    for path, ceiling in zip(images, decodable, strict=True):
        result = model.predict(str(path), imgsz=imgsz, conf=conf, iou=iou, verbose=False)[0]
        boxes = result.boxes
        detections = [
            Detection(tuple(box), int(cls), score)
            for box, cls, score in zip(boxes.xyxy.tolist(), boxes.cls.tolist(), boxes.conf.tolist(), strict=True)
        ]
        codes = load_ground_truth(path)
        has_payloads |= codes is not None
        tally_image(result.orig_img, detections, codes, margin=margin, names=names, tallies=tallies, decodable=ceiling,
                    classes=classes)  # fmt: skip
    rows = {key: tally.row(has_payloads) for key, tally in tallies.items()}
    return {"has_payloads": has_payloads, "images": len(images), "rows": rows}


def decodable_codes(images: list[Path], *, margin: float, classes: Mapping[str, str] | None = None) -> list[list[int]]:
    """Per image, the indices of its ground-truth codes that decode to their payload when cropped at their own
    ground-truth box with `margin` (none without payload ground truth); with `classes`, only the codes of those
    classes, read as their symbology (`tally_image`)."""
    formats = _formats(classes)
    found = []
    for path in images:
        codes = [
            (i, c) for i, c in enumerate(load_ground_truth(path) or []) if formats is None or c["class"] in formats
        ]
        image = cv2.imread(str(path)) if codes else None
        if codes and image is None:
            raise ValueError(f"{path}: cannot read the image")
        decoded = []
        for i, code in codes:
            reads = read_crop(crop_box(image, tuple(code["box"]), margin))
            if any(payload == code["payload"] and (formats is None or fmt in formats[code["class"]])
                   for fmt, payload in reads):  # fmt: skip
                decoded.append(i)
        found.append(decoded)
    return found


def cached_decodable(
    cache: Path, images: list[Path], *, split: str, margin: float, classes: Mapping[str, str] | None = None
) -> list[list[int]]:
    """`decodable_codes` of a split, kept in the JSON file `cache` (one entry per decode settings).

    An entry is reused when the split, margin, code classes and their symbologies, crop enlargement and rotations,
    zxing-cpp version and the images (paths, sizes, modification times, in order) are all the same; otherwise it is
    found and added.

    Args:
        cache (Path): The JSON file (rewritten, atomically, when an entry is added).
        images (list[Path]): The split's images.
        split (str): The split's name, part of the entry's settings.
        margin (float): The crop margin (`crop_box`).
        classes (Mapping[str, str] | None): The code classes and their symbologies (`decodable_codes`).

    Returns:
        (list[list[int]]): Per image, the indices of its ground-truth codes that decode from their own box.
    """
    cache = Path(cache)
    settings = {
        "split": split,
        "margin": margin,
        "classes": None if classes is None else dict(classes),
        "min_crop": MIN_CROP,
        "rotations": list(ROTATIONS),
        "rotated_crop": ROTATED_CROP,
        "zxing-cpp": importlib.metadata.version("zxing-cpp"),
        "images": len(images),
        "fingerprint": _fingerprint(images),
    }
    entries = [entry for entry in _read_entries(cache) if "codes" in entry]  # older files kept only counts
    for entry in entries:
        if entry.get("settings") == settings:
            return entry["codes"]
    codes = decodable_codes(images, margin=margin, classes=classes)
    entries.append({"settings": settings, "codes": codes})
    write_json(cache, {"entries": entries})  # atomic: a parallel evaluation reads the old or the new file, never half
    return codes


def _read_entries(cache: Path) -> list[dict]:
    """The entries of a ceiling cache file; none when it is missing or unreadable (it is then rewritten)."""
    try:
        return list(json.loads(cache.read_text())["entries"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        return []


def _fingerprint(images: list[Path]) -> str:
    """A hash of the images' resolved paths, sizes and modification times."""
    digest = hashlib.sha1()
    for path in images:
        stat = Path(path).stat()
        digest.update(f"{Path(path).resolve()}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _formats(classes: Mapping[str, str] | None) -> dict[str, frozenset[str]] | None:
    """Code class -> the format names a read of it may have (`family_formats`); None for None (any class, any
    format)."""
    return None if classes is None else {name: family_formats(symbology) for name, symbology in classes.items()}


def _ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide."""
    return part / whole if whole else None
