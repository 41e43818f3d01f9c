"""Bootstrap intervals: paired resamples of the images, reproducible, and differences judged against 0."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from yoloslim.eval.tables import ACCURACY_COLUMNS, accuracy_frame, with_intervals
from yoloslim.measure.bootstrap import (
    INTERVAL_METRICS,
    interval,
    load_replicates,
    replicates,
    save_replicates,
    within_noise,
)
from yoloslim.measure.metrics import DetectionStats

NAMES = ["dm", "qr"]


def detector(found: list[bool]) -> DetectionStats:
    """One dm box and one qr box per image; the detector finds the dm box of the images marked True (and
    always the qr box), with one false alarm per image."""
    records = []
    for hit in found:
        tp = [[hit] * 10, [True] * 10, [False] * 10]
        records.append({"tp": np.array(tp), "conf": np.array([0.9, 0.8, 0.6]), "pred_cls": np.array([0, 1, 0]),
                        "target_cls": np.array([0, 1])})  # fmt: skip
    return DetectionStats.from_images(records)


GOOD = detector([True] * 40)
WORSE = detector([True] * 20 + [False] * 20)


def test_a_model_against_itself_is_within_noise_and_a_worse_one_is_not() -> None:
    reps = replicates({"base": GOOD, "same": GOOD, "worse": WORSE}, NAMES, conf=0.5, draws=200, seed=1)
    assert reps["base"].shape == (200, 3, len(INTERVAL_METRICS))
    recall = INTERVAL_METRICS.index("recall")
    lo, hi = interval(reps["same"] - reps["base"])
    assert lo[0, recall] == hi[0, recall] == 0 and within_noise(lo[0, recall], hi[0, recall])
    lo, hi = interval(reps["worse"] - reps["base"])
    assert hi[0, recall] < 0 and not within_noise(lo[0, recall], hi[0, recall])  # dm recall 1.0 -> 0.5
    assert lo[0, recall] < -0.5 < hi[0, recall] and hi[0, recall] - lo[0, recall] < 0.6  # about -0.5 +- 0.16
    assert lo[1, recall] == hi[1, recall] == 0  # qr: both find every box
    wlo, whi = interval(reps["worse"])
    assert wlo[0, recall] < 0.5 < whi[0, recall]  # the interval holds the measured 0.5


def test_resamples_are_seeded() -> None:
    one = replicates({"worse": WORSE}, NAMES, 0.5, draws=30, seed=3)["worse"]
    assert np.array_equal(one, replicates({"worse": WORSE}, NAMES, 0.5, draws=30, seed=3)["worse"])
    assert not np.array_equal(one, replicates({"worse": WORSE}, NAMES, 0.5, draws=30, seed=4)["worse"])


def test_models_on_different_images_are_refused() -> None:
    with pytest.raises(ValueError, match="different numbers of images"):
        replicates({"a": GOOD, "b": detector([True] * 39)}, NAMES, 0.5, draws=2)
    named = dataclasses.replace(GOOD, image_names=np.array([f"img{i}.jpg" for i in range(GOOD.images)]))
    shuffled = dataclasses.replace(named, image_names=named.image_names[::-1].copy())
    with pytest.raises(ValueError, match="'b' and 'a' were not validated on the same images: image 0 is img39.jpg"):
        replicates({"a": named, "b": shuffled}, NAMES, 0.5, draws=2)  # as many images, not the same ones
    assert replicates({"a": named, "b": named, "old": GOOD}, NAMES, 0.5, draws=2)  # a file without names: unchecked


def test_the_image_names_are_kept_with_the_detections(tmp_path) -> None:
    records = [{"tp": np.zeros((0, 10)), "conf": np.zeros(0), "pred_cls": np.zeros(0), "target_cls": np.zeros(1),
                "im_name": name} for name in ("a.jpg", "b.jpg")]  # fmt: skip
    stats = DetectionStats.from_images(records)
    assert list(DetectionStats.load(stats.save(tmp_path / "d.npz")).image_names) == ["a.jpg", "b.jpg"]


def test_intervals_fill_the_accuracy_table(tmp_path) -> None:
    from yoloslim.measure.metrics import class_rows

    records = [{"model": m, "label": m, "conf": 0.5, "accuracy": {"test": class_rows(s, NAMES, 0.5)}}
               for m, s in (("base", GOOD), ("worse", WORSE))]  # fmt: skip
    reps = load_replicates(
        save_replicates(tmp_path / "b.npz", replicates(dict(base=GOOD, worse=WORSE), NAMES, 0.5, 100), NAMES)
    )
    table = with_intervals(accuracy_frame(records, NAMES), "test", reps, NAMES)
    assert list(table.columns) == ACCURACY_COLUMNS
    worse = table[(table["model"] == "worse")].set_index("class")
    assert (worse["recall_lo"] <= worse["recall"]).all() and (worse["recall"] <= worse["recall_hi"]).all()
    assert worse.loc["dm", "delta_mAP50_hi"] < 0 <= worse.loc["qr", "delta_mAP50_hi"]
    assert pd.isna(table["mAP50_lo"]).sum() == 0
