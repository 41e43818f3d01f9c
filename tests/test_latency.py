"""Latency, ONNX export and model statistics on a tiny untrained yolov5n (imgsz 64). No timed assertions."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from yoloslim.config import LatencyConfig
from yoloslim.measure.interleaved import across_processes, interleaved_latency, summarize
from yoloslim.measure.latency import NO_CUDA, measure_latency, time_runs
from yoloslim.measure.onnx import export_onnx
from yoloslim.measure.profile import operator_times, per_operator
from yoloslim.models.stats import FlopsError, count_gflops, count_params, file_mb, load_model, model_stats
from yoloslim.shared import BETWEEN


def save_checkpoint(path: Path, names: list[str], cfg: str = "yolov5n.yaml") -> Path:
    """An untrained detector saved as `YOLO(path)` loads it (fp16, like Ultralytics' checkpoints)."""
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    yolo = YOLO(cfg)
    yolo.model = DetectionModel(cfg, nc=len(names), verbose=False)
    yolo.model.names = dict(enumerate(names))
    path.parent.mkdir(parents=True, exist_ok=True)
    yolo.save(path)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny checkpoint and its ONNX export (exported once for the module)."""
    folder = tmp_path_factory.mktemp("tiny")
    weights = save_checkpoint(folder / "weights" / "weights.pt", ["dm", "qr", "bar"])
    return weights, export_onnx(weights, folder / "onnx", 64)


def test_time_runs_reports_median_and_p90() -> None:
    calls = []
    result = time_runs(lambda: calls.append(sum(range(1000))), warmup=3, runs=7)
    assert len(calls) == 10
    assert 0 < result["median_ms"] <= result["p90_ms"]
    assert result["runs"] == 7 and result["warmup"] == 3


def test_onnx_export_beside_nothing_and_runs(tiny: tuple[Path, Path]) -> None:
    import onnxruntime as ort

    weights, onnx = tiny
    assert onnx.is_file() and onnx.name == "model.onnx" and file_mb(onnx) > 0.5
    assert sorted(p.name for p in weights.parent.iterdir()) == ["weights.pt"]  # nothing written beside the input
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: np.zeros((1, 3, 64, 64), np.float32)})
    assert out[0].shape[:2] == (1, 4 + 3)  # boxes + 3 class scores per anchor


def test_model_stats(tiny: tuple[Path, Path]) -> None:
    weights, _ = tiny
    model = load_model(weights).model
    stats = model_stats(model, 64)
    assert stats["params"] == count_params(model) > 1_000_000
    assert 0 < stats["gflops"] < model_stats(model, 128)["gflops"]
    assert file_mb(weights) == pytest.approx(stats["params"] * 2 / 1e6, rel=0.3)  # fp16: ~2 bytes a parameter
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_model(weights.parent / "missing.pt")


def test_uncounted_flops_stop_naming_the_model(tiny: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ultralytics' get_flops returns 0 on any failure: that is an error naming the model, not a FLOPs ratio of 0."""
    weights, _ = tiny
    model = load_model(weights).model
    monkeypatch.setattr("ultralytics.utils.torch_utils.get_flops", lambda model, imgsz: 0.0)
    with pytest.raises(FlopsError, match=rf"{weights.name}: its FLOPs at 64 px could not be counted: THOP"):
        model_stats(model, 64, name=str(weights))
    with pytest.raises(FlopsError, match=r"DetectionModel \(yolov5n.yaml\): its FLOPs"):
        count_gflops(model, 64)


def test_measure_latency_cpu_engines(tiny: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    weights, onnx = tiny
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without CUDA, also on one with it
    before = torch.get_num_threads()
    engines = ["torch_cpu", "onnx_cpu", "openvino_cpu", "torch_cuda"]
    artifacts = {"onnx_cpu": onnx, "openvino_cpu": onnx}
    result = measure_latency(load_model(weights).model, artifacts, 64, LatencyConfig(warmup=1, runs=4, threads=1),
                             engines)  # fmt: skip
    assert torch.get_num_threads() == before  # thread count restored
    for engine in ("torch_cpu", "onnx_cpu", "openvino_cpu"):
        timing = result[engine]
        assert 0 < timing["median_ms"] <= timing["p90_ms"]
        assert timing["threads"] == 1 and timing["runs"] == 4 and timing["precision"] == "FP32"  # read back
    assert result["threads"] == 1 and result["cpu"]
    assert result["torch_cuda"] is None and result["notes"]["torch_cuda"] == NO_CUDA and result["cuda"] is None
    for engine in ("onnx_cpu_int8", "openvino_cpu_int8"):  # not listed: not measured, and said so
        assert result[engine] is None and result["notes"][engine] == "not measured: not in eval.engines"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: torch_cuda latency is not checked")
def test_measure_latency_on_cuda(tiny: tuple[Path, Path]) -> None:
    weights, onnx = tiny
    result = measure_latency(load_model(weights).model, {}, 64, LatencyConfig(warmup=1, runs=4, threads=1),
                             ["torch_cuda"])  # fmt: skip
    timing = result["torch_cuda"]
    assert 0 < timing["median_ms"] <= timing["p90_ms"] and timing["device"] == "cuda:0" and timing["runs"] == 4
    assert "torch_cuda" not in result["notes"] and result["cuda"]


def test_operator_profile_counts_only_the_timed_runs() -> None:
    def run(ts: int, dur: int) -> dict:
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur}

    def kernel(ts: int, op: str, dur: int) -> dict:
        return {"cat": "Node", "name": f"/m/{op}_kernel_time", "ts": ts, "dur": dur, "args": {"op_name": op}}

    warmup = [kernel(0, "Conv", 9000), run(0, 10000)]  # a slow first run, left out
    timed = [kernel(20000, "Conv", 600), kernel(20700, "Concat", 200), run(20000, 1000),
             kernel(30000, "Conv", 400), kernel(30500, "Concat", 200), run(30000, 1000)]  # fmt: skip
    ms = per_operator(warmup + timed, runs=2)
    assert ms == pytest.approx({"Conv": 0.5, "Concat": 0.2, BETWEEN: 0.3}) and list(ms)[0] == "Conv"


def test_operator_times_of_a_real_model(tiny: tuple[Path, Path]) -> None:
    """ONNX Runtime's profile by operator type (that convolutions take most of the time is measured by `make bench`,
    not asserted here)."""
    _, onnx = tiny
    ms = operator_times(onnx, 64, LatencyConfig(warmup=1, runs=3, threads=1))
    assert {"Conv", "Concat"} <= set(ms) and list(ms)[-1] == BETWEEN and ms["Conv"] > 0
    assert ms[BETWEEN] > 0  # on one thread a run's kernels, each counted once, add up to less than the run


def test_interleaved_rounds_give_medians_and_paired_ratios(tiny: tuple[Path, Path]) -> None:
    rounds = np.array([[10.0, 5.0], [12.0, 6.0], [10.0, 5.0], [30.0, 15.0]])  # a slow round slows both
    summary = summarize(rounds, ["base", "large"], np.random.default_rng(0))
    assert summary["base"]["median_ms"] == 11.0 and summary["large"]["median_ms"] == 5.5
    assert summary["large"]["ratio"] == summary["large"]["ratio_lo"] == summary["large"]["ratio_hi"] == 0.5
    assert summary["large"]["lo_ms"] <= 5.5 <= summary["large"]["hi_ms"]
    _, onnx = tiny  # the same model under two names, measured interleaved by ONNX Runtime
    measured = interleaved_latency({"base": onnx, "copy": onnx}, {"base": 64, "copy": 64}, LatencyConfig(1, 5, 1))
    assert measured["copy"]["runs"] == 5
    assert 0 < measured["copy"]["lo_ms"] <= measured["copy"]["median_ms"] <= measured["copy"]["hi_ms"]
    assert measured["copy"]["ratio_lo"] <= measured["copy"]["ratio"] <= measured["copy"]["ratio_hi"]


def test_interleaved_rounds_run_every_model_once_in_a_random_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions that take a known time on a fake clock: the warm-up rounds are left out, every round runs every
    model once in a fresh order, and each ratio is to the base model's time in the same round."""
    clock, order, ms = [0.0], [], {"base": 4.0, "large": 2.0, "small": 1.0}

    class Session:
        def __init__(self, model: str) -> None:
            self.model = model

        def run(self, outputs: None, feed: dict) -> None:
            order.append(self.model)
            clock[0] += ms[self.model] / 1000

    module = sys.modules[interleaved_latency.__module__]
    monkeypatch.setattr(module, "onnx_session", lambda path, *args, **kwargs: (Session(path.name), {}))
    monkeypatch.setattr(module, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    measured = interleaved_latency({m: Path(m) for m in ms}, dict.fromkeys(ms, 64), LatencyConfig(2, 6, 1))
    rounds = [tuple(order[i : i + 3]) for i in range(0, len(order), 3)]
    assert len(rounds) == 2 + 6 and all(sorted(r) == sorted(ms) for r in rounds) and len(set(rounds)) > 1
    for model, expected in ms.items():
        assert measured[model]["median_ms"] == pytest.approx(expected) and measured[model]["runs"] == 6
        ratio = [measured[model][k] for k in ("ratio", "ratio_lo", "ratio_hi")]
        assert ratio == pytest.approx([expected / ms["base"]] * 3)


def test_processes_give_a_prediction_interval_for_another_process() -> None:
    """Three processes measured the ratio 0.48, 0.50 and 0.52: the interval predicts a fourth, exp(m ± t(0.975, 2) ·
    s · sqrt(1 + 1/3)) over their logarithms = [0.410, 0.610], wider than any one process's interval over its rounds,
    and positive however far apart the processes are."""
    one = {"median_ms": 4.0, "p90_ms": 4.4, "lo_ms": 3.9, "hi_ms": 4.1, "runs": 50}
    processes = [{"base": {**one, "ratio": 1.0, "ratio_lo": 1.0, "ratio_hi": 1.0},
                  "large": {**one, "median_ms": 2.0 * r, "ratio": r, "ratio_lo": r - 0.005, "ratio_hi": r + 0.005}}
                 for r in (0.48, 0.50, 0.52)]  # fmt: skip
    large = across_processes(processes)["large"]
    logs = np.log([0.48, 0.50, 0.52])  # on the log scale: the geometric mean, t(0.975, 2) = 4.302653
    centre, half = logs.mean(), 4.302653 * logs.std(ddof=1) * (4 / 3) ** 0.5
    assert large["ratio"] == pytest.approx(np.exp(centre)) and large["processes"] == 3 and large["runs"] == 150
    assert (large["ratio_lo"], large["ratio_hi"]) == pytest.approx(np.exp([centre - half, centre + half]), abs=1e-6)
    assert (large["lo_ms"], large["hi_ms"]) == pytest.approx(2 * np.exp([centre - half, centre + half]), abs=1e-5)
    assert 0 < large["lo_ms"] < large["median_ms"] < large["hi_ms"]
    base = across_processes(processes)["base"]
    assert base["ratio_lo"] == base["ratio_hi"] == 1.0  # the base model against itself: no spread
    assert across_processes(processes[:1])["large"] == {**processes[0]["large"], "processes": 1}  # one: as measured
