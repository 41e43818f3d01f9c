"""Pruning to a latency budget: the bisection over thresholds, and the prune stage with an engine of one's own."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from conftest import write_params
from helpers.models import write_sparse_checkpoint
from ultralytics.nn.tasks import DetectionModel
from yoloslim.config import ConfigError, load_config
from yoloslim.models.attention import attentions
from yoloslim.models.c2f import split_c2f
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import gamma_values
from yoloslim.paths import StudyPaths
from yoloslim.prune.groups import build_graph, plan_groups
from yoloslim.prune.heads import head_importance
from yoloslim.prune.search import SPREAD, Timing, candidate_thresholds, plan_importances, search_threshold
from yoloslim.prune.stage import run_prune
from yoloslim.study import study_models

MS_PER_CHANNEL = 0.01  # the fake engine: latency is a known function of the convolutions' output channels


def fake_latency(onnx_path: Path, imgsz: int) -> float:
    """An engine of one's own (`prune.engine: test_prune_search:fake_latency`): 0.01 ms per conv output channel."""
    graph = onnx.load(str(onnx_path)).graph
    shapes = {init.name: init.dims for init in graph.initializer}
    return MS_PER_CHANNEL * sum(shapes[node.input[1]][0] for node in graph.node if node.op_type == "Conv")


def linear_measure(total: int, base_ms: float = 100.0):
    """A fake `measure`: threshold t (an integer) prunes t of `total` channels; latency is proportional to what is
    kept. Records the thresholds it timed."""
    timed = []

    def measure(threshold: float) -> tuple[tuple[int, ...], float, Callable[[], Timing]]:
        kept = total - int(threshold)
        ms = base_ms * kept / total

        def time() -> Timing:
            timed.append(threshold)
            return Timing(ms, ms, ms, ms / base_ms, ms / base_ms, ms / base_ms)

        return (kept,), float(kept), time

    return measure, timed


def test_bisection_keeps_the_largest_structure_within_the_budget() -> None:
    measure, timed = linear_measure(1000)
    search = search_threshold(range(1000), measure, budget_ratio=0.637)
    band = 1000 * 0.637 * SPREAD  # the structures under the aim's spread, timed after the bisection
    assert len(timed) == len(set(timed)) <= 13 + band  # log2(1000) + the two ends + the band, not 1000
    assert search.met and search.chosen.threshold == 363  # kept 637 of 1000: exactly 0.637
    assert search.chosen.timing.ratio <= 0.637 < measure(362)[2]().ratio
    table = search.table()
    assert table["chosen"].sum() == 1 and table["threshold"].is_monotonic_increasing
    assert set(table.columns) >= {"threshold", "kept_channels", "gflops", "latency_median_ms", "ratio", "within_budget"}


def test_timings_that_are_not_monotone_keep_the_largest_structure_within_the_budget() -> None:
    """Bisection alone times thresholds 4, 0, 2, 3 and keeps 3, though 1 (more channels) is within the aim: the
    structures between the bisection's choice and a clear miss are timed too."""
    ratios = [0.60, 0.45, 0.52, 0.44, 0.40]
    timed = []

    def measure(threshold: float) -> tuple[tuple[int, ...], float, Callable[[], Timing]]:
        ratio = ratios[int(threshold)]

        def time() -> Timing:
            timed.append(int(threshold))
            return Timing(ratio, ratio, ratio, ratio, ratio, ratio)

        return (len(ratios) - int(threshold),), 1.0, time

    search = search_threshold(range(5), measure, budget_ratio=0.475)
    assert search.met and search.chosen.threshold == 1
    assert timed == [4, 0, 2, 3, 1]  # each structure timed once; 0 missed by more than SPREAD: nothing larger is


def test_thresholds_of_one_structure_time_it_once() -> None:
    """Alignment gives runs of thresholds one structure: each is timed once, the search keeps the largest."""
    timed = []

    def measure(threshold: float) -> tuple[tuple[int, ...], float, Callable[[], Timing]]:
        kept = 100 - 10 * (int(threshold) // 10)  # ten thresholds per structure
        ratio = kept / 100

        def time() -> Timing:
            timed.append(kept)
            return Timing(ratio, ratio, ratio, ratio, ratio, ratio)

        return (kept,), float(kept), time

    search = search_threshold(range(100), measure, budget_ratio=0.65)
    assert search.chosen.kept_channels == 60 and len(timed) == len(set(timed))


def test_absolute_budget_and_budget_met_without_pruning() -> None:
    measure, _ = linear_measure(100, base_ms=10.0)
    assert search_threshold(range(100), measure, budget_ms=4.0).chosen.timing.median_ms == 4.0
    assert search_threshold(range(100), measure, budget_ms=50.0).chosen.threshold == 0  # nothing needs pruning


def test_a_budget_out_of_reach_keeps_the_fastest_structure_and_says_so() -> None:
    measure, _ = linear_measure(100, base_ms=10.0)
    search = search_threshold(range(90), measure, budget_ms=0.5)  # the fastest candidate keeps 11 channels: 1.1 ms
    assert not search.met and search.chosen.timing.median_ms == pytest.approx(1.1)


def test_within_the_budget_means_the_whole_interval() -> None:
    """A median within the budget is not enough: the upper end of the interval must be, or a re-measurement
    could find the model over it."""

    def noisy(threshold: float) -> tuple[tuple[int, ...], float, Callable[[], Timing]]:
        kept = 100 - int(threshold)
        r = kept / 100
        return (kept,), float(kept), lambda: Timing(r, r - 0.02, r + 0.02, r, r - 0.02, r + 0.02)

    chosen = search_threshold(range(100), noisy, budget_ratio=0.5).chosen
    assert chosen.timing.ratio_hi <= 0.5 and chosen.threshold == 52  # median 0.48: 0.50 and 0.49 were not enough


def test_candidates_prune_what_is_under_them() -> None:
    assert candidate_thresholds([0.3, 0.1, 0.1])[0] == 0.0
    importances = torch.tensor([0.1, 0.3])  # float32, as the plan compares them
    for threshold, importance in zip(candidate_thresholds(importances.numpy())[1:], importances, strict=True):
        assert not importance >= threshold and (importances >= threshold).sum() == (importances > importance).sum()


@pytest.mark.parametrize(("cfg", "importance", "attention"),
                         [("yolov8n.yaml", "mean", "intact"), ("yolov8n.yaml", "sum", "intact"),
                          ("yolo11n.yaml", "max", "heads")])  # fmt: skip
def test_every_plan_the_threshold_policy_can_give_is_a_candidate(cfg: str, importance: str, attention: str) -> None:
    """The candidates reach every plan a threshold can give: each group's and each head's count at or over it,
    the values `plan_groups`/`plan_heads` decide by (with mean or sum, not the BatchNorms' own gammas)."""
    model = sparse_levels(cfg)
    plans, heads = decided_values(model, importance, attention)

    def plan(threshold: float) -> tuple[int, ...]:
        return tuple(int((values >= threshold).sum()) for values in plans + heads)

    values = np.unique(torch.cat(plans + heads).numpy())
    every = {plan(t) for t in [*values.tolist(), float("inf")]}  # at a value, only what is under it goes
    assert {plan(t) for t in candidate_thresholds(plan_importances(model, importance, attention))} == every
    if importance != "max":  # the gammas themselves miss plans: the regression this guards against
        assert {plan(t) for t in candidate_thresholds(gamma_values(model).numpy())} < every


def sparse_levels(cfg: str) -> DetectionModel:
    """A tiny detector whose gammas take ten levels (0, 0.1, ..., 0.9): few distinct values, and tied groups whose
    mean or sum is none of them."""
    torch.manual_seed(0)
    model = DetectionModel(cfg, nc=3, verbose=False)
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.weight.data = torch.randint(0, 10, (bn.num_features,)).float() / 10
    return model.eval()


def decided_values(model: DetectionModel, importance: str, attention: str) -> tuple[list[torch.Tensor], list]:
    """What the plan compares a threshold with: each prunable group's importances, and each Attention's heads'."""
    model = copy.deepcopy(model)
    for p in model.parameters():
        p.requires_grad_(True)
    split_c2f(model, c2psa=attention == "heads")
    plans = [p.importance for p in plan_groups(model, build_graph(model), importance, attention)]
    return plans, [head_importance(m) for m in attentions(model).values()] if attention == "heads" else []


def test_latency_target_must_be_a_budget(out_root: Path) -> None:
    for targets, message in [
        ({"fast": {"latency": "fast"}}, r"prune.targets.fast.latency"),
        ({"fast": {"speed": "0.5x"}}, r"prune.targets.fast' must be a mapping with one key, latency"),
        ({"large": {"latency": "0.5x"}}, r"a name other than the prune.thresholds names"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(write_params(out_root, {"prune": {"targets": targets}}))


def test_prune_stage_searches_to_a_budget_with_a_plugged_engine(smoke_cfg, out_root: Path, monkeypatch) -> None:
    """A tiny yolov5n pruned to half the base model's latency on a fake engine (a known function of the channels):
    the stage keeps a structure within the budget, writes search.csv and the figure, and labels the model; its
    Torch-Pruning alternative is searched within the same budget (matched by measured latency)."""
    prune = {"targets": {"fast": {"latency": "0.5x"}}, "engine": f"{__name__}:fake_latency", "compare": ["fast"]}
    params = write_params(out_root, {"name": smoke_cfg.name, "prune": prune})
    cfg = load_config(params)
    write_sparse_checkpoint(cfg)
    sparse = StudyPaths.of(cfg).sparse.weights
    model = torch.load(sparse, weights_only=False)["model"].float()
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.weight.data = (bn.weight.data / 0.1).floor() * 0.1  # three gamma levels: a short search
    save_checkpoint(model, sparse, train_args={"imgsz": cfg.train.imgsz})
    base = save_checkpoint(model, StudyPaths.of(cfg).train("base").weights)  # the unpruned model
    budget_ms = 0.5 * fake_latency_of(base, out_root, cfg.train.imgsz)
    out = run_prune(cfg, "fast")
    search = pd.read_csv(out / "search.csv")
    chosen = search[search["chosen"]].iloc[0]
    aim = 0.5 * (1 - cfg.prune.margin)  # the search leaves a margin under the budget
    assert chosen["ratio_hi"] <= aim and chosen["within_budget"]
    lower = search[(search["threshold"] < chosen["threshold"])]
    assert (lower["ratio_hi"] > aim).all()  # every larger structure timed misses the aim
    assert (out / "figures" / "search.png").stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["policy"] == "latency" and metrics["search"]["met"]
    assert metrics["threshold"] == pytest.approx(chosen["threshold"])
    assert fake_latency(out / "weights.onnx", cfg.train.imgsz) <= budget_ms
    assert {m.id: m.label for m in study_models(cfg)}["fast"] == "lat_0.5x(fast)"
    monkeypatch.setattr("yoloslim.prune.alternative.SEARCH_RATIOS", [0.0, 0.8])  # a short search: 2 structures
    out = run_prune(cfg, "fast-tp_magnitude")
    metrics = json.loads((out / "metrics.json").read_text())
    match, search = metrics["cost_match"], pd.read_csv(out / "search.csv")
    assert match["by"] == "latency" and match["matched"] and metrics["policy"] == "tp_magnitude"
    chosen = search[search["chosen"]].iloc[0]
    assert chosen["ratio_hi"] <= aim and (search[search["threshold"] < chosen["threshold"]]["ratio_hi"] > aim).all()
    assert match["ratio"] == pytest.approx(chosen["threshold"])  # the search's knob is Torch-Pruning's global ratio
    assert fake_latency(out / "weights.onnx", cfg.train.imgsz) <= budget_ms


def fake_latency_of(weights: Path, folder: Path, imgsz: int) -> float:
    """The fake engine's latency of a checkpoint (exported to ONNX first)."""
    from yoloslim.measure.onnx import export_onnx

    return fake_latency(export_onnx(weights, folder / "timed", imgsz), imgsz)


@pytest.mark.parametrize("engine", ["onnx_cuda", "onnx_tensorrt"])
def test_gpu_engines_need_their_providers(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without them (an ONNX Runtime for the CPU, here also on a GPU machine), the search stops before any pruning,
    naming the missing provider and what to install."""
    import onnxruntime as ort
    from yoloslim.config import LatencyConfig
    from yoloslim.prune.search import resolve_engine

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(RuntimeError, match=rf"{engine}: .*lacks .*CUDAExecutionProvider.*onnxruntime-gpu"):
        resolve_engine(engine, LatencyConfig())


def _gpu_providers() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(not _gpu_providers(), reason="no CUDA in ONNX Runtime (onnxruntime-gpu): onnx_cuda not checked")
def test_gpu_engine_where_onnxruntime_has_cuda() -> None:
    from yoloslim.config import LatencyConfig
    from yoloslim.prune.search import resolve_engine

    assert callable(resolve_engine("onnx_cuda", LatencyConfig()))
