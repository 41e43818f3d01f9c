"""`make bench`: the latency of the base model and each pruned model on every engine of `eval.engines`, next to
their FLOPs, and what the channel alignment (`prune.round_to`) changes, in one run.

Fewer FLOPs did not always mean faster in earlier tools, so the bench puts each engine's latency ratio (pruned /
base) beside the FLOPs ratio, and profiles where the base model's ONNX Runtime time goes by operator type
(`yoloslim.measure.profile`: the convolutions, and the rest that pruning barely shrinks). It uses the study's
weights when the base and every pruned model exist; otherwise it builds the base model from the config's model
YAML, draws its BatchNorm gammas at random (uniform in [0, GAMMA_HIGH), seeded) and prunes it with the
config's policy. Latency depends on the architecture only, so random weights time the same.

**Alignment.** The first prune target is pruned again from the same sparse model with its kept counts aligned to
1 (none), 8 (the NPU rule) and 16 (`ALIGNMENTS`; `<target>_r<n>`): alignment also changes the channel counts, so
the table gives milliseconds per GFLOP beside the milliseconds, and the bench says, per engine, whether an
alignment changed the latency against no alignment (their ratios' 95 % intervals apart) or not.

Every model is timed on each engine interleaved in one process (`yoloslim.eval.stage.interleaved_engines`: each
round runs every model once, in a random order), so the ratios to the base model come from the same rounds and
carry a 95 % interval. The INT8 engines need the study's data set to calibrate on (its train split); without it
they are "not measured". It also times pruning a yolov5s built from yolov5s.yaml. Results go to
`runs/bench/<config>.csv` and `.json`.

    from yoloslim.bench import run_bench
    result = run_bench(cfg)  # {'table': DataFrame, 'alignment': {...}, 'csv': Path, 'json': Path, ...}
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from yoloslim.config import ENGINES, Config
from yoloslim.eval.stage import deployment_artifacts, interleaved_engines
from yoloslim.measure.engines import INT8_ENGINES
from yoloslim.measure.latency import NO_CUDA, TORCH_DEVICES, cpu_model, torch_offered
from yoloslim.measure.onnx import export_onnx, resolve_threads
from yoloslim.measure.profile import operator_times
from yoloslim.models.build import build_model
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import penalized_bns
from yoloslim.models.stats import load_model, model_stats
from yoloslim.paths import StudyPaths
from yoloslim.prune.slimming import prune_model
from yoloslim.prune.target import prune_options

GAMMA_HIGH = 0.2  # random gammas are uniform in [0, GAMMA_HIGH): thresholds 0.01 / 0.1 / 0.15 prune ~5 / 50 / 75 %
ALIGNMENTS = (1, 8, 16)  # round_to of the alignment comparison: none, the NPU rule, twice it
COLUMNS = ["model", "source", "round_to", "imgsz", "params_m", "gflops", "flops_ratio"]  # then ENGINE_COLUMNS
ENGINE_COLUMNS = ["ms", "p90_ms", "ratio", "ratio_lo", "ratio_hi", "ms_per_gflop", "ratio_per_flops_ratio"]


def run_bench(cfg: Config) -> dict[str, Any]:
    """Time base, pruned and aligned models on every engine of `eval.engines`, interleaved; time pruning a
    yolov5s; write `runs/bench/<config>.csv|json`.

    Args:
        cfg (Config): The study (its weights when they exist, its data set for INT8 calibration, `eval.engines`,
            `eval.latency`, `prune`).

    Returns:
        (dict[str, Any]): table (one row per model, `COLUMNS` then `<engine>_<ENGINE_COLUMNS>` per engine timed),
            alignment (`alignment_findings`), notes (engine -> why it was not measured), csv, json,
            prune_yolov5s_s, base_operators_ms.
    """
    paths = StudyPaths.of(cfg)
    paths.bench_table.parent.mkdir(parents=True, exist_ok=True)
    imgsz = cfg.train.imgsz
    with tempfile.TemporaryDirectory() as tmp:
        models, source = bench_weights(cfg, Path(tmp))
        aligned = aligned_weights(cfg, Path(tmp))
        models |= aligned
        round_to = {t: cfg.prune.round_to for t in cfg.prune_targets()} | dict(zip(aligned, ALIGNMENTS, strict=True))
        rows = [_measure(name, weights, cfg) | {"source": source, "round_to": round_to.get(name, np.nan)}
                for name, weights in models.items()]  # fmt: skip
        artifacts, notes = bench_artifacts(cfg, models, Path(tmp))
        timed = interleaved_engines(artifacts, dict.fromkeys(models, imgsz), cfg.eval.latency)
        operators = operator_times(artifacts["onnx_cpu"]["base"], imgsz, cfg.eval.latency)
    table = bench_table(pd.DataFrame(rows), timed)
    alignment = alignment_findings(table, list(aligned), list(timed))
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
        "engines": list(timed),
        "not_measured": notes,
        "alignment": alignment,
        "prune_yolov5s_s": prune_seconds,
        "base_operators_ms": operators,
        "models": table.to_dict(orient="records"),
    }
    info.write_text(json.dumps(summary, indent=2))
    return {"table": table, "alignment": alignment, "notes": notes, "csv": csv, "json": info,
            "prune_yolov5s_s": prune_seconds, "base_operators_ms": operators}  # fmt: skip


def bench_table(sizes: pd.DataFrame, timed: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """One row per model: its sizes, then per engine timed its median and p90 ms, its ratio to the base model with
    the 95 % interval, its ms per GFLOP, and its ratio over its FLOPs ratio (over 1: fewer FLOPs did not buy
    proportionally less time).

    Args:
        sizes (pd.DataFrame): model, source, round_to, imgsz, params_m, gflops (the base model first).
        timed (dict[str, dict[str, dict[str, float]]]): Engine -> model -> `interleaved_runs`' measurement.

    Returns:
        (pd.DataFrame): `COLUMNS`, then `<engine>_<column>` for each of `ENGINE_COLUMNS` and engine.
    """
    table = sizes.copy()
    table["round_to"] = table["round_to"].astype("Int64")  # the base model: none
    table["flops_ratio"] = table["gflops"] / table["gflops"].iloc[0]
    table = table[COLUMNS]
    for engine, measured in timed.items():
        value = {key: [measured.get(m, {}).get(key, np.nan) for m in table["model"]] for key in
                 ("median_ms", "p90_ms", "ratio", "ratio_lo", "ratio_hi")}  # fmt: skip
        table[f"{engine}_ms"], table[f"{engine}_p90_ms"] = value["median_ms"], value["p90_ms"]
        for key in ("ratio", "ratio_lo", "ratio_hi"):
            table[f"{engine}_{key}"] = value[key]
        table[f"{engine}_ms_per_gflop"] = table[f"{engine}_ms"] / table["gflops"]
        table[f"{engine}_ratio_per_flops_ratio"] = table[f"{engine}_ratio"] / table["flops_ratio"]
    return table


def alignment_findings(table: pd.DataFrame, aligned: list[str], engines: list[str]) -> dict[str, dict[str, str]]:
    """Per engine, whether each alignment changed the latency against none (`round_to` 1): `faster` or `slower`
    where the two models' intervals of the ratio to the base model do not overlap, else `within noise` (a
    conservative test: the two are not paired with each other).

    Args:
        table (pd.DataFrame): `bench_table`'s rows.
        aligned (list[str]): The alignment models' ids, `ALIGNMENTS`' order (the first: no alignment).
        engines (list[str]): The engines timed.

    Returns:
        (dict[str, dict[str, str]]): Engine -> aligned model id -> `faster`, `slower` or `within noise`.
    """
    rows = table.set_index("model")
    out = {}
    for engine in engines:
        lo, hi = rows[f"{engine}_ratio_lo"], rows[f"{engine}_ratio_hi"]
        none, findings = aligned[0], {}
        for model in aligned[1:]:
            if hi[model] < lo[none]:
                findings[model] = "faster"
            elif lo[model] > hi[none]:
                findings[model] = "slower"
            else:
                findings[model] = "within noise"
        out[engine] = findings
    return out


def bench_artifacts(
    cfg: Config, models: dict[str, Path], tmp: Path
) -> tuple[dict[str, dict[str, Path]], dict[str, str]]:
    """What each engine of `eval.engines` times for each model (PyTorch: the checkpoint; the others: its export,
    INT8 calibrated on the study's train split), and why an engine is not measured.

    Args:
        cfg (Config): The study (`eval.engines`, `quant`, its data set).
        models (dict[str, Path]): Model id -> checkpoint.
        tmp (Path): Where the exports are written.

    Returns:
        (tuple[dict[str, dict[str, Path]], dict[str, str]]): Engine -> model id -> artifact (ONNX Runtime's FP32
            always, for the profile), and engine -> "not measured: <reason>".
    """
    data_yaml = StudyPaths.of(cfg).data.yaml
    engines = list(cfg.eval.engines)
    notes = {}
    if not data_yaml.is_file():  # INT8 is calibrated on the study's training images only
        notes |= {e: "not measured: no data set to calibrate on (run the study first)" for e in engines
                  if e in INT8_ENGINES}  # fmt: skip
        engines = [e for e in engines if e not in INT8_ENGINES]
    artifacts: dict[str, dict[str, Path]] = {}
    for name, weights in models.items():
        onnx = export_onnx(weights, tmp / name, cfg.train.imgsz)
        kept, missing = deployment_artifacts(weights, onnx, tmp / name, cfg.train.imgsz, data_yaml,
                                             engines, cfg.quant)  # fmt: skip
        notes |= missing
        for engine, artifact in {"onnx_cpu": onnx, **kept}.items():
            artifacts.setdefault(engine, {})[name] = artifact
    for engine in (e for e in TORCH_DEVICES if e in engines):
        if torch_offered(engine):
            artifacts[engine] = dict(models)
        else:
            notes[engine] = NO_CUDA
    order = [e for e in ENGINES if e in artifacts and (e in engines or e == "onnx_cpu")]
    return {e: artifacts[e] for e in order}, notes


def bench_weights(cfg: Config, tmp: Path) -> tuple[dict[str, Path], str]:
    """Weights of the base and each pruned model: the study's (`study`), or built and pruned here (`synthetic`)."""
    paths = StudyPaths.of(cfg)
    study = {"base": paths.train("base").weights} | {t: paths.prune(t).weights for t in cfg.prune_targets()}
    if all(w.is_file() for w in study.values()):
        return study, "study"
    base = randomize_gammas(build_model(cfg, nc=len(cfg.data.names)))
    built = {"base": save_checkpoint(base, tmp / "base.pt", train_args={"imgsz": cfg.train.imgsz})}
    for target, value in cfg.prune_targets().items():
        pruned = prune_model(base, **cfg.prune_rule(value), round_to=cfg.prune.round_to, round_dir=cfg.prune.round_dir,
                             imgsz=cfg.train.imgsz).model  # fmt: skip
        built[target] = save_checkpoint(pruned, tmp / f"{target}.pt", train_args={"imgsz": cfg.train.imgsz})
    return built, "synthetic"


def aligned_weights(cfg: Config, tmp: Path) -> dict[str, Path]:
    """The first prune target pruned from the sparse model (the study's, else the randomized base) with each of
    `ALIGNMENTS`, the study's other prune settings unchanged: `<target>_r<n>` -> its checkpoint."""
    sparse = StudyPaths.of(cfg).sparse.weights
    if sparse.is_file():
        model = load_model(sparse).model
    else:
        model = randomize_gammas(build_model(cfg, nc=len(cfg.data.names)))
    target, value = next(iter(cfg.prune_targets().items()))
    out = {}
    for round_to in ALIGNMENTS:
        options = prune_options(cfg, "gamma") | {"round_to": round_to}
        pruned = prune_model(model, **cfg.prune_rule(value), **options, imgsz=cfg.train.imgsz).model
        out[f"{target}_r{round_to}"] = save_checkpoint(pruned, tmp / f"{target}_r{round_to}.pt",
                                                      train_args={"imgsz": cfg.train.imgsz})  # fmt: skip
    return out


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
    """The bench as plain text: the models' sizes, each engine's latencies and ratios with their intervals, what
    alignment changed, where the base model's ONNX Runtime time goes and the pruning time."""
    table = result["table"]
    engines = [c.removesuffix("_ms_per_gflop") for c in table.columns if c.endswith("_ms_per_gflop")]
    parts = [table[COLUMNS].drop(columns=["source"]).round(3).to_string(index=False)]
    for engine in engines:
        shown = pd.DataFrame({
            "model": table["model"],
            "ms": table[f"{engine}_ms"].round(3),
            "ratio [95 %]": [f"{r:.3f} [{lo:.3f}, {hi:.3f}]" for r, lo, hi in
                             table[[f"{engine}_ratio", f"{engine}_ratio_lo", f"{engine}_ratio_hi"]].to_numpy()],
            "ms/GFLOP": table[f"{engine}_ms_per_gflop"].round(2),
            "ratio_per_flops_ratio": table[f"{engine}_ratio_per_flops_ratio"].round(3),
        })  # fmt: skip
        parts.append(f"{engine}:\n{shown.to_string(index=False)}")
    parts += [f"{engine}: {note}" for engine, note in result["notes"].items()]
    parts.append(
        "ratio: latency / the base model's on the same engine, median of interleaved rounds [95 % interval]; "
        "ratio_per_flops_ratio over 1: fewer FLOPs did not buy proportionally less time"
    )
    for engine, findings in result["alignment"].items():
        said = ", ".join(f"{model} {finding}" for model, finding in findings.items())
        parts.append(f"alignment on {engine}, against no alignment: {said}")
    operators = result["base_operators_ms"]
    total = sum(operators.values())
    shares = ", ".join(f"{op} {ms:.3f} ({ms / total:.0%})" for op, ms in operators.items())
    parts.append(f"where the base model's ONNX Runtime time goes, ms a run by operator type: {shares}")
    parts.append(f"pruning a yolov5s (yolov5s.yaml, random gammas): {result['prune_yolov5s_s']:.2f} s")
    return "\n\n".join(parts)


def _measure(name: str, weights: Path, cfg: Config) -> dict[str, Any]:
    """Params and GFLOPs of one model at the study's image size."""
    imgsz = cfg.train.imgsz
    stats = model_stats(load_model(weights).model, imgsz, name=f"{name} ({weights})")
    return {"model": name, "imgsz": imgsz, "params_m": stats["params"] / 1e6, "gflops": stats["gflops"]}
