"""Inference latency at batch 1: PyTorch on the CPU, ONNX Runtime on the CPU, and PyTorch on CUDA when present.

Each engine gets `warmup` untimed runs, then `runs` timed ones on a zero image of the model's size; the
median and the 90th percentile are reported with the thread count and the CPU model, so that numbers
from different machines are not compared by accident.

    from yoloslim.measure.latency import measure_latency
    measure_latency(torch_model, onnx_path, imgsz=256, cfg=cfg.eval.latency)
    # {'torch_cpu': {'median_ms': 3.1, 'p90_ms': 3.4, ...}, 'onnx_cpu': {...}, 'torch_cuda': None,
    #  'notes': {'torch_cuda': 'not measured: no CUDA device'}, 'threads': 2, 'cpu': 'AMD EPYC'}
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from yoloslim.config import LatencyConfig
from yoloslim.measure.onnx import onnx_session, resolve_threads

NO_CUDA = "not measured: no CUDA device"


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


def time_runs(run: Callable[[], Any], *, warmup: int, runs: int, sync: Callable[[], None] | None = None) -> dict:
    """Call `run` `warmup` times untimed, then `runs` times timed; the median and p90 in milliseconds.

    Args:
        run (Callable[[], Any]): One inference.
        warmup (int): The untimed calls.
        runs (int): The timed calls.
        sync (Callable[[], None] | None): Called after each timed call, inside the timing (a CUDA synchronize).

    Returns:
        (dict): median_ms, p90_ms, min_ms, warmup, runs.
    """
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        if sync is not None:
            sync()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": float(np.median(times)),
        "p90_ms": float(np.percentile(times, 90)),
        "min_ms": float(np.min(times)),
        "warmup": warmup,
        "runs": runs,
    }


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """Run PyTorch with this many intra-op threads, restoring the previous count afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def measure_torch(model: torch.nn.Module, imgsz: int, cfg: LatencyConfig, device: str = "cpu") -> dict:
    """Latency of a PyTorch model (fp32, batch 1, BatchNorm fused into convolutions when possible) on `device`.

    Args:
        model (torch.nn.Module): The model (timed on a copy; left unchanged).
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).
        device (str): The torch device ("cpu", "cuda:0").

    Returns:
        (dict): `time_runs`' numbers, the threads and the device.
    """
    model = copy.deepcopy(model).float().to(device).eval()
    if hasattr(model, "fuse"):
        model = model.fuse(verbose=False)
    image = torch.zeros(1, 3, imgsz, imgsz, device=device)
    threads = resolve_threads(cfg.threads)
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    with _torch_threads(threads), torch.inference_mode():
        result = time_runs(lambda: model(image), warmup=cfg.warmup, runs=cfg.runs, sync=sync)
    return {**result, "threads": threads, "device": device}


def measure_onnx(onnx_path: Path, imgsz: int, cfg: LatencyConfig) -> dict:
    """Latency of an ONNX model with ONNX Runtime's CPU provider (batch 1).

    Args:
        onnx_path (Path): The ONNX file.
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).

    Returns:
        (dict): `time_runs`' numbers, the threads and the device ("cpu").
    """
    session, feed = onnx_session(onnx_path, imgsz, cfg.threads)
    result = time_runs(lambda: session.run(None, feed), warmup=cfg.warmup, runs=cfg.runs)
    return {**result, "threads": resolve_threads(cfg.threads), "device": "cpu"}


def measure_latency(model: torch.nn.Module, onnx_path: Path | None, imgsz: int, cfg: LatencyConfig) -> dict:
    """Latency of one model on every engine; an engine that cannot run is None with its reason in `notes`.

    Args:
        model (torch.nn.Module): The PyTorch model, timed on the CPU and, when there is one, the first CUDA device.
        onnx_path (Path | None): Its ONNX export; None: ONNX Runtime not measured.
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warmup and timed runs, and the threads (0: every core).

    Returns:
        (dict): torch_cpu, onnx_cpu, torch_cuda (each a `measure_torch` or `measure_onnx` result, or None), notes,
            threads, cpu (the CPU model) and cuda (the CUDA device, or None).
    """
    out: dict[str, Any] = {"torch_cpu": measure_torch(model, imgsz, cfg), "onnx_cpu": None, "torch_cuda": None}
    notes = {}
    if onnx_path is not None:
        out["onnx_cpu"] = measure_onnx(onnx_path, imgsz, cfg)
    else:
        notes["onnx_cpu"] = "not measured: no ONNX file"
    if torch.cuda.is_available():
        out["torch_cuda"] = measure_torch(model, imgsz, cfg, device="cuda:0")
    else:
        notes["torch_cuda"] = NO_CUDA
    return {**out, "notes": notes, "threads": resolve_threads(cfg.threads), "cpu": cpu_model(), "cuda": cuda_device()}
