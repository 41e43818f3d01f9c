"""`make bench`: CPU latency of the base model and each pruned model, next to their FLOPs, in one run.

Fewer FLOPs did not always mean faster in earlier tools, so the bench puts the latency ratio (pruned / base)
beside the FLOPs ratio, and profiles where the base model's ONNX Runtime time goes by operator type
(`yoloslim.measure.profile`: the convolutions, and the rest that pruning barely shrinks). It uses the study's
weights when the base and every pruned model exist; otherwise it builds the base model from the config's model
YAML, draws its BatchNorm gammas at random (uniform in [0, GAMMA_HIGH), seeded) and prunes it with the
config's policy. Latency depends on the architecture only, so random weights time the same. ONNX Runtime times
the models interleaved in one process (`yoloslim.measure.interleaved`: each round runs every model once, in a
random order), so the ratios to the base model come from the same rounds and carry a 95 % interval; PyTorch
times them one after another. It also times pruning a yolov5s built from yolov5s.yaml. Results go to
`runs/bench/<config>.csv` and `.json`.

    from yoloslim.bench import run_bench
    result = run_bench(cfg)  # {'table': DataFrame, 'csv': Path, 'json': Path, 'base_operators_ms': {...}, ...}
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from yoloslim.config import Config
from yoloslim.measure.interleaved import interleaved_latency
from yoloslim.measure.latency import cpu_model, measure_torch
from yoloslim.measure.onnx import export_onnx, resolve_threads
from yoloslim.measure.profile import operator_times
from yoloslim.models.build import build_model
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import penalized_bns
from yoloslim.models.stats import load_model, model_stats
from yoloslim.paths import StudyPaths
from yoloslim.prune.slimming import prune_model

GAMMA_HIGH = 0.2  # random gammas are uniform in [0, GAMMA_HIGH): thresholds 0.01 / 0.1 / 0.15 prune ~5 / 50 / 75 %
COLUMNS = ["model", "source", "imgsz", "params_m", "gflops", "flops_ratio", "torch_cpu_ms", "torch_cpu_p90_ms",
           "torch_ratio", "onnx_cpu_ms", "onnx_cpu_p90_ms", "onnx_ratio", "onnx_ratio_lo", "onnx_ratio_hi",
           "onnx_ratio_per_flops_ratio"]  # fmt: skip


def run_bench(cfg: Config) -> dict[str, Any]:
    """Measure base and pruned models on the CPU, time pruning a yolov5s, write `runs/bench/<config>.csv|json`."""
    paths = StudyPaths.of(cfg)
    paths.bench_table.parent.mkdir(parents=True, exist_ok=True)
    imgsz = cfg.train.imgsz
    with tempfile.TemporaryDirectory() as tmp:
        models, source = bench_weights(cfg, Path(tmp))
        rows = [_measure(name, weights, cfg) | {"source": source} for name, weights in models.items()]
        onnx = {name: export_onnx(weights, Path(tmp) / name, imgsz) for name, weights in models.items()}
        timed = interleaved_latency(onnx, dict.fromkeys(onnx, imgsz), cfg.eval.latency)
        operators = operator_times(onnx["base"], imgsz, cfg.eval.latency)
    table = pd.DataFrame(rows)
    base = table.iloc[0]
    table["flops_ratio"] = table["gflops"] / base["gflops"]
    table["torch_ratio"] = table["torch_cpu_ms"] / base["torch_cpu_ms"]
    for column, key in [("onnx_cpu_ms", "median_ms"), ("onnx_cpu_p90_ms", "p90_ms"), ("onnx_ratio", "ratio"),
                        ("onnx_ratio_lo", "ratio_lo"), ("onnx_ratio_hi", "ratio_hi")]:  # fmt: skip
        table[column] = [timed[name][key] for name in table["model"]]
    table["onnx_ratio_per_flops_ratio"] = table["onnx_ratio"] / table["flops_ratio"]
    table = table[COLUMNS]
    prune_seconds = time_prune(cfg)
    csv, info = paths.bench_table, paths.bench_summary
    table.to_csv(csv, index=False)
    summary = {
        "config": cfg.source,
        "source": source,
        "cpu": cpu_model(),
        "threads": resolve_threads(cfg.eval.latency.threads),
        "warmup": cfg.eval.latency.warmup,
        "runs": cfg.eval.latency.runs,
        "prune_yolov5s_s": prune_seconds,
        "base_operators_ms": operators,
        "models": table.to_dict(orient="records"),
    }
    info.write_text(json.dumps(summary, indent=2))
    return {"table": table, "csv": csv, "json": info, "prune_yolov5s_s": prune_seconds, "base_operators_ms": operators}


def bench_weights(cfg: Config, tmp: Path) -> tuple[dict[str, Path], str]:
    """Weights of the base and each pruned model: the study's (`study`), or built and pruned here (`synthetic`)."""
    paths = StudyPaths.of(cfg)
    study = {"base": paths.train("base").weights} | {t: paths.prune(t).weights for t in cfg.prune_targets()}
    if all(w.is_file() for w in study.values()):
        return study, "study"
    base = randomize_gammas(build_model(cfg, nc=len(cfg.data.names)))
    built = {"base": save_checkpoint(base, tmp / "base.pt", train_args={"imgsz": cfg.train.imgsz})}
    for target, value in cfg.prune_targets().items():
        rule = {"threshold": value} if cfg.prune.policy == "threshold" else {"fraction": value}
        pruned = prune_model(base, **rule, round_to=cfg.prune.round_to, round_dir=cfg.prune.round_dir,
                             imgsz=cfg.train.imgsz).model  # fmt: skip
        built[target] = save_checkpoint(pruned, tmp / f"{target}.pt", train_args={"imgsz": cfg.train.imgsz})
    return built, "synthetic"


def randomize_gammas(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Draw every prunable BatchNorm gamma uniformly in [0, GAMMA_HIGH) (seeded), in place, as a sparse model's."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, bn, _ in penalized_bns(model):
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=generator) * GAMMA_HIGH)
    return model


def time_prune(cfg: Config, model_yaml: str = "yolov5s.yaml") -> float:
    """Seconds to prune a `model_yaml` model (random gammas) at the middle threshold, channels aligned."""
    from ultralytics.nn.tasks import DetectionModel

    model = randomize_gammas(DetectionModel(model_yaml, nc=len(cfg.data.names), verbose=False))
    start = time.perf_counter()
    prune_model(model, threshold=GAMMA_HIGH / 2, round_to=cfg.prune.round_to, imgsz=cfg.train.imgsz)
    return time.perf_counter() - start


def format_bench(result: dict[str, Any]) -> str:
    """The bench table and the pruning time as plain text."""
    table = result["table"].drop(columns=["source"]).round(3).to_string(index=False)
    note = (
        "onnx_ratio: latency / the base model's, median of interleaved rounds [95 % interval: onnx_ratio_lo, _hi]; "
        "onnx_ratio_per_flops_ratio over 1: fewer FLOPs did not buy proportionally less time"
    )
    operators = result["base_operators_ms"]
    total = sum(operators.values())
    shares = ", ".join(f"{op} {ms:.3f} ({ms / total:.0%})" for op, ms in operators.items())
    return (
        f"{table}\n{note}\n\nwhere the base model's ONNX Runtime time goes, ms a run by operator type: {shares}\n"
        f"pruning a yolov5s (yolov5s.yaml, random gammas): {result['prune_yolov5s_s']:.2f} s"
    )


def _measure(name: str, weights: Path, cfg: Config) -> dict[str, Any]:
    """Params, GFLOPs and PyTorch CPU latency of one model at the study's image size."""
    imgsz = cfg.train.imgsz
    model = load_model(weights).model
    torch_cpu = measure_torch(model, imgsz, cfg.eval.latency)
    stats = model_stats(model, imgsz, name=f"{name} ({weights})")
    return {
        "model": name,
        "imgsz": imgsz,
        "params_m": stats["params"] / 1e6,
        "gflops": stats["gflops"],
        "torch_cpu_ms": torch_cpu["median_ms"],
        "torch_cpu_p90_ms": torch_cpu["p90_ms"],
    }
