"""The prune stage: one prune job's `runs/<c>/prune/<target>/` from the sparse model (notebooks/04_prune, Snakemake).

Network slimming (Liu et al., ICCV 2017; the algorithm: `yoloslim.prune.slimming`) prunes the sparse model for the
job's target (`yoloslim.prune.target`: a threshold or fraction, a latency budget searched on an engine, a FLOPs
budget, or a Torch-Pruning alternative at the same cost), with and without the beta fold. The stage writes the
configured one (`yoloslim.prune.files`), exports it to ONNX (`weights.onnx`) and checks it (`yoloslim.prune.validate`,
`yoloslim.prune.onnx_check`): every Conv but the Detect outputs has a multiple of `round_to` channels (else it fails:
a pruning bug), and ONNX Runtime's output matches PyTorch's within a stated tolerance (recorded under `onnx_check` in
metrics.json). Its val mAP is measured with and without the fold, and metrics.json is written last.

    from yoloslim.prune.stage import run_prune
    run_prune(cfg, "small")   # runs/<c>/prune/small/ from runs/<c>/sparse/
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ultralytics.utils import LOGGER

from yoloslim.atomic import write_json
from yoloslim.config import Config
from yoloslim.models.stats import existing_weights
from yoloslim.paths import StudyPaths
from yoloslim.prune.budget import search_summary
from yoloslim.prune.files import load_detection_model, write_outputs
from yoloslim.prune.flops import FlopsChoice
from yoloslim.prune.onnx_check import OnnxCheck
from yoloslim.prune.search import Search
from yoloslim.prune.slimming import PruneResult
from yoloslim.prune.target import prune_target
from yoloslim.prune.validate import check_exported_onnx, validate_folds
from yoloslim.stages import data_digest, file_digest, stage_key
from yoloslim.study import prune_job
from yoloslim.text import say
from yoloslim.uptodate import recording, stage_record, up_to_date


def run_prune(cfg: Config, prune_id: str) -> Path:
    """The prune stage for one prune job, a target or its `<target>-random` control or `<target>-tp_*` alternative
    (`yoloslim.study.prune_jobs`): `runs/<c>/prune/<prune_id>/` from the sparse model, validated with and without the
    beta fold, exported to ONNX and checked. Returns the folder.

    Skipped when up to date: `params.json` holds the job's stage key and the digests of the sparse model and the
    data set (and the base model, which a latency search times against), and every output is there
    (`yoloslim.uptodate`).

    Raises RuntimeError (before metrics.json is written) when a Conv of the ONNX graph other than the Detect
    outputs has a channel count that is not a multiple of `prune.round_to`, or when ONNX Runtime's output
    differs from PyTorch's beyond the stated tolerance (the message holds the layer table).
    """
    target, selection = prune_job(cfg, prune_id)
    paths = StudyPaths.of(cfg)
    files = paths.prune(prune_id)
    key, outputs = _prune_record(cfg, prune_id, target)
    if up_to_date(files.record, key, outputs):
        return files.dir
    with recording(files.record, key):
        model, ckpt = load_detection_model(paths.sparse.weights)
        pair, chosen_by, match = prune_target(cfg, model, target, selection, files)
        result = pair.get(cfg.prune.fold_beta)
        write_outputs(result, files.dir, ckpt.get("train_args"))
        onnx = check_exported_onnx(cfg, files, result.layers)
        val = validate_folds(cfg, pair, files)
        metrics = _prune_metrics(cfg, target, selection, result, val, onnx, chosen_by, match)
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


def _prune_metrics(
    cfg: Config,
    target: str,
    selection: str,
    result: PruneResult,
    val: dict[bool, dict[str, float]],
    onnx: OnnxCheck,
    chosen_by: Search | FlopsChoice | None,
    match: dict | None,
) -> dict:
    """metrics.json of one pruned model (columns in docs/outputs.md)."""
    search = chosen_by if isinstance(chosen_by, Search) else None
    flops = chosen_by if isinstance(chosen_by, FlopsChoice) else None
    return {
        "target": target,
        "selection": selection,
        "policy": selection if match else "latency" if search else "flops" if flops else cfg.prune.policy,
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
        "flops_budget": flops.summary() if flops else None,
        "cost_match": match,
    }


def _log_warnings(prune_id: str, metrics: dict) -> None:
    """Log the problems metrics.json records: gammas that carry no information at the cut, a latency or FLOPs budget
    no structure met, a cost Torch-Pruning could not match (each message, `yoloslim.text.message`, is None when there
    is no problem)."""
    search, flops, match = metrics["search"] or {}, metrics["flops_budget"] or {}, metrics["cost_match"] or {}
    for recorded in (metrics["sparsity_warning"], search.get("message"), flops.get("message"), match.get("message")):
        if recorded:
            LOGGER.warning(f"{prune_id}: {say('en', recorded)}")
