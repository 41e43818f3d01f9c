"""ONNX models for measuring: the export of a checkpoint through Ultralytics, and ONNX Runtime sessions.

Every timing of an ONNX model (`yoloslim.measure.latency`, `.interleaved`, `.profile`, and the prune stage's
latency search) opens its session here, with the same threads and execution providers.

    from yoloslim.measure.onnx import export_onnx, onnx_session
    onnx = export_onnx(Path("weights.pt"), Path("out/"), 256)   # out/model.onnx, exported by Ultralytics
    session, feed = onnx_session(onnx, imgsz=256, threads=2)
    session.run(None, feed)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from yoloslim.atomic import atomic_path
from yoloslim.models.stats import load_model

SIMPLIFY = True  # onnxslim the exports (Ultralytics' `simplify`): the graph a deployment engine compiles


def resolve_threads(threads: int) -> int:
    """The CPU thread count an engine will use: `threads`, or every core when it is 0."""
    return threads if threads > 0 else os.cpu_count() or 1


def export_onnx(weights: Path, out_dir: Path, imgsz: int) -> Path:
    """Export a checkpoint through Ultralytics to `out_dir/model.onnx` (batch 1, static `imgsz`, simplified:
    `SIMPLIFY`).

    The export runs on a copy in a temporary folder: Ultralytics writes beside its input, and the input's
    folder may belong to another stage or to the user.

    Args:
        weights (Path): The checkpoint to export.
        out_dir (Path): Where model.onnx goes (created if missing).
        imgsz (int): The square input size in pixels.

    Returns:
        (Path): out_dir/model.onnx.
    """
    out = Path(out_dir) / "model.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.pt"
        shutil.copy2(weights, local)
        exported = load_model(local).export(format="onnx", imgsz=imgsz, batch=1, device="cpu", simplify=SIMPLIFY)
        with atomic_path(out) as tmp:
            shutil.move(exported, tmp)
    return out


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

    Args:
        onnx_path (Path): The ONNX file.
        imgsz (int): The side of the zero image fed.
        threads (int): The intra-op threads (0: every core); inter-op is 1.
        spinning (bool): False: idle pool threads sleep instead of spinning (sessions that take turns on the same
            cores).
        profile_prefix (str | None): Profile every run to a file of this prefix (`session.end_profiling()` writes the
            JSON); None: no profiling.
        providers (list[str] | None): ONNX Runtime's execution providers; None: the CPU's.

    Returns:
        (tuple[Any, dict[str, np.ndarray]]): The session, and its feed: the input's name -> a (1, 3, imgsz, imgsz) zero
            image.
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
