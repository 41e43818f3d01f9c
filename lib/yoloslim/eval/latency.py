"""Inference latency at batch 1: PyTorch on the CPU, ONNX Runtime on the CPU, and PyTorch on CUDA when present.

Each engine gets `warmup` untimed runs, then `runs` timed ones on a zero image of the model's size; the
median and the 90th percentile are reported with the thread count and the CPU model, so that numbers
from different machines are not compared by accident.

    from yoloslim.eval.latency import measure_latency
    measure_latency(torch_model, onnx_path, imgsz=256, cfg=cfg.eval.latency)
    # {'torch_cpu': {'median_ms': 3.1, 'p90_ms': 3.4, ...}, 'onnx_cpu': {...}, 'torch_cuda': None,
    #  'notes': {'torch_cuda': 'not measured: no CUDA device'}, 'threads': 2, 'cpu': 'AMD EPYC'}
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from yoloslim.config import LatencyConfig

ENGINES = ("torch_cpu", "onnx_cpu", "torch_cuda")
NO_CUDA = "not measured: no CUDA device"


def resolve_threads(threads: int) -> int:
    """The CPU thread count an engine will use: `threads`, or every core when it is 0."""
    return threads if threads > 0 else os.cpu_count() or 1


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
    """Call `run` `warmup` times untimed, then `runs` times timed; the median and p90 in milliseconds."""
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
    """Latency of a PyTorch model (fp32, batch 1, BatchNorm fused into convolutions when possible) on `device`."""
    model = copy.deepcopy(model).float().to(device).eval()
    if hasattr(model, "fuse"):
        model = model.fuse(verbose=False)
    image = torch.zeros(1, 3, imgsz, imgsz, device=device)
    threads = resolve_threads(cfg.threads)
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    with _torch_threads(threads), torch.inference_mode():
        result = time_runs(lambda: model(image), warmup=cfg.warmup, runs=cfg.runs, sync=sync)
    return {**result, "threads": threads, "device": device}


ONNX_PROVIDERS = {  # ONNX Runtime engines of the latency-budget search (prune.engine) -> execution providers
    "onnx_cpu": ["CPUExecutionProvider"],
    "onnx_cuda": ["CUDAExecutionProvider"],
    "onnx_tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider"],  # TensorRT, CUDA for what it lacks
}


def check_providers(engine: str) -> list[str]:
    """The execution providers of an ONNX Runtime engine (`ONNX_PROVIDERS`); raises RuntimeError naming what is
    missing when this ONNX Runtime build does not have them (e.g. `onnxruntime` without `-gpu`, or no GPU)."""
    import onnxruntime as ort

    providers = ONNX_PROVIDERS[engine]
    missing = [p for p in providers if p not in ort.get_available_providers()]
    if missing:
        raise RuntimeError(
            f"latency engine {engine}: ONNX Runtime {ort.__version__} here lacks {', '.join(missing)} (available: "
            f"{', '.join(ort.get_available_providers())}); install onnxruntime-gpu with CUDA (and TensorRT) on a GPU "
            "machine, or use onnx_cpu"
        )
    return providers


def onnx_session(
    onnx_path: Path,
    imgsz: int,
    threads: int,
    *,
    spinning: bool = True,
    profile_prefix: str | None = None,
    providers: list[str] | None = None,
) -> tuple[Any, dict[str, np.ndarray]]:
    """An ONNX Runtime session (CPU unless `providers` says otherwise) with `threads` intra-op threads, and its
    batch-1 zero-image feed.

    `spinning` False: idle pool threads sleep instead of spinning (sessions that take turns on the same cores).
    `profile_prefix`: profile every run (`session.end_profiling()` writes the JSON).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = resolve_threads(threads)
    options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    session = ort.InferenceSession(str(onnx_path), options, providers=providers or ONNX_PROVIDERS["onnx_cpu"])
    return session, {session.get_inputs()[0].name: np.zeros((1, 3, imgsz, imgsz), dtype=np.float32)}


def measure_onnx(onnx_path: Path, imgsz: int, cfg: LatencyConfig) -> dict:
    """Latency of an ONNX model with ONNX Runtime's CPU provider (batch 1)."""
    session, feed = onnx_session(onnx_path, imgsz, cfg.threads)
    result = time_runs(lambda: session.run(None, feed), warmup=cfg.warmup, runs=cfg.runs)
    return {**result, "threads": resolve_threads(cfg.threads), "device": "cpu"}


def measure_latency(model: torch.nn.Module, onnx_path: Path | None, imgsz: int, cfg: LatencyConfig) -> dict:
    """Latency of one model on every engine; an engine that cannot run is None with its reason in `notes`."""
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
