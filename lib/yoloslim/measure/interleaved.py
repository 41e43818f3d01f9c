"""Latency of every model measured interleaved, in one process: a fair comparison with an interval.

Models measured one after another in separate jobs see different machine states (other jobs, clock speed,
caches), so a 10 % difference can be noise. Here every model gets an ONNX Runtime session in the same
process; each round runs every model once, in a fresh random order, and the rounds are the samples. A
model's latency is the median over rounds, and its ratio to the base model is the median of the per-round
ratios (both measured within the same round); the 95 % intervals resample the rounds (the bootstrap). The
sessions' thread pools do not spin between runs, or the idle ones would take the cores from the one running.

That interval describes one process. The same model timed in another process lands elsewhere (a machine's state
differs between processes by more than within one), so with measurements from several fresh processes
`across_processes` gives a 95 % prediction interval for one more: where a re-measurement falls.

    interleaved_latency({"base": Path("base.onnx"), "large": Path("large.onnx")}, {"base": 160, "large": 160},
                        LatencyConfig(warmup=10, runs=50))
    # {'base': {'median_ms': 4.1, 'lo_ms': 4.0, 'hi_ms': 4.3, 'ratio': 1.0, ...}, 'large': {...}}
    across_processes([first, second, third])  # the same keys, the intervals over the processes
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from yoloslim.config import LatencyConfig
from yoloslim.measure.bootstrap import interval
from yoloslim.measure.onnx import onnx_session

DRAWS = 1000  # bootstrap resamples of the rounds


def interleaved_latency(
    onnx: dict[str, Path],
    imgsz: dict[str, int],
    cfg: LatencyConfig,
    seed: int = 0,
    providers: list[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Median milliseconds of each ONNX model on ONNX Runtime over `cfg.runs` interleaved rounds, with its 95 %
    interval, and the same for its per-round ratio to the `base` model (NaN without one).

    Args:
        onnx (dict[str, Path]): Model id -> its ONNX file.
        imgsz (dict[str, int]): Model id -> its input size.
        cfg (LatencyConfig): The untimed (`warmup`) and timed (`runs`) rounds, and the threads of each session.
        seed (int): The seed of the rounds' random orders and of the bootstrap.
        providers (list[str] | None): ONNX Runtime's execution providers (default: the CPU).

    Returns:
        (dict[str, dict[str, float]]): Model id -> median_ms, p90_ms, lo_ms, hi_ms, ratio, ratio_lo, ratio_hi, runs.
    """
    # no spinning: the idle thread pools of the other sessions would spin and take the cores (measured: docs/results.md,
    # "Latency")
    runs = {}
    for model, path in onnx.items():
        session, feed = onnx_session(path, imgsz[model], cfg.threads, spinning=False, providers=providers)
        runs[model] = partial(session.run, None, feed)
    return interleaved_runs(runs, cfg, seed)


def interleaved_runs(runs: dict[str, Callable[[], Any]], cfg: LatencyConfig, seed: int = 0) -> dict[str, dict]:
    """`interleaved_latency` of any inferences: each round calls every model's `run` once, in a random order.

    Args:
        runs (dict[str, Callable[[], Any]]): Model id -> one inference on its engine (the base model's id: `base`).
        cfg (LatencyConfig): The untimed (`warmup`) and timed (`runs`) rounds.
        seed (int): The seed of the rounds' random orders and of the bootstrap.

    Returns:
        (dict[str, dict]): Model id -> median_ms, p90_ms, lo_ms, hi_ms, ratio, ratio_lo, ratio_hi, runs.
    """
    rng = np.random.default_rng(seed)
    models = list(runs)
    samples = np.empty((cfg.runs, len(models)))
    for round_ in range(-cfg.warmup, cfg.runs):
        for i in rng.permutation(len(models)):
            start = time.perf_counter()
            runs[models[i]]()
            if round_ >= 0:
                samples[round_, i] = (time.perf_counter() - start) * 1000
    return summarize(samples, models, rng)


def summarize(samples: np.ndarray, models: list[str], rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Medians and 95 % intervals (resampling the rounds) of the latencies and their ratios to `base`.

    Args:
        samples (np.ndarray): The milliseconds, rounds x models.
        models (list[str]): The model ids, in the columns' order.
        rng (np.random.Generator): The source of the bootstrap's draws.

    Returns:
        (dict[str, dict[str, float]]): Model id -> median_ms, p90_ms, lo_ms, hi_ms, ratio, ratio_lo, ratio_hi, runs
            (the ratios NaN without a `base` model).
    """
    ratios = samples / samples[:, [models.index("base")]] if "base" in models else np.full_like(samples, np.nan)
    draws = rng.integers(0, len(samples), (DRAWS, len(samples)))
    lo, hi = interval(np.median(samples[draws], axis=1))
    rlo, rhi = interval(np.median(ratios[draws], axis=1))
    return {
        model: {
            "median_ms": float(np.median(samples[:, i])),
            "p90_ms": float(np.percentile(samples[:, i], 90)),
            "lo_ms": float(lo[i]),
            "hi_ms": float(hi[i]),
            "ratio": float(np.median(ratios[:, i])),
            "ratio_lo": float(rlo[i]),
            "ratio_hi": float(rhi[i]),
            "runs": len(samples),
        }  # fmt: skip
        for i, model in enumerate(models)
    }


def across_processes(measured: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """One model's interleaved measurements from several fresh processes (`interleaved_runs`' results, one per
    process) as one: the geometric mean of the processes' medians and ratios, each with a 95 % prediction interval for
    the median another process would measure, exp(m ± t(0.975, n - 1) · s · sqrt(1 + 1/n)) with m and s the mean and
    standard deviation of the n processes' logarithms. On the log scale because a machine's state scales every
    timing of a process by a factor (in the demo the base model ran at 5.8 and 7.3 ms in two processes): the
    interval stays positive and as wide in ratio on both sides. One process is returned as it is (its interval is
    over its rounds).

    Args:
        measured (list[dict[str, dict[str, float]]]): Per process: model id -> median_ms, p90_ms, lo_ms, hi_ms, ratio,
            ratio_lo, ratio_hi, runs. A model missing from a process is measured on the others.

    Returns:
        (dict[str, dict[str, float]]): Model id -> the same keys (runs: the rounds of all processes) and `processes`.
    """
    if len(measured) == 1:
        return {model: {**values, "processes": 1} for model, values in measured[0].items()}
    out = {}
    for model in dict.fromkeys(m for process in measured for m in process):
        values = [process[model] for process in measured if model in process]
        median, median_lo, median_hi = _predicted([v["median_ms"] for v in values])
        ratio, ratio_lo, ratio_hi = _predicted([v["ratio"] for v in values])
        out[model] = {
            "median_ms": median, "p90_ms": _predicted([v["p90_ms"] for v in values])[0], "lo_ms": median_lo,
            "hi_ms": median_hi, "ratio": ratio, "ratio_lo": ratio_lo, "ratio_hi": ratio_hi,
            "runs": int(sum(v["runs"] for v in values)), "processes": len(values),
        }  # fmt: skip
    return out


def _predicted(values: list[float]) -> tuple[float, float, float]:
    """The geometric mean of `values` (positive) and the 95 % prediction interval of one more, Student's t on their
    logarithms; a lone value is its own interval, and NaN values (a ratio without a base model) give NaN."""
    x = np.log(np.asarray(values, dtype=float))
    mean = float(x.mean())
    if len(x) < 2 or not np.isfinite(x).all():
        return float(np.exp(mean)), float(np.exp(mean)), float(np.exp(mean))
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) * np.sqrt(1 + 1 / len(x)))
    return float(np.exp(mean)), float(np.exp(mean - half)), float(np.exp(mean + half))
