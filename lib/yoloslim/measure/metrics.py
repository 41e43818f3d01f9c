"""Accuracy from matched detections: the standard mAP, the operating point, and the original study's metric.

Ultralytics' validator matches every image's detections to its ground truth at IoU 0.50:0.95 and keeps
one record per image. `DetectionStats` holds those records (saved next to a model's metrics), so every
metric below is computed from them, for any confidence threshold, without running the model again.

Per class, and for `all` (the mean over the classes that have ground truth, as Ultralytics reports it):
- `mAP50`, `mAP50-95`: the standard average precision over every detection validation keeps (conf 0.001),
  COCO-style IoU 0.50:0.95, with Ultralytics' interpolation (`average_precision`: `ap_per_class`'s AP, without
  the curves it draws as well).
- `precision`, `recall`, `f1`: of the detections scoring at least `conf` (the deployment threshold), at IoU
  0.5. This is what a team deploying at `conf` gets. (Ultralytics' own P and R are taken at the confidence
  of best mean F1, not at a chosen threshold.) A class with no detection scoring at least `conf` has no
  precision (NaN, not 0: nothing it detected was wrong) and F1 = 2 TP / (2 TP + FP + FN) = 0; `all`'s precision
  is the mean over the classes that have one.
- `mAP50_conf`, `mAP50-95_conf`: the original study's "mAP at conf 0.5": average precision of only the
  detections scoring at least `conf`, so the precision-recall curve is cut off at the recall that `conf`
  reaches. Equal to Ultralytics' `val(conf=0.5)` (NMS never lets a lower score suppress a higher one).

    stats = DetectionStats.load(Path("runs/demo/eval/base/detections_test.npz"))
    class_rows(stats, ["dm", "qr", "bar"], conf=0.5)["all"]   # {'mAP50': 0.93, ..., 'recall': 0.88, ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from yoloslim.atomic import atomic_path
from yoloslim.shared import ACCURACY_METRICS

AP_RECALLS = np.linspace(0, 1, 101)  # the recalls at which precision is sampled (COCO's 101 points)


@dataclass
class DetectionStats:
    """Every detection and ground-truth box of one model on one split, with the image each belongs to."""

    tp: np.ndarray  # (detections, 10) bool: a true positive at IoU 0.50, 0.55, ..., 0.95
    conf: np.ndarray  # (detections,) score
    pred_cls: np.ndarray  # (detections,) predicted class id
    pred_img: np.ndarray  # (detections,) image index
    target_cls: np.ndarray  # (boxes,) ground-truth class id
    target_img: np.ndarray  # (boxes,) image index
    images: int  # images in the split (some may have neither detections nor boxes)
    image_names: np.ndarray = field(default_factory=lambda: np.zeros(0, str))  # (images,) file names, in order
    # (empty in files written before they were kept): two models are paired image by image only on the same names

    @classmethod
    def from_images(cls, records: list[dict[str, np.ndarray]]) -> DetectionStats:
        """Stack per-image records (Ultralytics' keys `tp`, `conf`, `pred_cls`, `target_cls`), image by image."""

        def stack(key: str, dtype: type, width: int = 0) -> np.ndarray:
            shape = (-1, width) if width else (-1,)
            parts = [np.asarray(r[key], dtype).reshape(shape) for r in records]
            return np.concatenate(parts) if parts else np.zeros((0, width) if width else 0, dtype)

        def image_of(key: str) -> np.ndarray:
            return np.repeat(np.arange(len(records)), [np.size(r[key]) for r in records]).astype(int)

        return cls(
            tp=stack("tp", bool, 10),
            conf=stack("conf", float),
            pred_cls=stack("pred_cls", int),
            pred_img=image_of("conf"),
            target_cls=stack("target_cls", int),
            target_img=image_of("target_cls"),
            images=len(records),
            image_names=np.array([str(r.get("im_name", "")) for r in records], dtype=str),
        )

    def resample(self, counts: np.ndarray) -> DetectionStats:
        """The stats of a resample of the images: image `i` taken `counts[i]` times (a bootstrap draw)."""
        pred, target = counts[self.pred_img.astype(int)], counts[self.target_img.astype(int)]
        return DetectionStats(
            tp=np.repeat(self.tp, pred, axis=0),
            conf=np.repeat(self.conf, pred),
            pred_cls=np.repeat(self.pred_cls, pred),
            pred_img=np.repeat(self.pred_img, pred),
            target_cls=np.repeat(self.target_cls, target),
            target_img=np.repeat(self.target_img, target),
            images=int(counts.sum()),
        )  # the names of a resample are not kept: only whole splits are compared

    def save(self, path: Path) -> Path:
        """Write to `path` (.npz), atomically."""
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **{f.name: getattr(self, f.name) for f in fields(self)})
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> DetectionStats:
        """Read what `save` wrote."""
        with np.load(path) as data:
            values = {f.name: data[f.name] for f in fields(cls) if f.name in data.files}
        return cls(**{**values, "images": int(values["images"])})


def class_rows(stats: DetectionStats, names: list[str], conf: float, cut: bool = True) -> dict[str, dict[str, float]]:
    """`ACCURACY_METRICS` and `instances` per class name and for `all`; a class without ground truth gets NaN.

    Args:
        stats (DetectionStats): The matched detections of one model on one split.
        names (list[str]): The class names by class id.
        conf (float): The deployment threshold of precision, recall, F1 and the `_conf` mAPs.
        cut (bool): Compute the `_conf` mAPs; False: NaN (the bootstrap's metrics have none, and they are half its
            work).

    Returns:
        (dict[str, dict[str, float]]): Class name or `all` -> metric -> value.
    """
    standard = average_precision(stats.tp, stats.conf, stats.pred_cls, stats.target_cls)
    keep = stats.conf >= conf
    cut_ap = average_precision(stats.tp[keep], stats.conf[keep], stats.pred_cls[keep], stats.target_cls) if cut else {}
    rows: dict[str, dict[str, float]] = {}
    for cls, name in enumerate(names):
        instances = int((stats.target_cls == cls).sum())
        if instances == 0:
            rows[name] = {**dict.fromkeys(ACCURACY_METRICS, float("nan")), "instances": 0}
            continue
        found = int(stats.tp[keep & (stats.pred_cls == cls), 0].sum())
        detections = int((keep & (stats.pred_cls == cls)).sum())
        rows[name] = {
            "mAP50": standard[cls][0],
            "mAP50-95": standard[cls][1],
            "precision": found / detections if detections else float("nan"),
            "recall": found / instances,
            "f1": 2 * found / (detections + instances),
            "mAP50_conf": cut_ap.get(cls, (float("nan"),) * 2)[0],
            "mAP50-95_conf": cut_ap.get(cls, (float("nan"),) * 2)[1],
            "instances": instances,
        }
    present = [rows[n] for n in names if rows[n]["instances"]]
    all_rows = {k: _mean([r[k] for r in present]) for k in ACCURACY_METRICS}
    rows["all"] = {**all_rows, "instances": int(len(stats.target_cls))}
    return rows


def average_precision(
    tp: np.ndarray, conf: np.ndarray, pred_cls: np.ndarray, target_cls: np.ndarray, eps: float = 1e-16
) -> dict[int, tuple[float, float]]:
    """Class id -> (AP50, AP50-95) for every class with ground truth: the AP of Ultralytics' `ap_per_class` (its
    sort by score, cumulative counts, precision envelope and 101-point interpolation, as its `compute_ap`), with the
    ten IoU thresholds in one array operation and without the precision, recall and F1 curves it also computes: the
    bootstrap calls it tens of thousands of times. A test holds it equal to `ap_per_class`, to the last bit.

    Args:
        tp (np.ndarray): (detections, 10) bool: a true positive at IoU 0.50, 0.55, ..., 0.95.
        conf (np.ndarray): (detections,) scores.
        pred_cls (np.ndarray): (detections,) predicted class ids.
        target_cls (np.ndarray): (boxes,) ground-truth class ids.
        eps (float): `ap_per_class`'s guard of the recall's division.

    Returns:
        (dict[int, tuple[float, float]]): Class id -> (AP at IoU 0.5, mean AP over IoU 0.50:0.95); 0 for a class
            with ground truth and no detection.
    """
    order = np.argsort(-conf)
    tp, pred_cls = tp[order], pred_cls[order]
    classes, labels = np.unique(target_cls, return_counts=True)
    out = {}
    for c, n_l in zip(classes, labels, strict=True):
        hits = tp[pred_cls == c]
        if len(hits) == 0:
            out[int(c)] = (0.0, 0.0)
            continue
        tpc = hits.cumsum(0)
        recall = tpc / (n_l + eps)
        precision = tpc / np.arange(1, len(hits) + 1)[:, None]  # detections so far: true + false positives
        # compute_ap's sentinels, then the envelope: precision made non-increasing from the right
        mrec = np.concatenate([np.zeros((1, 10)), recall, recall[-1:], np.ones((1, 10))])
        mpre = np.concatenate([np.ones((1, 10)), precision, np.zeros((2, 10))])
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre, 0), axis=0), 0)
        ap = [np.trapezoid(np.interp(AP_RECALLS, mrec[:, j], mpre[:, j]), AP_RECALLS) for j in range(10)]
        out[int(c)] = (float(ap[0]), float(np.mean(ap)))
    return out


def _mean(values: list[float]) -> float:
    """The mean of the defined (not NaN) values; NaN when there are none."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")
