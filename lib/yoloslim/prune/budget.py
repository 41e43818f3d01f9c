"""The prune stage's latency search: candidate structures timed against the base model on `prune.engine`, the
search (`yoloslim.prune.search`) run within a budget, its search.csv and figure written, and its summary for
metrics.json. Used for yoloslim's |gamma| thresholds (`yoloslim.prune.target`) and Torch-Pruning's global ratios
(`yoloslim.prune.alternative`) alike.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from yoloslim.atomic import atomic_path
from yoloslim.config import Config, latency_budget
from yoloslim.measure.engines import DEPLOY_ENGINES, build_artifact
from yoloslim.measure.onnx import export_onnx
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.stats import count_gflops
from yoloslim.paths import PruneFiles, StudyPaths
from yoloslim.prune.figures import plot_search
from yoloslim.prune.search import Search, Timing, resolve_engine, search_threshold
from yoloslim.text import message


def search_budget(
    cfg: Config,
    budget: str,
    files: PruneFiles,
    candidates: Sequence[float],
    build: Callable[[float], tuple[torch.nn.Module, tuple[int, ...]]],
    knob: str = "|gamma| threshold",
) -> Search:
    """Search `candidates` (of `knob`) for the largest structure within the latency `budget` on `prune.engine`
    (`yoloslim.prune.search`); writes its search.csv and figures/search.png into `files`.

    Args:
        cfg (Config): The study: `prune.engine`, `prune.margin` (the search aims that far under the budget), the
            timing settings `eval.latency`, the image size, and the base model timed beside each candidate.
        budget (str): The latency budget as written in `prune.targets` ("0.5x", "20ms").
        files (PruneFiles): The pruned model's folder.
        candidates (Sequence[float]): The knob's values to search: yoloslim's |gamma| thresholds, or Torch-Pruning's
            global channel ratios.
        build (Callable[[float], tuple[torch.nn.Module, tuple[int, ...]]]): Prunes the sparse model at one candidate
            and returns it with its structure (kept channels per layer).
        knob (str): What the candidates are, for the figure.

    Returns:
        (Search): Every timed candidate and the one chosen.
    """
    value, relative = latency_budget(budget)
    aim = value * (1 - cfg.prune.margin)  # slack for a re-measurement in another process
    imgsz = cfg.train.imgsz
    engine = resolve_engine(cfg.prune.engine, cfg.eval.latency)
    with tempfile.TemporaryDirectory() as tmp:
        base = search_artifact(cfg, StudyPaths.of(cfg).train("base").weights, Path(tmp) / "base")

        def measure(candidate: float) -> tuple[tuple[int, ...], float, Callable[[], Timing]]:
            pruned, structure = build(candidate)

            def time() -> Timing:
                weights = save_checkpoint(pruned, Path(tmp) / "candidate.pt")
                artifact = search_artifact(cfg, weights, Path(tmp) / "candidate")
                return engine({"base": base, "candidate": artifact}, imgsz)["candidate"]

            return structure, count_gflops(pruned, imgsz), time

        budgets = {"budget_ratio": aim} if relative else {"budget_ms": aim}
        search = search_threshold(candidates, measure, **budgets)
    table = search.table()
    with atomic_path(files.search) as tmp_csv:
        table.to_csv(tmp_csv, index=False)
    plot_search(table, files.figure("search"), budget=budget, relative=relative, value=value, aim=aim, knob=knob)
    return search


def search_artifact(cfg: Config, weights: Path, folder: Path) -> Path:
    """What `prune.engine` times of a checkpoint: its export for a deployment engine (an INT8 one calibrated as the
    evaluation calibrates it, on `quant.calib_images` training images: the calibration changes the INT8 model's
    latency, the base model's by 12 % between 16 and 64 images, docs/results.md), else its FP32 ONNX export."""
    if cfg.prune.engine not in DEPLOY_ENGINES:
        return export_onnx(weights, folder, cfg.train.imgsz)
    data_yaml = StudyPaths.of(cfg).data.yaml
    return build_artifact(cfg.prune.engine, weights, folder, cfg.train.imgsz, data_yaml,
                          calib_images=cfg.quant.calib_images)  # fmt: skip


def search_summary(search: Search, engine: str, margin: float) -> dict:
    """metrics.json's `search`: the budget met or not (with the margin aimed under it), the chosen structure, and
    a message when not met (`yoloslim.text.message`).

    Args:
        search (Search): The search run.
        engine (str): The engine it timed on (`prune.engine`).
        margin (float): The margin it aimed under the budget (`prune.margin`).

    Returns:
        (dict): metrics.json's `search` (keys in docs/outputs.md).
    """
    chosen = search.chosen
    summary = {
        "engine": engine,
        "margin": margin,
        "met": search.met,
        "candidates": len(search.candidates),
        "threshold": chosen.threshold,
        "latency_ms": chosen.timing.median_ms,
        "ratio": chosen.timing.ratio,
        "gflops": chosen.gflops,
        "message": None,
    }
    if not search.met:
        summary["message"] = message(
            "search_not_met",
            engine=engine,
            threshold=chosen.threshold,
            gflops=chosen.gflops,
            latency=chosen.timing.median_ms,
            ratio=chosen.timing.ratio,
        )
    return summary
