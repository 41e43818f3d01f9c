"""Accuracy of one model on one split, from one Ultralytics validation run.

The validator runs once over all detections (conf 0.001, the study's NMS IoU, plots off: they would try to
download a font) and its per-image matches are kept (`DetectionStats`); `yoloslim.measure.metrics` computes
the standard mAP, the precision, recall and F1 at the deployment threshold `conf`, and the original study's
"mAP at conf" from them. A class without ground truth in the split gets NaN, never a silent zero.

    from yoloslim.measure.accuracy import measure_accuracy
    measure_accuracy(Path("weights.pt"), Path("data.yaml"), split="test", imgsz=256, conf=0.5, iou=0.6,
                     names=["dm", "qr", "bar"], stats_out=Path("detections_test.npz"))
    # {'dm': {'mAP50': 0.91, 'mAP50-95': 0.7, 'precision': 0.9, 'recall': 0.85, 'f1': 0.87, ...}, ..., 'all': {...}}
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from yoloslim.measure.metrics import DetectionStats, class_rows

VAL_CONF = 0.001  # validation keeps every detection down to this score (Ultralytics' default), for the standard mAP


def measure_accuracy(
    weights: Path,
    data_yaml: Path,
    *,
    split: str,
    imgsz: int,
    conf: float,
    iou: float,
    names: list[str],
    stats_out: Path | None = None,
) -> dict[str, dict[str, float]]:
    """Validate `weights` on `split` of `data_yaml`; `yoloslim.shared.ACCURACY_METRICS` and `instances` per class and
    `all`, the operating point at `conf`.

    Args:
        weights (Path): The checkpoint.
        data_yaml (Path): The Ultralytics data YAML.
        split (str): The split validated on.
        imgsz (int): The validation's input size.
        conf (float): The deployment threshold of precision, recall and F1 (validation keeps every detection).
        iou (float): The NMS IoU threshold.
        names (list[str]): The class names by class id.
        stats_out (Path | None): Also save the matched detections there (.npz); None: not saved.

    Returns:
        (dict[str, dict[str, float]]): Class name or `all` -> metric -> value (`class_rows`).
    """
    stats = match_detections(weights, data_yaml, split=split, imgsz=imgsz, iou=iou)
    if stats_out is not None:
        stats.save(stats_out)
    return class_rows(stats, list(names), conf)


def match_detections(weights: Path, data_yaml: Path, *, split: str, imgsz: int, iou: float) -> DetectionStats:
    """Run Ultralytics' validation of `weights` on `split` and keep its per-image matches.

    Args:
        weights (Path): The checkpoint.
        data_yaml (Path): The Ultralytics data YAML (must exist).
        split (str): The split validated on.
        imgsz (int): The validation's input size.
        iou (float): The NMS IoU threshold (every detection down to `VAL_CONF` is kept).

    Returns:
        (DetectionStats): Every detection and ground-truth box, with its image.
    """
    from yoloslim.models.stats import load_model

    data_yaml = Path(data_yaml)
    if not data_yaml.is_file():
        raise FileNotFoundError(f"{data_yaml}: data file not found")
    records: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        load_model(weights).val(
            validator=_recording_validator(records),
            data=str(data_yaml),
            split=split,
            imgsz=imgsz,
            conf=VAL_CONF,
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
    return DetectionStats.from_images(records)


def _recording_validator(records: list[dict]) -> type:
    """Ultralytics' detection validator, also appending each image's matches to `records`."""
    from ultralytics.models.yolo.detect import DetectionValidator

    class RecordingValidator(DetectionValidator):
        def init_metrics(self, model: torch.nn.Module) -> None:
            super().init_metrics(model)
            update = self.metrics.update_stats

            def update_and_record(stat: dict) -> None:
                records.append({k: stat[k] for k in ("tp", "conf", "pred_cls", "target_cls", "im_name") if k in stat})
                update(stat)

            self.metrics.update_stats = update_and_record

    return RecordingValidator
