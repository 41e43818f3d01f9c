"""Accuracy from matched detections, on hand-built detections whose metrics are known in closed form.

Ultralytics' average precision is the area under the precision envelope up to the last recall reached (precision
0 after it), sampled at 101 recall points: each drop of the envelope costs half a sample (0.005 times the drop),
so a perfect detector scores 0.995, not 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from yoloslim.measure.bootstrap import INTERVAL_METRICS, interval, replicates
from yoloslim.measure.metrics import DetectionStats, average_precision, class_rows

HIT, MISS = [True] * 10, [False] * 10


def image(tp: list[list[bool]], conf: list[float], pred_cls: list[int], target_cls: list[int]) -> dict:
    """One image's record, as Ultralytics' validator gives it."""
    return {"tp": np.array(tp, bool).reshape(-1, 10), "conf": np.array(conf), "pred_cls": np.array(pred_cls),
            "target_cls": np.array(target_cls)}  # fmt: skip


# one class, four boxes in two images; detections by score: 0.9 hit, 0.8 miss, 0.6 hit, 0.3 hit
RANKED = DetectionStats.from_images(
    [image([HIT, MISS], [0.9, 0.8], [0, 0], [0, 0]), image([HIT, HIT], [0.6, 0.3], [0, 0], [0, 0])]
)


def test_operating_point_is_taken_at_the_threshold_not_at_best_f1() -> None:
    row = class_rows(RANKED, ["dm"], conf=0.5)["dm"]
    # at conf 0.5: 3 detections, 2 hits, 4 boxes
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(0.5)
    assert row["f1"] == pytest.approx(4 / 7)
    # best F1 is at conf 0.3 (P = R = 3/4, F1 0.75): a different operating point, which is not reported
    low = class_rows(RANKED, ["dm"], conf=0.3)["dm"]
    assert low["f1"] == pytest.approx(0.75) and 0.75 > row["f1"]


def test_standard_ap_uses_every_detection_and_the_cut_off_ap_only_those_over_conf() -> None:
    row = class_rows(RANKED, ["dm"], conf=0.5)["dm"]
    # envelope: precision 1 to recall 0.25, 0.75 to recall 0.75 (the last recall reached)
    assert row["mAP50"] == pytest.approx(0.25 * 1 + 0.5 * 0.75 - 0.005 * 1, abs=1e-9)
    # only the three detections over 0.5: precision 1 to recall 0.25, 2/3 to recall 0.5, where the curve is cut off
    assert row["mAP50_conf"] == pytest.approx(0.25 * 1 + 0.25 * 2 / 3 - 0.005 * 1, abs=0.002)
    assert row["mAP50_conf"] < row["mAP50"]
    assert row["mAP50-95"] == pytest.approx(row["mAP50"])  # every hit is a hit at every IoU


def test_map50_95_averages_the_iou_thresholds() -> None:
    loose = DetectionStats.from_images([image([[True] * 5 + [False] * 5], [0.9], [0], [0])])  # IoU in [0.70, 0.75)
    row = class_rows(loose, ["dm"], conf=0.5)["dm"]
    assert row["mAP50"] == pytest.approx(0.995) and row["mAP50-95"] == pytest.approx(0.995 / 2)
    assert row["precision"] == 1 and row["recall"] == 1  # the operating point counts hits at IoU 0.5


def test_all_is_the_mean_of_classes_with_ground_truth_and_absent_classes_are_nan() -> None:
    stats = DetectionStats.from_images(
        [image([HIT, MISS, MISS], [0.9, 0.7, 0.6], [0, 1, 2], [0, 1])]  # dm found; qr missed; a bar that is not there
    )
    rows = class_rows(stats, ["dm", "qr", "bar"], conf=0.5)
    assert rows["dm"]["recall"] == 1 and rows["qr"]["recall"] == 0 and rows["qr"]["precision"] == 0
    assert np.isnan(rows["bar"]["mAP50"]) and rows["bar"]["instances"] == 0
    assert rows["all"]["recall"] == pytest.approx(0.5) and rows["all"]["instances"] == 2
    assert rows["all"]["mAP50"] == pytest.approx((rows["dm"]["mAP50"] + rows["qr"]["mAP50"]) / 2)


def test_precision_without_detections_at_conf_is_undefined_not_zero() -> None:
    """qr has a box but no detection scoring 0.5: nothing it detected was wrong, so its precision is undefined
    (NaN, left out of `all` and of its bootstrap interval), not 0; its recall and F1 are 0."""
    stats = DetectionStats.from_images([image([HIT, MISS], [0.9, 0.3], [0, 1], [0, 1])])  # qr's only detection: 0.3
    rows = class_rows(stats, ["dm", "qr"], conf=0.5)
    assert np.isnan(rows["qr"]["precision"]) and rows["qr"]["recall"] == 0 and rows["qr"]["f1"] == 0
    assert rows["all"]["precision"] == rows["dm"]["precision"] == 1  # not (1 + 0) / 2
    reps = replicates({"m": stats}, ["dm", "qr"], conf=0.5, draws=20)
    lo, hi = interval(reps["m"])
    assert np.isnan(lo[1, INTERVAL_METRICS.index("precision")]) and lo[0, INTERVAL_METRICS.index("recall")] == 1


def test_a_resample_repeats_whole_images(tmp_path) -> None:
    twice_first = RANKED.resample(np.array([2, 0]))
    first = DetectionStats.from_images(
        [image([HIT, MISS], [0.9, 0.8], [0, 0], [0, 0]), image([HIT, MISS], [0.9, 0.8], [0, 0], [0, 0])]
    )
    assert class_rows(twice_first, ["dm"], 0.5) == class_rows(first, ["dm"], 0.5)
    assert twice_first.images == 2 and len(twice_first.target_cls) == 4
    loaded = DetectionStats.load(RANKED.save(tmp_path / "stats.npz"))
    assert class_rows(loaded, ["dm"], 0.5) == class_rows(RANKED, ["dm"], 0.5) and loaded.images == 2


def test_average_precision_is_ultralytics_ap_per_class() -> None:
    """The lean AP the bootstrap calls equals Ultralytics' `ap_per_class` exactly: on random detections with tied
    scores, a class without detections and a predicted class without ground truth."""
    from ultralytics.utils.metrics import ap_per_class

    rng = np.random.default_rng(0)
    for detections in (0, 1, 7, 300):
        tp = rng.random((detections, 10)) < np.linspace(0.8, 0.2, 10)
        conf = rng.choice([0.2, 0.5, 0.5, 0.9], detections) if detections == 7 else rng.random(detections)
        pred_cls = rng.integers(0, 4, detections)  # class 3 has no ground truth
        target_cls = np.concatenate([rng.integers(0, 2, 20), [2]])  # class 2: one box and maybe no detection
        ours = average_precision(tp, conf, pred_cls, target_cls)
        result = ap_per_class(tp, conf, pred_cls, target_cls)
        theirs = {int(c): (result[5][i, 0], result[5][i].mean()) for i, c in enumerate(result[6])}
        assert ours == theirs and set(ours) == {0, 1, 2}
