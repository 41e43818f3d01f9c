"""Pruning to a latency budget: the bisection over thresholds, and the prune stage with an engine of one's own."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pandas as pd
import pytest
import torch
from conftest import write_params
from helpers.models import write_sparse_checkpoint
from yoloslim.config import ConfigError, load_config
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import StudyPaths
from yoloslim.prune.search import Timing, candidate_thresholds, search_threshold
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
    kept. Records the thresholds it was asked for."""
    asked = []

    def measure(threshold: float) -> tuple[tuple[int, ...], float, Timing]:
        asked.append(threshold)
        kept = total - int(threshold)
        ms = base_ms * kept / total
        return (kept,), float(kept), Timing(ms, ms, ms, ms / base_ms, ms / base_ms, ms / base_ms)

    return measure, asked


def test_bisection_keeps_the_largest_structure_within_the_budget() -> None:
    measure, asked = linear_measure(1000)
    search = search_threshold(range(1000), measure, budget_ratio=0.637)
    assert len(asked) <= 13  # log2(1000) + the two ends, not 1000
    assert search.met and search.chosen.threshold == 363  # kept 637 of 1000: exactly 0.637
    assert search.chosen.timing.ratio <= 0.637 < measure(362)[2].ratio
    table = search.table()
    assert table["chosen"].sum() == 1 and table["threshold"].is_monotonic_increasing
    assert set(table.columns) >= {"threshold", "kept_channels", "gflops", "latency_median_ms", "ratio", "within_budget"}


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

    def noisy(threshold: float) -> tuple[tuple[int, ...], float, Timing]:
        kept = 100 - int(threshold)
        ratio = kept / 100
        return (kept,), float(kept), Timing(ratio, ratio - 0.02, ratio + 0.02, ratio, ratio - 0.02, ratio + 0.02)

    chosen = search_threshold(range(100), noisy, budget_ratio=0.5).chosen
    assert chosen.timing.ratio_hi <= 0.5 and chosen.threshold == 52  # median 0.48: 0.50 and 0.49 were not enough


def test_candidates_prune_what_is_under_them() -> None:
    assert candidate_thresholds([0.3, 0.1, 0.1])[0] == 0.0
    assert all(t > g for t, g in zip(candidate_thresholds([0.1, 0.3])[1:], [0.1, 0.3], strict=True))


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
        bn.weight.data = (bn.weight.data / 0.05).floor() * 0.05  # six gamma levels: a short search
    save_checkpoint(model, sparse, train_args={"imgsz": cfg.train.imgsz})
    base = save_checkpoint(model, StudyPaths.of(cfg).train("base").weights)  # the unpruned model
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
    assert fake_latency(out / "weights.onnx", cfg.train.imgsz) <= 0.5 * fake_latency_of(base, out_root, cfg.train.imgsz)
    assert {m.id: m.label for m in study_models(cfg)}["fast"] == "lat_0.5x(fast)"
    monkeypatch.setattr("yoloslim.prune.alternative.SEARCH_RATIOS", [0.0, 0.8])  # a short search: 2 structures
    out = run_prune(cfg, "fast-tp_magnitude")
    metrics = json.loads((out / "metrics.json").read_text())
    match, search = metrics["cost_match"], pd.read_csv(out / "search.csv")
    assert match["by"] == "latency" and match["matched"] and metrics["policy"] == "tp_magnitude"
    chosen = search[search["chosen"]].iloc[0]
    assert chosen["ratio_hi"] <= aim and (search[search["threshold"] < chosen["threshold"]]["ratio_hi"] > aim).all()
    assert match["ratio"] == pytest.approx(chosen["threshold"])  # the search's knob is Torch-Pruning's global ratio
    assert fake_latency(out / "weights.onnx", cfg.train.imgsz) <= 0.5 * fake_latency_of(base, out_root, cfg.train.imgsz)


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
