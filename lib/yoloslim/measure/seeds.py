"""Accuracy intervals that include the spread between trainings, not only the test images (finetune.seeds).

A model fine-tuned k times (its runs: `small`, `small-seed1`, ...; a random control also redraws its channels)
gets, in each bootstrap draw, one of its runs chosen at random, scored on the draw's resampled images. Runs are
chosen independently for each model (a seed of one model has nothing to do with the same seed of another), and the
images stay paired across models. The interval is then where the model trained again and measured on another test
set of the same kind falls: a two-level bootstrap, runs then images.

A model trained once gets the spread measured on the seeded models as a stated variance component (the caller
leaves random controls out of that pool: their runs also redraw channels, `yoloslim.eval.stage`): each draw adds
z * s, z standard normal (one per model and draw, so a run that is better is better across classes and metrics)
and s the pooled between-run standard deviation of each class and metric (`run_spread`). The base model gets it
too: a rerun of the study trains it again.

    reps = with_runs(image_reps, {"small": ["small", "small-seed1", "small-seed2"]}, spread, seed=0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def run_values(
    accuracy: Mapping[str, Mapping[str, float]], classes: Sequence[str], metrics: Sequence[str]
) -> np.ndarray:
    """One run's accuracy on a split (class name or `all` -> metric -> value, as metrics.json holds it) as an array
    (classes, metrics); NaN where undefined."""
    return np.array([[(accuracy.get(c) or {}).get(m, np.nan) for m in metrics] for c in classes], dtype=float)


def run_spread(values: Mapping[str, Sequence[np.ndarray]]) -> np.ndarray | None:
    """The pooled between-run standard deviation of every class and metric.

    Args:
        values (Mapping[str, Sequence[np.ndarray]]): Seeded model id -> its runs' values on the split (`run_values`),
            each (classes, metrics); models with fewer than two runs are left out.

    Returns:
        (np.ndarray | None): (classes, metrics): sqrt(sum((k - 1) * var) / sum(k - 1)) over the models, NaN where no
            model has two defined runs; None without a model of two runs.
    """
    groups = [np.stack(runs) for runs in values.values() if len(runs) > 1]
    if not groups:
        return None
    squares, dof = np.zeros_like(groups[0][0]), np.zeros_like(groups[0][0])
    for runs in groups:
        defined = np.isfinite(runs)
        count = defined.sum(axis=0)
        mean = np.where(defined, runs, 0).sum(axis=0) / np.maximum(count, 1)
        squares += np.where(defined, (runs - mean) ** 2, 0).sum(axis=0)
        dof += np.maximum(count - 1, 0)
    return np.where(dof > 0, np.sqrt(squares / np.maximum(dof, 1)), np.nan)


def with_runs(
    reps: Mapping[str, np.ndarray],
    runs: Mapping[str, Sequence[str]],
    spread: np.ndarray | None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Every model's replicates with the spread between trainings in them.

    Args:
        reps (Mapping[str, np.ndarray]): Model or run id -> its replicates on the same resampled images, each (draws,
            classes, metrics) (`yoloslim.measure.bootstrap.replicates`).
        runs (Mapping[str, Sequence[str]]): Seeded model id -> its runs' ids, the model first; their replicates are
            in `reps`.
        spread (np.ndarray | None): The between-run standard deviation (`run_spread`) added to a model trained once
            (times one standard normal per draw, the sum clipped to [0, 1], the range of every interval metric);
            None: nothing added (no run was repeated).
        seed (int): The seed of the run choices and of the variance component.

    Returns:
        (dict[str, np.ndarray]): Model id -> its replicates (the runs' own ids are not keys).
    """
    rng = np.random.default_rng(seed)
    extra = {run for ids in runs.values() for run in ids[1:]}
    out = {}
    for model, samples in reps.items():
        if model in extra:
            continue
        if len(runs.get(model, ())) > 1:
            stacked = np.stack([reps[run] for run in runs[model]])  # (runs, draws, classes, metrics)
            choice = rng.integers(0, len(stacked), len(samples))
            out[model] = stacked[choice, np.arange(len(samples))]
        elif spread is not None:  # kept within the metrics' range: a precision of 0.95 plus a draw is not 1.06
            z = rng.standard_normal(len(samples))[:, None, None]
            out[model] = np.clip(samples + z * np.nan_to_num(spread), 0.0, 1.0)
        else:
            out[model] = samples
    return out
