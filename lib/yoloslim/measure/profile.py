"""Where ONNX Runtime's CPU time goes: milliseconds per inference by operator type, from its profiler.

A pruned model with a third of the FLOPs is rarely three times faster. The profile shows why: the time of
the convolutions falls with the channels, but concatenations, splits, resizes, the Detect head's reshapes
and ONNX Runtime's own work between operators ("between operators") do not fall as much. Only the timed runs
are counted (the warm-up runs are profiled too, and left out).

    operator_times(Path("model.onnx"), imgsz=160, cfg=LatencyConfig(warmup=10, runs=50))
    # {'Conv': 1.9, 'Concat': 0.21, ..., 'between operators': 0.6}
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path

from yoloslim.config import LatencyConfig
from yoloslim.measure.onnx import onnx_session
from yoloslim.shared import BETWEEN


def operator_times(onnx_path: Path, imgsz: int, cfg: LatencyConfig) -> dict[str, float]:
    """Mean milliseconds per inference of each operator type over `cfg.runs` profiled runs, largest first, and
    the time between operators (the run's duration minus its kernels').

    Args:
        onnx_path (Path): The ONNX file.
        imgsz (int): The side of the zero image.
        cfg (LatencyConfig): The warm-up runs (profiled, left out), the timed runs and the threads.

    Returns:
        (dict[str, float]): Operator type -> milliseconds, then `BETWEEN` -> milliseconds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        session, feed = onnx_session(onnx_path, imgsz, cfg.threads, profile_prefix=str(Path(tmp) / "ort"))
        for _ in range(cfg.warmup + cfg.runs):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    return per_operator(events, cfg.runs)


def per_operator(events: list[dict], runs: int) -> dict[str, float]:
    """Milliseconds per run by operator type over the last `runs` runs of an ONNX Runtime profile."""
    timed = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"][-runs:]
    if not timed:
        raise ValueError("the ONNX Runtime profile holds no model_run event")
    start = timed[0]["ts"]
    totals: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time") and event["ts"] >= start:
            totals[event["args"]["op_name"]] += event["dur"]
    ms = {op: us / 1000 / len(timed) for op, us in sorted(totals.items(), key=lambda item: -item[1])}
    run_ms = sum(e["dur"] for e in timed) / 1000 / len(timed)
    return {**ms, BETWEEN: max(run_ms - sum(ms.values()), 0.0)}
