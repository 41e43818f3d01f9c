"""Prune to a latency budget: the largest structure whose measured latency on the target engine is within it.

Network slimming gives a |gamma| threshold; a team has a latency budget on its engine. For a target of
`prune.targets` (`{fast: {latency: 0.5x}}`) the prune stage searches the sparse model's thresholds:

- the candidates are the sparse model's group |gamma| values, sorted: every step changes the structure;
- a candidate is pruned with alignment (`round_to`), exported to ONNX and timed on the engine with the base
  model (`onnx_cpu`, and on a GPU machine with onnxruntime-gpu `onnx_cuda` or `onnx_tensorrt`: interleaved in
  one process, `yoloslim.measure.interleaved`, so a relative budget is the median per-round ratio to the base model);
- bisection finds the lowest threshold (the largest structure) that is within the budget, assuming latency
  falls as the threshold rises; a structure already timed is not timed again. Within means the upper end of
  the 95 % interval (of the latency, or of the per-round ratio for a relative budget) is within it, and the
  prune stage passes the budget less `prune.margin`, so the chosen model meets the budget when it is measured
  again in another process, not only on a lucky median;
- when even the highest threshold misses the budget, the fastest structure found is kept, and the stage
  says so.

Every timed candidate is a row of `prune/<target>/search.csv` (threshold, kept channels, GFLOPs, latency with
its interval, ratio to the base model, within budget, chosen).

An engine of one's own is a function `(onnx_path: Path, imgsz: int) -> milliseconds`, named in
`prune.engine` as "package.module:function" (importable from the environment that runs the study), e.g. a
timing on an NPU board. It times each model on its own (no interval).

    search = search_threshold(candidates, measure, budget_ms=None, budget_ratio=0.5)
    search.chosen.threshold, search.met  # 0.0843, True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from yoloslim.config import LatencyConfig


@dataclass(frozen=True)
class Timing:
    """A model's latency on the engine: median ms with a 95 % interval, and its ratio to the base model."""

    median_ms: float
    lo_ms: float
    hi_ms: float
    ratio: float
    ratio_lo: float
    ratio_hi: float


# an engine times ONNX models (the base model among them, named "base") at one image size
Engine = Callable[[dict[str, Path], int], dict[str, Timing]]


@dataclass(frozen=True)
class Candidate:
    """One timed structure of the search."""

    threshold: float
    kept_channels: int
    gflops: float
    timing: Timing
    within: bool
    chosen: bool = False


@dataclass(frozen=True)
class Search:
    """The timed candidates (in the order timed), the chosen one, and whether it meets the budget."""

    candidates: list[Candidate]
    chosen: Candidate
    met: bool

    def table(self) -> pd.DataFrame:
        """search.csv: one row per timed candidate, by threshold."""
        rows = [
            {
                "threshold": c.threshold,
                "kept_channels": c.kept_channels,
                "gflops": c.gflops,
                **{f"latency_{k}" if k.endswith("ms") else k: v for k, v in asdict(c.timing).items()},
                "within_budget": c.within,
                "chosen": c.chosen,
            }
            for c in self.candidates
        ]
        return pd.DataFrame(rows).sort_values("threshold", kind="stable").reset_index(drop=True)


def onnx_engine(latency: LatencyConfig, name: str = "onnx_cpu") -> Engine:
    """ONNX Runtime (`onnx_cpu`, or `onnx_cuda` / `onnx_tensorrt` on a GPU machine with onnxruntime-gpu): the models
    timed interleaved in one process, with intervals. A missing execution provider fails here, naming it."""
    from yoloslim.measure.interleaved import interleaved_latency
    from yoloslim.measure.onnx import check_providers

    providers = check_providers(name)

    def engine(onnx: dict[str, Path], imgsz: int) -> dict[str, Timing]:
        timed = interleaved_latency(onnx, dict.fromkeys(onnx, imgsz), latency, providers=providers)
        return {
            name: Timing(t["median_ms"], t["lo_ms"], t["hi_ms"], t["ratio"], t["ratio_lo"], t["ratio_hi"])
            for name, t in timed.items()
        }

    return engine


def function_engine(spec: str) -> Engine:
    """A user's engine, "package.module:function" with (onnx_path, imgsz) -> milliseconds, timing each model once."""
    module, _, name = spec.partition(":")
    try:
        time_model = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"prune.engine {spec!r}: cannot import {name!r} from {module!r}: {err}") from err

    def engine(onnx: dict[str, Path], imgsz: int) -> dict[str, Timing]:
        ms = {model: float(time_model(path, imgsz)) for model, path in onnx.items()}
        return {model: Timing(v, v, v, v / ms["base"], v / ms["base"], v / ms["base"]) for model, v in ms.items()}

    return engine


def resolve_engine(spec: str, latency: LatencyConfig) -> Engine:
    """The engine named by `prune.engine`: onnx_cpu, onnx_cuda, onnx_tensorrt, or a user's "package.module:function"."""
    return function_engine(spec) if ":" in spec else onnx_engine(latency, spec)


def search_threshold(
    thresholds: Sequence[float],
    measure: Callable[[float], tuple[tuple[int, ...], float, Timing]],
    *,
    budget_ms: float | None = None,
    budget_ratio: float | None = None,
) -> Search:
    """Bisect the sorted candidate `thresholds` for the lowest one whose timed latency is within the budget.

    `measure(threshold)` prunes at that threshold and returns (kept channels per group, GFLOPs, Timing). Give one
    of `budget_ms` (absolute: the latency's interval must end within it) and `budget_ratio` (relative to the base
    model: the per-round ratio's interval must). When no candidate is within the budget, the fastest one timed is
    chosen and `met` is False.
    """
    if (budget_ms is None) == (budget_ratio is None):
        raise ValueError("search_threshold: give exactly one of budget_ms and budget_ratio")
    values = sorted(set(float(t) for t in thresholds))
    if not values:
        raise ValueError("search_threshold: no candidate thresholds")
    timed: dict[tuple[int, ...], Candidate] = {}
    order: list[Candidate] = []

    def within(timing: Timing) -> bool:
        return timing.hi_ms <= budget_ms if budget_ms is not None else timing.ratio_hi <= budget_ratio

    def at(index: int) -> Candidate:
        structure, gflops, timing = measure(values[index])
        if structure not in timed:  # the same structure is not timed twice: one answer per structure
            timed[structure] = Candidate(values[index], sum(structure), gflops, timing, within(timing))
            order.append(timed[structure])
        return timed[structure]

    low, high = 0, len(values) - 1
    if not at(high).within:
        fastest = min(order, key=lambda c: c.timing.median_ms)
        return _finish(order, fastest, met=False)
    if at(low).within:
        return _finish(order, at(low), met=True)
    while high - low > 1:  # invariant: low misses the budget, high meets it
        mid = (low + high) // 2
        if at(mid).within:
            high = mid
        else:
            low = mid
    return _finish(order, at(high), met=True)


def candidate_thresholds(gammas: np.ndarray) -> list[float]:
    """The search's candidates: just above each distinct group |gamma| (a threshold prunes what is under it),
    and 0 (prune nothing under alignment)."""
    distinct = np.unique(np.asarray(gammas, dtype=np.float64))
    return [0.0, *np.nextafter(distinct, np.inf).tolist()]


def _finish(order: list[Candidate], chosen: Candidate, *, met: bool) -> Search:
    """The search result, the chosen candidate marked."""
    marked = [replace(c, chosen=c is chosen) for c in order]
    return Search(marked, marked[order.index(chosen)], met)
