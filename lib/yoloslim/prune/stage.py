"""The prune stage: gamma-threshold channel pruning with channels aligned to a multiple of `round_to`.

Network slimming: Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, *Learning Efficient Convolutional
Networks through Network Slimming*, ICCV 2017 (arXiv:1708.06519). After sparse training
(`yoloslim.train.sparse`), the channels whose BatchNorm |gamma| is under a threshold are removed; here with
their coupled group, the kept counts aligned for the NPU, and the pruned channels' beta folded forward.

    from yoloslim.prune.stage import prune_model, run_prune
    result = prune_model(model, threshold=0.1, round_to=8)   # any Ultralytics DetectionModel
    result.ratios                                            # backbone / head / overall pruned fractions
    run_prune(cfg, "small")                                  # runs/<c>/prune/small/ from runs/<c>/sparse/

The stage exports the pruned model to ONNX (`weights.onnx`) and checks it (`yoloslim.prune.onnx_check`): every Conv
but the Detect outputs has a multiple of `round_to` channels (else it fails: a pruning bug), and ONNX Runtime's
output matches PyTorch's within a stated tolerance (recorded under `onnx_check` in metrics.json).

How channels are chosen and aligned: `yoloslim.prune.groups`; the beta fold: `yoloslim.prune.fold`; the tables:
`yoloslim.prune.tables`. YOLOv8/YOLO11/YOLO26 C2f and C3k2 blocks are rewritten without `chunk` to be traced, and
written back as stock blocks (`yoloslim.models.c2f`); attention blocks are kept intact (`yoloslim.models.attention`),
or with `prune.attention: heads` narrowed to the whole heads they need (`yoloslim.prune.heads`).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from ultralytics.utils import LOGGER

from yoloslim.atomic import atomic_path, write_json
from yoloslim.config import ULTRALYTICS_IMGSZ, Config, PruneConfig, TrainConfig, latency_budget
from yoloslim.models.c2f import merge_c2f, split_c2f
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import gamma_values, sparsity_warning
from yoloslim.models.stats import count_gflops, existing_weights, export_onnx
from yoloslim.paths import WEIGHTS, PruneFiles, StudyPaths
from yoloslim.prune.figures import plot_gamma_hist, plot_search, plot_sparsity
from yoloslim.prune.fold import apply_deltas, fold_deltas
from yoloslim.prune.groups import (
    GroupPlan,
    build_graph,
    check_supported,
    choose_at_random,
    equalize_halves,
    fraction_counts,
    global_threshold,
    plan_groups,
    plan_kept_channels,
    prune_planned,
    uncovered_layers,
)
from yoloslim.prune.heads import head_cuts, plan_heads, prune_heads
from yoloslim.prune.onnx_check import OnnxCheck, check_onnx
from yoloslim.prune.search import Search, Timing, candidate_thresholds, resolve_engine, search_threshold
from yoloslim.prune.tables import layer_table, params_by_part, ratio_table, width_table
from yoloslim.prune.tp import FLOPS_TOLERANCE, SEARCH_RATIOS, prune_tp, prune_tp_matched
from yoloslim.stages import data_digest, file_digest, stage_key
from yoloslim.study import TP_METHODS, prune_jobs
from yoloslim.uptodate import recording, stage_record, up_to_date

_VAL_CONF, _VAL_IOU = 0.001, 0.7  # Ultralytics' own val defaults: the mAP training reports, comparable


@dataclass
class PruneResult:
    """A pruned model and what was done to it.

    `threshold` is the |gamma| threshold applied (for the fraction policy, the one derived from it);
    `gammas` the |gamma| of every prunable BatchNorm before pruning; `unpruned_groups` the groups a rule
    kept whole although they had channels under the threshold, each `{"layers": [...], "reason": ...}`.
    """

    model: torch.nn.Module
    layers: pd.DataFrame
    ratios: pd.DataFrame
    threshold: float
    params_before: int
    params_after: int
    gflops_before: float
    gflops_after: float
    gammas: np.ndarray
    unpruned_groups: list[dict] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)  # C2f blocks split to be traced (C2fSplit), merged back if equal
    folded: list[str] = field(default_factory=list)  # convolutions whose bias took pruned channels' beta
    heads: dict[str, dict] = field(default_factory=dict)  # prune.attention heads: per Attention, {heads, kept}
    warning: str | None = None  # why the gammas carry no information at this cut (yoloslim.models.gammas), or None


def prune_model(
    model: torch.nn.Module,
    *,
    threshold: float | None = None,
    fraction: float | None = None,
    round_to: int = PruneConfig.round_to,
    round_dir: str = PruneConfig.round_dir,
    importance: str = PruneConfig.importance,
    fold_beta: bool = PruneConfig.fold_beta,
    imgsz: int = ULTRALYTICS_IMGSZ,
    selection: str = "gamma",
    seed: int = TrainConfig.seed,
    c2f_halves: str = PruneConfig.c2f_halves,
    attention: str = PruneConfig.attention,
) -> PruneResult:
    """Prune a copy of an Ultralytics detection model by |gamma|; the input model is left unchanged.

    Give exactly one of `threshold` (prune group channels whose combined |gamma| is under it) or `fraction`
    (prune that fraction of all group channels, lowest first). Kept counts are aligned to `round_to` in
    `round_dir` (up, nearest, down), never below `round_to`. A tied group combines its members' |gamma| by
    `importance` (max, mean or sum). The Detect head's output convolutions and DFL are never pruned.
    `imgsz` is the image size of the FLOPs count. `selection="random"` keeps the same number of channels in
    every group but picks them at random (seeded by `seed`): the control of Liu et al. (ICLR 2019).
    `c2f_halves="equal"` keeps both halves of a C2f/C3k2 split equally wide, so the pruned model holds stock
    Ultralytics blocks only; `"free"` prunes them apart and keeps `C2fSplit` (`yoloslim.models.c2f`). Attention blocks
    are kept intact (`attention="intact"`, `yoloslim.models.attention`) or narrowed to the whole heads they need
    (`"heads"`, `yoloslim.prune.heads`). Raises `UnsupportedModelError` naming a layer it cannot prune.
    """
    if (threshold is None) == (fraction is None):
        raise ValueError("prune_model: give exactly one of threshold and fraction")
    if round_to < 1 or round_dir not in ("up", "nearest", "down") or importance not in ("max", "mean", "sum"):
        raise ValueError(f"prune_model: bad round_to={round_to}, round_dir={round_dir!r} or importance={importance!r}")
    if selection not in ("gamma", "random"):
        raise ValueError(f"prune_model: selection must be 'gamma' or 'random', got {selection!r}")
    if c2f_halves not in ("equal", "free"):
        raise ValueError(f"prune_model: c2f_halves must be 'equal' or 'free', got {c2f_halves!r}")
    if attention not in ("intact", "heads"):
        raise ValueError(f"prune_model: attention must be 'intact' or 'heads', got {attention!r}")
    check_supported(model)
    model = copy.deepcopy(model).float().eval()
    for p in model.parameters():
        p.requires_grad_(True)  # the dependency graph is traced through autograd
    rewritten = split_c2f(model, c2psa=attention == "heads")
    params_before, gflops_before = params_by_part(model), count_gflops(model, imgsz)
    graph = build_graph(model)
    plans = plan_groups(model, graph, importance, attention)
    if threshold is not None:
        value, counts = threshold, [None] * len(plans)
    else:
        value, counts = global_threshold(plans, fraction), fraction_counts(plans, fraction)
    for plan, count in zip(plans, counts, strict=True):
        plan_kept_channels(plan, value, round_to, round_dir, count)
    heads = []
    if attention == "heads":
        generator = torch.Generator().manual_seed(seed) if selection == "random" else None
        heads = plan_heads(model, plans, value, round_to, generator)
    if c2f_halves == "equal":
        equalize_halves(plans, rewritten)
    if selection == "random":
        choose_at_random(plans, seed)
    rows = [row for head in heads for row in head.rows()]  # qkv and pe of each Attention, by whole heads
    uncovered = uncovered_layers(model, plans + rows, attention)
    gammas = _group_gammas(model, plans)
    folded = apply_deltas(model, fold_deltas(model, graph, plans, head_cuts(heads))) if fold_beta else []
    prune_planned(model, graph, plans)
    prune_heads(model, heads)
    for p in model.parameters():
        p.requires_grad_(False)
    layers = layer_table(model, plans + rows, uncovered)
    if c2f_halves == "equal":
        merge_c2f(model)
    params_after = params_by_part(model)
    return PruneResult(
        model=model,
        layers=layers,
        ratios=ratio_table(layers, params_before, params_after),
        threshold=float(value),
        params_before=sum(params_before.values()),
        params_after=sum(params_after.values()),
        gflops_before=gflops_before,
        gflops_after=count_gflops(model, imgsz),
        gammas=gammas,
        unpruned_groups=_unpruned(plans, uncovered),
        rewritten=rewritten,
        folded=folded,
        heads={h.name: {"heads": h.heads, "kept": h.kept} for h in heads},
        warning=sparsity_warning(gammas, value),
    )


def load_detection_model(weights: Path) -> tuple[torch.nn.Module, dict]:
    """The model (fp32, eval) and the checkpoint dict of an Ultralytics detection checkpoint."""
    from ultralytics.nn.tasks import load_checkpoint

    return load_checkpoint(existing_weights(weights), device="cpu")


def write_outputs(result: PruneResult, out: Path, train_args: dict | None = None) -> Path:
    """Write weights.pt, layers.csv, ratios.csv and the two figures of one pruned model into `out`."""
    files = PruneFiles(Path(out))
    save_checkpoint(result.model, files.weights, train_args=train_args, info={"threshold": result.threshold})
    for path, table in ((files.layers, result.layers), (files.ratios, result.ratios)):
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    cut = f"|gamma| < {result.threshold:.4g}" if np.isfinite(result.threshold) else str(result.layers["note"].iloc[0])
    plot_sparsity(result.layers, files.figure("sparsity"), title=cut)
    plot_gamma_hist(result.gammas, result.threshold, files.figure("gamma_hist"))
    return files.dir


def prune_weights(
    weights: Path,
    out: Path,
    *,
    threshold: float,
    round_to: int = PruneConfig.round_to,
    round_dir: str = PruneConfig.round_dir,
    attention: str = PruneConfig.attention,
    imgsz: int = ULTRALYTICS_IMGSZ,
) -> PruneResult:
    """The CLI's job: prune one checkpoint by a threshold and write its outputs (no validation) into `out`."""
    model, ckpt = load_detection_model(weights)
    options = {"round_to": round_to, "round_dir": round_dir, "attention": attention}
    result = prune_model(model, threshold=threshold, **options, imgsz=imgsz)
    write_outputs(result, out, ckpt.get("train_args"))
    return result


def run_prune(cfg: Config, target: str) -> Path:
    """The prune stage for one target (or its `<target>-random` control): `runs/<c>/prune/<target>/` from the
    sparse model, validated with and without the beta fold, exported to ONNX and checked. Returns the folder.

    Skipped when up to date: `params.json` holds the job's stage key and the digests of the sparse model and the
    data set (and the base model, which a latency search times against), and every output is there
    (`yoloslim.uptodate`).

    Raises RuntimeError (before metrics.json is written) when a Conv of the ONNX graph other than the Detect
    outputs has a channel count that is not a multiple of `prune.round_to`, or when ONNX Runtime's output
    differs from PyTorch's beyond the stated tolerance (the message holds the layer table).
    """
    prune_id = target
    target, selection = _prune_job(cfg, prune_id)
    paths = StudyPaths.of(cfg)
    files = paths.prune(prune_id)
    key, outputs = _prune_record(cfg, prune_id, target)
    if up_to_date(files.record, key, outputs):
        return files.dir
    with recording(files.record, key):
        model, ckpt = load_detection_model(paths.sparse.weights)
        results, search, match = _pruned(cfg, model, target, _prune_options(cfg, selection), files)
        result = results[cfg.prune.fold_beta]
        write_outputs(result, files.dir, ckpt.get("train_args"))
        onnx = _check_onnx(cfg, files, result.layers)
        val = _validate(cfg, results, files)
        metrics = _prune_metrics(cfg, target, selection, result, val, onnx, search, match)
        _log_warnings(prune_id, metrics)
        write_json(files.metrics, metrics)
    return files.dir


def _prune_record(cfg: Config, prune_id: str, target: str) -> tuple[dict, list[Path]]:
    """A prune job's record key (its stage key, the digests of the sparse model, the data set and, for a latency
    target, the base model its search times against) and the outputs it writes."""
    paths = StudyPaths.of(cfg)
    files = paths.prune(prune_id)
    weights = {"sparse": paths.sparse.weights}
    searched = target in cfg.latency_targets()
    if searched:
        weights["base"] = paths.train("base").weights
    digests = {name: file_digest(existing_weights(path)) for name, path in weights.items()}
    key = stage_record(stage_key(cfg, "prune", prune_id), {**digests, "data": data_digest(paths.data.yaml)})
    figures = ["sparsity", "gamma_hist", *(["search"] if searched else [])]
    outputs = [files.weights, files.onnx, files.layers, files.ratios, files.metrics, *map(files.figure, figures)]
    return key, outputs + ([files.search] if searched else [])


def _prune_job(cfg: Config, prune_id: str) -> tuple[str, str]:
    """The (target, selection) of a prune stage's model id; KeyError naming the study's targets if it has none."""
    jobs = prune_jobs(cfg)
    if prune_id not in jobs:
        raise KeyError(f"{cfg.source}: no prune target '{prune_id}'; targets: {', '.join(jobs)}")
    return jobs[prune_id]


def _prune_options(cfg: Config, selection: str) -> dict:
    """`prune_model`'s options from the config, but the policy and its value (which depend on the target)."""
    return dict(
        round_to=cfg.prune.round_to,
        round_dir=cfg.prune.round_dir,
        importance=cfg.prune.importance,
        selection=selection,
        seed=cfg.train.seed,
        c2f_halves=cfg.prune.c2f_halves,
        attention=cfg.prune.attention,
    )


def _check_onnx(cfg: Config, files: PruneFiles, layers: pd.DataFrame) -> OnnxCheck:
    """Export the written weights.pt to weights.onnx beside it and check it; RuntimeError when a check fails."""
    onnx = check_onnx(
        files.weights, files.dir, imgsz=cfg.train.imgsz, round_to=cfg.prune.round_to, onnx_name=files.onnx.name
    )
    onnx.require_aligned()
    onnx.require_parity(layers)
    return onnx


def _validate(cfg: Config, results: dict[bool, PruneResult], files: PruneFiles) -> dict[bool, dict[str, float]]:
    """Val mAP50 and mAP50-95 of the pruned model with and without the beta fold (fold -> numbers), at Ultralytics'
    own val settings; the configured one is the written weights.pt, the other is saved to a temporary file. A model
    with nothing to fold (one result for both: a Torch-Pruning alternative) is validated once."""
    from yoloslim.eval.accuracy import measure_accuracy

    data_yaml, val, written = StudyPaths.of(cfg).data.yaml, {}, results[cfg.prune.fold_beta]
    with tempfile.TemporaryDirectory() as tmp:
        for fold, res in results.items():
            kept = fold == cfg.prune.fold_beta
            if not kept and res is written:
                continue
            weights = files.weights if kept else save_checkpoint(res.model, Path(tmp) / WEIGHTS)
            rows = measure_accuracy(
                weights, data_yaml, split="val", imgsz=cfg.train.imgsz, conf=_VAL_CONF, iou=_VAL_IOU,
                names=cfg.data.names,
            )  # fmt: skip
            val[fold] = {k: rows["all"][k] for k in ("mAP50", "mAP50-95")}
    return {fold: val.get(fold, val[cfg.prune.fold_beta]) for fold in results}


def _prune_metrics(
    cfg: Config,
    target: str,
    selection: str,
    result: PruneResult,
    val: dict[bool, dict[str, float]],
    onnx: OnnxCheck,
    search: Search | None,
    match: dict | None,
) -> dict:
    """metrics.json of one pruned model (columns in docs/outputs.md)."""
    return {
        "target": target,
        "selection": selection,
        "policy": selection if match else "latency" if search else cfg.prune.policy,
        "value": cfg.target_value(target),
        "threshold": result.threshold if np.isfinite(result.threshold) else None,
        "round_to": cfg.prune.round_to,
        "round_dir": cfg.prune.round_dir,
        "importance": cfg.prune.importance,
        "fold_beta": cfg.prune.fold_beta,
        "attention": cfg.prune.attention,
        "attention_heads": result.heads,
        "params_before": result.params_before,
        "params_after": result.params_after,
        "gflops_before": result.gflops_before,
        "gflops_after": result.gflops_after,
        "val_fold": val[True],
        "val_nofold": val[False],
        "unpruned_groups": result.unpruned_groups,
        "rewritten_c2f": result.rewritten,
        "onnx_check": onnx.summary(),
        "sparsity_warning": result.warning,
        "search": search_summary(search, cfg.prune.engine, cfg.prune.margin) if search else None,
        "cost_match": match,
    }


def _log_warnings(prune_id: str, metrics: dict) -> None:
    """Log the problems metrics.json records: gammas that carry no information at the cut, a latency budget no
    structure met, a cost Torch-Pruning could not match (each message is None when there is no problem)."""
    search, match = metrics["search"] or {}, metrics["cost_match"] or {}
    for message in (metrics["sparsity_warning"], search.get("message"), match.get("message")):
        if message:
            LOGGER.warning(f"{prune_id}: {message}")


def _pruned(
    cfg: Config, model: torch.nn.Module, target: str, options: dict, files: PruneFiles
) -> tuple[dict[bool, PruneResult], Search | None, dict | None]:
    """The pruned model with and without the beta fold (fold -> PruneResult), and the latency search or the
    Torch-Pruning FLOPs match that chose its structure (None for a threshold or fraction target)."""
    value, imgsz, method = cfg.target_value(target), cfg.train.imgsz, options["selection"]
    policy = {"threshold": value} if cfg.prune.policy == "threshold" else {"fraction": value}
    budget = target in cfg.latency_targets()
    if method in TP_METHODS and budget:  # Torch-Pruning's pruner within the same latency budget, searched alike
        search = search_budget(
            cfg, str(value), files, SEARCH_RATIOS,
            lambda ratio: _tp_structure(model, method, ratio, cfg.prune.round_to),
            knob=f"Torch-Pruning {method} global channel ratio",
        )  # fmt: skip
        chosen = search.chosen
        pruned = prune_tp(model, method, chosen.threshold, round_to=cfg.prune.round_to)  # the search kept no model
        result, match = prune_tp_result(model, method, chosen.threshold, pruned, chosen.gflops, imgsz)
        match |= latency_match(search, str(value))
        return {True: result, False: result}, search, match  # nothing to fold: Torch-Pruning drops pruned beta
    if method in TP_METHODS:  # Torch-Pruning's pruner at the GFLOPs of the target's model
        gamma = prune_model(model, **policy, **{**options, "selection": "gamma"}, imgsz=imgsz)
        pruned, ratio, gflops = prune_tp_matched(model, method, target_gflops=gamma.gflops_after,
                                                 round_to=cfg.prune.round_to, imgsz=imgsz)  # fmt: skip
        result, match = prune_tp_result(model, method, ratio, pruned, gflops, imgsz)
        return {True: result, False: result}, None, match | flops_match(method, gamma.gflops_after, gflops, ratio)
    search = None
    if budget:
        search = search_budget(
            cfg, str(value), files, candidate_thresholds(gamma_values(model, attention=cfg.prune.attention).numpy()),
            lambda threshold: _gamma_structure(model, threshold, options, imgsz),
        )  # fmt: skip
        policy = {"threshold": search.chosen.threshold}
    return {f: prune_model(model, **policy, **options, fold_beta=f, imgsz=imgsz) for f in (True, False)}, search, None


def _gamma_structure(
    model: torch.nn.Module, threshold: float, options: dict, imgsz: int
) -> tuple[torch.nn.Module, tuple[int, ...]]:
    """The sparse model pruned by yoloslim at one |gamma| threshold (no fold: timing only), with its kept channels."""
    pruned = prune_model(model, threshold=threshold, **options, fold_beta=False, imgsz=imgsz)
    return pruned.model, tuple(pruned.layers["kept"])


def _tp_structure(model: torch.nn.Module, method: str, ratio: float, round_to: int) -> tuple[torch.nn.Module, tuple]:
    """The sparse model pruned by a Torch-Pruning method at one global ratio, with its BatchNorm widths."""
    pruned = prune_tp(model, method, ratio, round_to=round_to)
    return pruned, tuple(m.num_features for m in pruned.modules() if isinstance(m, torch.nn.BatchNorm2d))


def prune_tp_result(
    model: torch.nn.Module, method: str, ratio: float, pruned: torch.nn.Module, gflops: float, imgsz: int
) -> tuple[PruneResult, dict]:
    """`pruned`, `model` pruned by a Torch-Pruning method at the global `ratio` to `gflops` (as the matching or the
    search counted them), as a PruneResult, and the start of metrics.json's `cost_match`: the method and the ratio."""
    before = copy.deepcopy(model).float()
    split_c2f(before)
    layers = width_table(before, pruned, f"Torch-Pruning {method}, global ratio {ratio:.3g}")
    params_before, params_after = params_by_part(before), params_by_part(pruned)
    return PruneResult(
        model=pruned,
        layers=layers,
        ratios=ratio_table(layers, params_before, params_after),
        threshold=float("nan"),
        params_before=sum(params_before.values()),
        params_after=sum(params_after.values()),
        gflops_before=count_gflops(before, imgsz),
        gflops_after=gflops,
        gammas=gamma_values(before).numpy(),
    ), {"method": method, "ratio": ratio}


def flops_match(method: str, target_gflops: float, gflops: float, ratio: float) -> dict:
    """metrics.json's `cost_match` of a FLOPs-matched alternative: the target, the GFLOPs reached, and a message
    when they are not within `FLOPS_TOLERANCE`."""
    matched = abs(gflops - target_gflops) <= FLOPS_TOLERANCE * target_gflops
    message = (
        None
        if matched
        else (
            f"Torch-Pruning's {method} could not reach {target_gflops:.3g} GFLOPs within {FLOPS_TOLERANCE:.0%}: its "
            f"closest structure has {gflops:.3g} (global ratio {ratio:.3g}); this comparison is not at equal cost"
        )
    )
    return {"by": "flops", "target_gflops": target_gflops, "gflops": gflops, "matched": matched,
            "message": message}  # fmt: skip


def latency_match(search: Search, budget: str) -> dict:
    """metrics.json's `cost_match` of an alternative searched within a latency budget: the budget, the measured
    latency ratio, and a message when no structure met it."""
    chosen = search.chosen
    message = None if search.met else (
        f"no Torch-Pruning structure meets {budget}: its fastest (global ratio {chosen.threshold:.3g}) measured "
        f"{chosen.timing.ratio:.2f}x the base model")  # fmt: skip
    return {"by": "latency", "budget": budget, "latency_ratio": chosen.timing.ratio, "gflops": chosen.gflops,
            "target_gflops": None, "matched": search.met, "message": message}  # fmt: skip


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

    `build(value)` prunes the sparse model at one candidate and returns it with its structure (kept channels per
    layer): yoloslim's |gamma| thresholds, or Torch-Pruning's global channel ratios.
    """
    value, relative = latency_budget(budget)
    aim = value * (1 - cfg.prune.margin)  # slack for a re-measurement in another process
    imgsz = cfg.train.imgsz
    engine = resolve_engine(cfg.prune.engine, cfg.eval.latency)
    with tempfile.TemporaryDirectory() as tmp:
        base = export_onnx(StudyPaths.of(cfg).train("base").weights, Path(tmp) / "base", imgsz)

        def measure(candidate: float) -> tuple[tuple[int, ...], float, Timing]:
            pruned, structure = build(candidate)
            weights = save_checkpoint(pruned, Path(tmp) / "candidate.pt")
            timing = engine({"base": base, "candidate": export_onnx(weights, Path(tmp) / "candidate", imgsz)}, imgsz)
            return structure, count_gflops(pruned, imgsz), timing["candidate"]

        budgets = {"budget_ratio": aim} if relative else {"budget_ms": aim}
        search = search_threshold(candidates, measure, **budgets)
    table = search.table()
    with atomic_path(files.search) as tmp_csv:
        table.to_csv(tmp_csv, index=False)
    plot_search(table, files.figure("search"), budget=budget, relative=relative, value=value, aim=aim, knob=knob)
    return search


def search_summary(search: Search, engine: str, margin: float) -> dict:
    """metrics.json's `search`: the budget met or not (with the margin aimed under it), the chosen structure, and
    a message when not met."""
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
        summary["message"] = (
            f"no structure meets the latency budget on {engine}: the fastest found (threshold {chosen.threshold:.4g}, "
            f"{chosen.gflops:.3g} GFLOPs) takes {chosen.timing.median_ms:.3g} ms, {chosen.timing.ratio:.2f}x the "
            "base model; it is kept"
        )
    return summary


def _group_gammas(model: torch.nn.Module, plans: list[GroupPlan]) -> np.ndarray:
    """|gamma| of every BatchNorm in a prunable group."""
    modules = dict(model.named_modules())
    bns = [modules[f"{layer}.bn"] for plan in plans for layer in plan.layers]
    return torch.cat([bn.weight.detach().abs().flatten() for bn in bns]).numpy() if bns else np.zeros(0)


def _unpruned(plans: list[GroupPlan], uncovered: dict[str, str]) -> list[dict]:
    """Groups a rule kept whole although channels were under the threshold, and the layers in no prunable group
    (attention blocks, layers tied to excluded ones), one entry per reason."""
    stopped = [
        {"layers": p.layers, "reason": p.note} for p in plans if p.kept == p.width and p.kept_by_policy < p.width
    ]
    by_reason: dict[str, list[str]] = {}
    for name, reason in uncovered.items():
        by_reason.setdefault(reason, []).append(name)
    return stopped + [{"layers": layers, "reason": reason} for reason, layers in by_reason.items()]
