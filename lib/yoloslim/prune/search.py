"""Prune to a latency budget: the largest structure whose measured latency on the target engine is within it.

Network slimming gives a |gamma| threshold; a team has a latency budget on its engine. For a target of
`prune.targets` (`{fast: {latency: 0.5x}}`) the prune stage searches the sparse model's thresholds:

- the candidates are just above each value a threshold is compared with when the plan is made (`plan_importances`:
  every group channel's importance, the members' |gamma| combined by `prune.importance`, and with
  `prune.attention: heads` every head's): every step can change the structure, and every structure the threshold
  policy can give is among them;
- a candidate is pruned with alignment (`round_to`), exported to ONNX and timed on the engine with the base
  model (`onnx_cpu`, and on a GPU machine with onnxruntime-gpu `onnx_cuda` or `onnx_tensorrt`: interleaved in
  one process, `yoloslim.measure.interleaved`, so a relative budget is the median per-round ratio to the base model);
  a structure already timed is not timed again (several thresholds often give one structure under alignment);
- bisection finds a low threshold within the budget. Within means the upper end of the 95 % interval (of the
  latency, or of the per-round ratio for a relative budget) is within it, and the prune stage passes the budget
  less `prune.margin`, so the chosen model meets the budget when it is measured again in another process, not
  only on a lucky median;
- bisection assumes latency falls as the threshold rises, and timings do not quite (noise, and kernels chosen per
  channel width): so from the bisection's choice towards larger structures, every distinct structure is timed
  until one misses the aim clearly (its interval's lower end more than `SPREAD` over it), and the largest structure
  within the aim is kept;
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

import copy
import importlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from yoloslim.config import LatencyConfig
from yoloslim.measure.onnx import ONNX_PROVIDERS
from yoloslim.models.attention import AttentionMode, attentions
from yoloslim.models.c2f import split_c2f
from yoloslim.prune.groups import build_graph, plan_groups
from yoloslim.prune.heads import head_importance


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
        return _timings(interleaved_latency(onnx, dict.fromkeys(onnx, imgsz), latency, providers=providers))

    return engine


def deployment_engine(latency: LatencyConfig, name: str) -> Engine:
    """A deployment engine of `yoloslim.measure.engines` (onnx_cpu_int8, openvino_cpu, openvino_cpu_int8): the models'
    exports for it timed interleaved in one process, with intervals, on a zero image."""
    from yoloslim.measure.engines import engine_runner
    from yoloslim.measure.interleaved import interleaved_runs

    def engine(artifacts: dict[str, Path], imgsz: int) -> dict[str, Timing]:
        image = np.zeros((1, 3, imgsz, imgsz), dtype=np.float32)
        runs = {}
        for model, path in artifacts.items():
            infer, _ = engine_runner(name, path, latency.threads, spinning=False)  # sessions that take turns
            runs[model] = partial(infer, image)
        return _timings(interleaved_runs(runs, latency))

    return engine


def _timings(timed: dict[str, dict[str, float]]) -> dict[str, Timing]:
    """An interleaved measurement (`yoloslim.measure.interleaved`) as the search's timings, model by model."""
    return {
        model: Timing(t["median_ms"], t["lo_ms"], t["hi_ms"], t["ratio"], t["ratio_lo"], t["ratio_hi"])
        for model, t in timed.items()
    }


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
    """The engine named by `prune.engine`: onnx_cpu, onnx_cuda, onnx_tensorrt, a deployment engine (onnx_cpu_int8,
    openvino_cpu, openvino_cpu_int8), or a user's "package.module:function"."""
    if ":" in spec:
        return function_engine(spec)
    return onnx_engine(latency, spec) if spec in ONNX_PROVIDERS else deployment_engine(latency, spec)


# a structure measured more than this over the aim is taken to mean every larger one misses it too: twice the largest
# difference measured between timings of one structure in separate processes (5 %), as kernels chosen per channel
# width move a structure's latency by more than noise alone
SPREAD = 0.10

Structure = tuple[int, ...]
# measure(threshold): the structure pruned at that threshold (kept channels per group), its GFLOPs, and a function
# that times it on the engine (called once per distinct structure)
Measure = Callable[[float], tuple[Structure, float, Callable[[], Timing]]]


def search_threshold(
    thresholds: Sequence[float],
    measure: Measure,
    *,
    budget_ms: float | None = None,
    budget_ratio: float | None = None,
) -> Search:
    """The lowest of the sorted candidate `thresholds` (the largest structure) whose timed latency is within the budget.

    Structures are taken to shrink as the threshold rises (so a run of thresholds giving one structure is found by
    bisection). Bisection finds a structure within the budget; then every distinct larger structure is timed, going
    larger, until one misses the budget by more than `SPREAD` (timings are not monotone), and the largest within is
    chosen. When no candidate is within the budget, the fastest one timed is chosen and `met` is False.

    Args:
        thresholds (Sequence[float]): The candidate thresholds (sorted and deduplicated here).
        measure (Measure): `measure(threshold)` prunes at that threshold and returns (kept channels per group,
            GFLOPs, a function timing it).
        budget_ms (float | None): An absolute budget: the latency's interval must end within it.
        budget_ratio (float | None): A budget relative to the base model: the per-round ratio's interval must end
            within it. Give exactly one of the two.

    Returns:
        (Search): The timed candidates, the chosen one, and whether it meets the budget.
    """
    if (budget_ms is None) == (budget_ratio is None):
        raise ValueError("search_threshold: give exactly one of budget_ms and budget_ratio")
    values = sorted(set(float(t) for t in thresholds))
    if not values:
        raise ValueError("search_threshold: no candidate thresholds")
    shapes: dict[int, tuple[Structure, float]] = {}  # candidate index -> its structure and GFLOPs
    timed: dict[Structure, Candidate] = {}  # one timing per structure
    order: list[Candidate] = []

    def over(timing: Timing, slack: float = 0.0) -> tuple[bool, bool]:
        """Whether the interval's upper end is over the budget, and whether its lower end is over it by `slack`."""
        if budget_ms is not None:
            return timing.hi_ms > budget_ms, timing.lo_ms > budget_ms * (1 + slack)
        return timing.ratio_hi > budget_ratio, timing.ratio_lo > budget_ratio * (1 + slack)

    def structure(index: int) -> Structure:
        if index not in shapes:
            shape, gflops, _ = measure(values[index])
            shapes[index] = (shape, gflops)
        return shapes[index][0]

    def at(index: int) -> Candidate:
        if index not in shapes or shapes[index][0] not in timed:
            shape, gflops, time = measure(values[index])
            shapes[index] = (shape, gflops)
            if shape not in timed:
                timing = time()
                timed[shape] = Candidate(values[index], sum(shape), gflops, timing, not over(timing)[0])
                order.append(timed[shape])
        return timed[shapes[index][0]]

    def clear_miss(index: int) -> bool:
        return index in shapes and shapes[index][0] in timed and over(timed[shapes[index][0]].timing, SPREAD)[1]

    def larger(index: int, floor: int) -> int:
        """The highest index under `index` whose structure differs (by bisection: structures change monotonically),
        or `floor` when none above it does."""
        if floor < 0 or structure(floor) != structure(index):
            low, high = floor, index
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (low, mid) if structure(mid) == structure(index) else (mid, high)
            return low
        return floor

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
    floor = max((i for i in range(high) if clear_miss(i)), default=-1)  # every larger structure misses: not timed
    chosen, index = at(high), larger(high, floor)
    while index > floor:
        candidate = at(index)
        if over(candidate.timing, SPREAD)[1]:
            break
        if candidate.within:
            chosen = candidate
        index = larger(index, floor)
    return _finish(order, chosen, met=True)


def plan_importances(model: nn.Module, importance: str = "max", attention: AttentionMode = "intact") -> np.ndarray:
    """The values a |gamma| threshold is compared with when the plan is made (`yoloslim.prune.groups`,
    `yoloslim.prune.heads`). As float32, the plan's own precision.

    Args:
        model (nn.Module): The sparse model (left unchanged: read on a copy).
        importance (str): How a group channel's members' |gamma| combine: `max`, `mean` or `sum`.
        attention (AttentionMode): `heads`: every head's importance is among the values too; `intact`: not.

    Returns:
        (np.ndarray): Every prunable group channel's importance, then (with `attention="heads"`) every head's.
    """
    model = copy.deepcopy(model).float().eval()
    for p in model.parameters():
        p.requires_grad_(True)  # the dependency graph is traced through autograd
    split_c2f(model, c2psa=attention == "heads")
    values = [plan.importance for plan in plan_groups(model, build_graph(model), importance, attention)]
    if attention == "heads":
        values += [head_importance(attn) for attn in attentions(model).values()]
    return torch.cat(values).float().numpy() if values else np.zeros(0, dtype=np.float32)


def candidate_thresholds(importances: np.ndarray) -> list[float]:
    """The search's candidates: just above each distinct importance (`plan_importances`; a threshold prunes what is
    under it), and 0 (prune nothing under alignment). "Just above" in float32, the precision the plan compares in."""
    distinct = np.unique(np.asarray(importances, dtype=np.float32))
    return [0.0, *np.nextafter(distinct, np.float32(np.inf)).astype(np.float64).tolist()]


def _finish(order: list[Candidate], chosen: Candidate, *, met: bool) -> Search:
    """The search result, the chosen candidate marked."""
    marked = [replace(c, chosen=c is chosen) for c in order]
    return Search(marked, marked[order.index(chosen)], met)
