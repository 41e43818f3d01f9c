"""Accuracy of one model on one split: mAP50, mAP50-95, precision and recall per class and for all.

Ultralytics' validator does the counting, at the study's confidence threshold (the original report used
0.5) and NMS IoU, with its plots off (they would try to download a font). A class without ground truth
in the split gets NaN, never a silent zero.

    from yoloslim.accuracy import measure_accuracy
    measure_accuracy(Path("weights.pt"), Path("data.yaml"), split="test", imgsz=256, conf=0.5, iou=0.6,
                     names=["dm", "qr", "bar"])
    # {'dm': {'mAP50': 0.91, 'mAP50-95': 0.7, 'precision': 0.9, 'recall': 0.85, 'instances': 40}, ..., 'all': {...}}
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

METRICS = ("mAP50", "mAP50-95", "precision", "recall")


def measure_accuracy(
    weights: Path, data_yaml: Path, *, split: str, imgsz: int, conf: float, iou: float, names: list[str]
) -> dict[str, dict[str, float]]:
    """Validate `weights` on `split` of `data_yaml`; one row of `METRICS` (and `instances`) per class and `all`."""
    from yoloslim.modelstats import load_model

    data_yaml = Path(data_yaml)
    if not data_yaml.is_file():
        raise FileNotFoundError(f"{data_yaml}: data file not found")
    with tempfile.TemporaryDirectory() as tmp:
        metrics = load_model(weights).val(
            data=str(data_yaml),
            split=split,
            imgsz=imgsz,
            conf=conf,
            iou=iou,
            batch=8,
            workers=0,
            plots=False,
            save_json=False,
            verbose=False,
            device="0" if torch.cuda.is_available() else "cpu",
            project=tmp,
            name="val",
        )
    return accuracy_rows(metrics, names)


def accuracy_rows(metrics, names: list[str]) -> dict[str, dict[str, float]]:
    """Per-class and overall rows from Ultralytics' `DetMetrics` (classes absent from the split: NaN)."""
    box = metrics.box
    counts = [] if metrics.nt_per_class is None else [int(n) for n in metrics.nt_per_class]
    present = [int(c) for c in box.ap_class_index]
    rows: dict[str, dict[str, float]] = {}
    for cls, name in enumerate(names):
        instances = counts[cls] if cls < len(counts) else 0
        if cls in present:
            p, r, ap50, ap = box.class_result(present.index(cls))
            rows[name] = _row(ap50, ap, p, r, instances)
        else:
            rows[name] = _row(*(float("nan"),) * 4, instances)
    rows["all"] = _row(box.map50, box.map, box.mp, box.mr, sum(counts))
    return rows


def _row(map50: float, map50_95: float, precision: float, recall: float, instances: int) -> dict[str, float]:
    """One accuracy row with the documented keys."""
    values = (map50, map50_95, precision, recall)
    return {**{k: float(v) for k, v in zip(METRICS, values, strict=True)}, "instances": instances}
