"""95 % confidence intervals by resampling the images (the bootstrap), for each model and between models.

A test split of a few dozen images moves a class's mAP a lot from one model to the next; an interval says
which differences are more than noise. Each draw resamples the split's images with replacement, and every
model is scored on the same draw (`DetectionStats.resample`), so a difference between two models is paired
image by image. The replicates are kept (`eval/bootstrap_<split>.npz`), so the report takes the interval of
any difference, for example a pruned model against its random-selection control.

    reps = replicates({"base": base_stats, "large": large_stats}, ["dm", "qr", "bar"], conf=0.5, draws=1000)
    interval(reps["large"] - reps["base"])  # (lo, hi), shaped (classes + all, metrics)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yoloslim.atomic import atomic_path
from yoloslim.measure.metrics import DetectionStats, class_rows

INTERVAL_METRICS = ("mAP50", "mAP50-95", "precision", "recall", "f1")
LEVEL = 0.95


def replicates(
    stats: dict[str, DetectionStats], names: list[str], conf: float, draws: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Model id -> (draws, classes + `all`, `INTERVAL_METRICS`): every metric on every resample of the images.

    All models must have been scored on the same images, in the same order.

    Args:
        stats (dict[str, DetectionStats]): Model id -> its matched detections on the split.
        names (list[str]): The class names by class id.
        conf (float): The confidence threshold of precision, recall and F1.
        draws (int): The resamples.
        seed (int): The seed of the resampling; every model is scored on the same draws.

    Returns:
        (dict[str, np.ndarray]): Model id -> its replicates.
    """
    sizes = {s.images for s in stats.values()}
    if len(sizes) > 1:
        raise ValueError(f"models were validated on different numbers of images: {sorted(sizes)}")
    check_same_images(stats)
    images = sizes.pop() if sizes else 0
    rng = np.random.default_rng(seed)
    out = {model: np.empty((draws, len(names) + 1, len(INTERVAL_METRICS))) for model in stats}
    for draw in range(draws):
        counts = np.bincount(rng.integers(0, images, images), minlength=images)
        for model, model_stats in stats.items():
            rows = class_rows(model_stats.resample(counts), names, conf, cut=False)
            out[model][draw] = [[rows[c][m] for m in INTERVAL_METRICS] for c in [*names, "all"]]
    return out


def check_same_images(stats: dict[str, DetectionStats]) -> None:
    """Stop when two models' detections are not of the same images in the same order (pairing by image needs it),
    naming the first image that differs; files kept before the image names were do not take part."""
    named = {model: s.image_names for model, s in stats.items() if (s.image_names != "").any()}
    if not named:
        return
    first, reference = next(iter(named.items()))
    for model, names in named.items():
        if len(names) != len(reference) or (names != reference).any():
            at = next((i for i, (a, b) in enumerate(zip(names, reference, strict=False)) if a != b), len(names))
            ours = names[at] if at < len(names) else "(none)"
            theirs = reference[at] if at < len(reference) else "(none)"
            raise ValueError(
                f"models '{model}' and '{first}' were not validated on the same images: image {at} is "
                f"{ours} for '{model}' and {theirs} for '{first}'; validate both on the same split again"
            )


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` percentile interval over the first axis. Draws where a value is undefined (NaN: no
    ground truth of the class, or for its precision no detection at conf) are left out of its interval; a value
    undefined in every draw gets NaN."""
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: a value undefined in every draw
        return np.nanpercentile(samples, tail, axis=0), np.nanpercentile(samples, 100 - tail, axis=0)


def within_noise(lo: float, hi: float) -> bool:
    """A difference is within noise when its interval contains 0."""
    return bool(lo <= 0 <= hi)


def p_value(samples: np.ndarray) -> float:
    """Two-sided p-value of "the difference is 0", from its bootstrap draws' mean and standard error (a normal
    approximation); NaN draws are left out, and NaN is returned with fewer than two."""
    draws = np.asarray(samples, dtype=float)
    draws = draws[np.isfinite(draws)]
    if len(draws) < 2:
        return math.nan
    error = float(draws.std(ddof=1))
    if error == 0:
        return 1.0 if draws.mean() == 0 else 0.0
    return math.erfc(abs(float(draws.mean())) / error / math.sqrt(2))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values for a family of tests (NaN stays NaN and is not counted): the k-th
    smallest of m is multiplied by m - k + 1, and each adjusted value is at least the one before it."""
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for k, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - k) * p))
        adjusted[i] = running
    return adjusted


def save_replicates(path: Path, reps: dict[str, np.ndarray], names: list[str]) -> Path:
    """Write the replicates of one split (.npz): one array per model, with the class and metric names.

    Args:
        path (Path): The .npz file.
        reps (dict[str, np.ndarray]): Model id -> its replicates (`replicates`).
        names (list[str]): The class names by class id (`all` is added).

    Returns:
        (Path): `path`.
    """
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, classes=np.array([*names, "all"]), metrics=np.array(INTERVAL_METRICS), **reps)
    return Path(path)


def load_replicates(path: Path) -> dict[str, np.ndarray]:
    """Model id -> replicates, as `save_replicates` wrote them."""
    with np.load(path) as data:
        return {key: data[key] for key in data.files if key not in ("classes", "metrics")}
