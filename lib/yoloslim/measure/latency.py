"""Inference latency at batch 1: PyTorch on the CPU (and on CUDA when present) and every deployment engine of
`yoloslim.measure.engines` (ONNX Runtime and OpenVINO, FP32 and INT8), each with the precision it actually ran.

Each engine gets `warmup` untimed runs, then `runs` timed ones on a zero image of the model's size; the
median and the 90th percentile are reported with the thread count and the CPU model, so that numbers
from different machines are not compared by accident.

    from yoloslim.measure.latency import measure_latency
    measure_latency(torch_model, {"onnx_cpu": onnx_path}, imgsz=256, cfg=cfg.eval.latency, engines=cfg.eval.engines)
    # {'torch_cpu': {'median_ms': 3.1, 'p90_ms': 3.4, 'precision': 'FP32', ...}, 'onnx_cpu': {...}, 'torch_cuda': None,
    #  'notes': {'torch_cuda': 'not measured: no CUDA device', ...}, 'threads': 2, 'cpu': 'AMD EPYC'}
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from yoloslim.config import ENGINES, LatencyConfig
from yoloslim.measure.onnx import resolve_threads

NO_CUDA = "not measured: no CUDA device"
TORCH_DEVICES = {"torch_cpu": "cpu", "torch_cuda": "cuda:0"}  # the PyTorch engines and the device each runs on


def cpu_model() -> str:
    """The CPU's model name, as Ultralytics reports it (e.g. 'AMD EPYC 7763')."""
    from ultralytics.utils.torch_utils import get_cpu_info

    return get_cpu_info()


def cuda_device() -> str | None:
    """The first CUDA device's name and memory, or None without one."""
    if not torch.cuda.is_available():
        return None
    from ultralytics.utils.torch_utils import get_gpu_info

    return get_gpu_info(0)


def torch_offered(engine: str) -> bool:
    """Whether a PyTorch engine (`TORCH_DEVICES`) can run here: the CPU always, CUDA where there is a device."""
    return TORCH_DEVICES[engine] == "cpu" or torch.cuda.is_available()


def time_runs(run: Callable[[], Any], *, warmup: int, runs: int) -> dict:
    """Call `run` `warmup` times untimed, then `runs` times timed; the median and p90 in milliseconds.

    Args:
        run (Callable[[], Any]): One inference (on CUDA, synchronised: `torch_runner`).
        warmup (int): The untimed calls.
        runs (int): The timed calls.

    Returns:
        (dict): median_ms, p90_ms, min_ms, warmup, runs.
    """
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": float(np.median(times)),
        "p90_ms": float(np.percentile(times, 90)),
        "min_ms": float(np.min(times)),
        "warmup": warmup,
        "runs": runs,
    }


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run PyTorch with this many intra-op threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def torch_runner(model: torch.nn.Module, imgsz: int, device: str = "cpu") -> Callable[[], Any]:
    """One batch-1 inference of a copy of `model` (fp32, BatchNorm fused into convolutions when possible) on a zero
    image on `device`, which returns once the device has finished (a CUDA synchronize).

    Args:
        model (torch.nn.Module): The model (copied; left unchanged).
        imgsz (int): The side of the zero image.
        device (str): The torch device ("cpu", "cuda:0").

    Returns:
        (Callable[[], Any]): The inference, run in inference mode; the caller sets the threads (`torch_threads`).
    """
    model = copy.deepcopy(model).float().to(device).eval()
    if hasattr(model, "fuse"):
        model = model.fuse(verbose=False)
    image = torch.zeros(1, 3, imgsz, imgsz, device=device)
    cuda = device.startswith("cuda")

    @torch.inference_mode()
    def run() -> Any:
        out = model(image)
        if cuda:
            torch.cuda.synchronize(device)
        return out

    return run


def measure_torch(
    model: torch.nn.Module, imgsz: int, cfg: LatencyConfig, device: str = "cpu", timed: bool = True
) -> dict:
    """Latency of a PyTorch model (fp32, batch 1, BatchNorm fused into convolutions when possible) on `device`.

    Args:
        model (torch.nn.Module): The model (timed on a copy; left unchanged).
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).
        device (str): The torch device ("cpu", "cuda:0").
        timed (bool): False: the model is not run, only the threads and the device are given.

    Returns:
        (dict): `time_runs`' numbers (none when not timed), the threads and the device.
    """
    threads = resolve_threads(cfg.threads)
    if not timed:
        return {"threads": threads, "device": device}
    run = torch_runner(model, imgsz, device)
    with torch_threads(threads):
        result = time_runs(run, warmup=cfg.warmup, runs=cfg.runs)
    return {**result, "threads": threads, "device": device}


def measure_engine(engine: str, artifact: Path, imgsz: int, cfg: LatencyConfig, timed: bool = True) -> dict:
    """Latency of an exported model on a deployment engine (`yoloslim.measure.engines`), batch 1, and the precision
    the engine ran it in.

    Args:
        engine (str): onnx_cpu, onnx_cpu_int8, openvino_cpu or openvino_cpu_int8.
        artifact (Path): The engine's export of the model (`build_artifact`).
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).
        timed (bool): False: the model is compiled for the engine and its precision read back, but not run.

    Returns:
        (dict): `time_runs`' numbers (none when not timed), the threads, the device ("cpu") and the precision read
            back.
    """
    from yoloslim.measure.engines import engine_runner

    infer, precision = engine_runner(engine, artifact, cfg.threads)
    image = np.zeros((1, 3, imgsz, imgsz), dtype=np.float32)
    result = time_runs(lambda: infer(image), warmup=cfg.warmup, runs=cfg.runs) if timed else {}
    return {**result, "threads": resolve_threads(cfg.threads), "device": "cpu", "precision": precision}


def measure_latency(
    model: torch.nn.Module,
    artifacts: dict[str, Path],
    imgsz: int,
    cfg: LatencyConfig,
    engines: Sequence[str],
    notes: dict[str, str] | None = None,
    timed: bool = True,
) -> dict:
    """Latency of one model on each engine; an engine that cannot run is None with its reason in `notes`.

    Args:
        model (torch.nn.Module): The PyTorch model, timed on the CPU and, when there is one, the first CUDA device.
        artifacts (dict[str, Path]): Deployment engine -> its export of the model (`yoloslim.measure.engines`); an
            engine without one is not measured.
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).
        engines (Sequence[str]): The engines to time (`eval.engines`); the others are None, "not in eval.engines".
        notes (dict[str, str] | None): Why an engine has no artifact ("not measured: ..."), kept in the result.
        timed (bool): False: nothing is timed; each engine that can run the model gets its threads, device and the
            precision it runs in (a study's evaluation: its tables time every model, interleaved, `write_tables`).

    Returns:
        (dict): each engine of `ENGINES` (a `measure_torch` or `measure_engine` result with its precision, or None),
            notes, threads, cpu (the CPU model) and cuda (the CUDA device, or None).
    """
    out: dict[str, Any] = dict.fromkeys(ENGINES)
    notes = dict(notes or {})
    for engine in ENGINES:
        if engine not in engines:
            notes[engine] = "not measured: not in eval.engines"
        elif engine in TORCH_DEVICES:
            if torch_offered(engine):
                out[engine] = {**measure_torch(model, imgsz, cfg, TORCH_DEVICES[engine], timed), "precision": "FP32"}
            else:
                notes[engine] = NO_CUDA
        elif engine in artifacts:
            out[engine] = measure_engine(engine, artifacts[engine], imgsz, cfg, timed)
        else:
            notes.setdefault(engine, "not measured: no exported model")
    return {**out, "notes": notes, "threads": resolve_threads(cfg.threads), "cpu": cpu_model(), "cuda": cuda_device()}
