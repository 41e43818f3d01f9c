"""The evaluation stage: measure every model of the study the same way, then write the study's tables.

One model (`run_eval`) gets `runs/<c>/eval/<model_id>/metrics.json`: accuracy per split and class (of its INT8
exports too), checkpoint and ONNX size, params, GFLOPs, the precision each engine runs it in, and the decode rate of
the code classes on the test split (none when the study has no code classes, `yoloslim.config.decode_classes`).
It times nothing, so it needs no quiet machine. `write_tables` times every model, interleaved on each engine, and
profiles its ONNX operators, with nothing else running; it gathers every model's file and those timings into
`eval/accuracy.csv|json`, `models.csv` (with the latency budget's mark), `latency_interleaved.csv`,
`onnx_operators.csv`, `decode.csv` (its header only without code classes), `environment.json` and
`figures/compare.png` (columns in docs/outputs.md). The decode-rate ceiling (codes that decode from their own
ground-truth box) is the same for every model: it is counted once per split and decode settings and kept in
`eval/gt_decodable.json`.

    from yoloslim.eval.stage import evaluate_model, evaluate_study, run_eval, write_tables
    run_eval(cfg, "base")           # runs/<c>/eval/base/metrics.json (skipped when up to date)
    write_tables(cfg)               # {'accuracy': .../eval/accuracy.csv, ...} (skipped when up to date)
    evaluate_model(cfg, "base")     # 06_eval's one call: run_eval, then that model's tables
    evaluate_study(cfg)             # 06_eval_tables' one call: evaluate what is missing, write and load tables
"""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yoloslim.atomic import atomic_path, write_json, write_text
from yoloslim.config import ENGINES, Config, LatencyConfig, QuantConfig, decode_classes
from yoloslim.data.mirror import split_images, splits_with_images
from yoloslim.eval.decode import cached_decodable, measure_decode
from yoloslim.eval.figures import plot_compare
from yoloslim.eval.tables import display_tables, study_frames, with_int8_intervals, with_intervals
from yoloslim.measure.accuracy import measure_accuracy
from yoloslim.measure.bootstrap import INTERVAL_METRICS, replicates, save_replicates
from yoloslim.measure.engines import (
    BF16_ENGINES,
    DEPLOY_ENGINES,
    INT8_ENGINES,
    NO_BF16,
    EngineError,
    bf16_offered,
    build_artifact,
    check_outputs,
    engine_runner,
)
from yoloslim.measure.interleaved import across_processes, interleaved_latency, interleaved_runs
from yoloslim.measure.latency import (
    TORCH_DEVICES,
    cpu_model,
    cuda_device,
    measure_latency,
    torch_offered,
    torch_runner,
    torch_threads,
)
from yoloslim.measure.metrics import DetectionStats
from yoloslim.measure.onnx import export_onnx, resolve_threads
from yoloslim.measure.profile import operator_times
from yoloslim.measure.seeds import run_spread, run_values, with_runs
from yoloslim.models.stats import file_mb, load_model, model_stats
from yoloslim.paths import EvalModelFiles, StudyPaths
from yoloslim.stages import data_digest, file_digest, stage_key
from yoloslim.study import StudyModel, find_model, seed_runs, study_models
from yoloslim.ultra import tee_output
from yoloslim.uptodate import recording, stage_record, up_to_date

INTERLEAVED_COLUMNS = ["model", "label", "engine", "median_ms", "p90_ms", "lo_ms", "hi_ms", "ratio", "ratio_lo",
                       "ratio_hi", "runs", "processes"]  # fmt: skip
PACKAGES = (
    "torch",
    "ultralytics",
    "onnx",
    "onnxruntime",
    "openvino",
    "nncf",
    "zxing-cpp",
    "torch-pruning",
    "numpy",
    "opencv-python",
)


def evaluate_weights(
    weights: Path,
    data_yaml: Path,
    *,
    imgsz: int,
    splits: list[str],
    conf: float,
    iou: float,
    latency: LatencyConfig,
    decode_margin: float,
    names: list[str],
    decodable_cache: Path | None = None,
    stats_dir: Path | None = None,
    engines: Sequence[str] = ("torch_cpu", "onnx_cpu", "torch_cuda"),
    quant: QuantConfig | None = None,
    decode: Mapping[str, str] | None = None,
    timed: bool = True,
) -> dict[str, Any]:
    """Measure one checkpoint: accuracy per split and class, sizes, params, GFLOPs, latency on each engine (INT8
    models validated too), decode rate of the code classes.

    Args:
        weights (Path): The checkpoint.
        data_yaml (Path): The Ultralytics data YAML of the splits.
        imgsz (int): The input size of every measurement.
        splits (list[str]): The splits whose accuracy is measured; the decode rate is measured on test (the first of
            them when test is not among them).
        conf (float): The deployment confidence threshold: precision, recall and F1 at it (the standard mAP is over
            all detections, `yoloslim.measure.accuracy`), and the detections decoded.
        iou (float): The NMS IoU threshold.
        latency (LatencyConfig): Warmup and timed runs, and the CPU threads.
        decode_margin (float): The crop margin around a detection before decoding, as a box fraction.
        names (list[str]): The class names by class id.
        decodable_cache (Path | None): The JSON file keeping the decode-rate ceiling of the decode split; counted
            afresh when None.
        stats_dir (Path | None): Where each split's matched detections (`detections_<split>.npz`) and the ONNX export
            are kept; None: not kept.
        engines (Sequence[str]): The engines timed (`eval.engines`); each INT8 engine's model is also validated.
        quant (QuantConfig | None): The INT8 calibration images and the splits the INT8 models are validated on;
            None: the defaults.
        decode (Mapping[str, str] | None): The code classes whose decode rate is measured -> the symbology a read
            must have (`yoloslim.config.decode_classes`); empty: no decode rate (`decode` None in the result, no
            zxing-cpp work); None: every class, any format.
        timed (bool): False: no latency and no operator profile, only the precision each engine runs the model in
            (`measure_latency`): a study's evaluation, which needs no quiet machine, as its tables time every model
            interleaved on one (`write_tables`).

    Returns:
        (dict[str, Any]): The measurements, as metrics.json holds them (without the model's id, label and kind).
    """
    weights, data_yaml = Path(weights), Path(data_yaml)
    yolo = load_model(weights)
    accuracy = {
        split: measure_accuracy(
            weights,
            data_yaml,
            split=split,
            imgsz=imgsz,
            conf=conf,
            iou=iou,
            names=names,
            stats_out=EvalModelFiles(stats_dir).detections(split) if stats_dir else None,
        )  # fmt: skip
        for split in splits
    }
    quant = quant or QuantConfig()
    with tempfile.TemporaryDirectory() as tmp:
        onnx = export_onnx(weights, Path(tmp), imgsz)
        size_onnx_mb = file_mb(onnx)
        artifacts, notes = deployment_artifacts(weights, onnx, Path(tmp), imgsz, data_yaml, engines, quant)
        timing = measure_latency(yolo.model, artifacts, imgsz, latency, engines, notes, timed=timed)
        operators = operator_times(onnx, imgsz, latency) if timed else None
        quantised = {}
        for engine in (e for e in INT8_ENGINES if e in artifacts):
            try:
                quantised[engine] = int8_accuracy(artifacts[engine], data_yaml, quant.splits, imgsz=imgsz, conf=conf,
                                                  iou=iou, names=names, stats_dir=stats_dir, engine=engine)  # fmt: skip
            except (RuntimeError, ValueError, TypeError) as err:  # Ultralytics' validation of the export failed
                timing["notes"][f"{engine}_accuracy"] = f"not measured: {type(err).__name__}: {err}"
        if stats_dir is not None:  # kept for the interleaved measurement of every model on each engine (write_tables)
            files = EvalModelFiles(stats_dir)
            _keep(onnx, files.onnx)
            for engine in (e for e in INT8_ENGINES if e in artifacts):
                _keep(artifacts[engine], files.artifact(engine))
    decoded = None
    if decode is None or decode:
        decode_split = "test" if "test" in splits else splits[0]
        images = split_images(data_yaml, decode_split)
        decodable = None
        if decodable_cache is not None:
            decodable = cached_decodable(decodable_cache, images, split=decode_split, margin=decode_margin,
                                         classes=decode)  # fmt: skip
        decoded = measure_decode(yolo, images, imgsz=imgsz, conf=conf, iou=iou, margin=decode_margin, names=names,
                                 decodable=decodable, classes=decode)  # fmt: skip
        decoded = {"split": decode_split, "classes": None if decode is None else dict(decode), **decoded}
    return {
        "weights": str(weights),
        "data": str(data_yaml),
        "imgsz": imgsz,
        "conf": conf,
        "iou": iou,
        "accuracy": accuracy,
        "size_pt_mb": file_mb(weights),
        "size_onnx_mb": size_onnx_mb,
        **model_stats(yolo.model, imgsz, name=str(weights)),
        "latency": {k: timing[k] for k in ENGINES},
        "latency_notes": timing["notes"],
        "accuracy_int8": quantised,
        "onnx_operators": operators,
        "decode": decoded,
        "environment": environment(latency.threads),
    }


def deployment_artifacts(
    weights: Path,
    onnx: Path,
    folder: Path,
    imgsz: int,
    data_yaml: Path,
    engines: Sequence[str],
    quant: QuantConfig,
) -> tuple[dict[str, Path], dict[str, str]]:
    """The export of `weights` for each deployment engine among `engines`; an export that fails is left out, with
    its reason.

    Args:
        weights (Path): The checkpoint.
        onnx (Path): Its FP32 ONNX export (onnx_cpu and openvino_cpu run it).
        folder (Path): Where the INT8 exports are written.
        imgsz (int): The static input size.
        data_yaml (Path): The data YAML whose train split calibrates the INT8 exports.
        engines (Sequence[str]): The engines measured (`eval.engines`).
        quant (QuantConfig): The calibration images.

    Returns:
        (tuple[dict[str, Path], dict[str, str]]): Engine -> its artifact, and engine -> "not measured: <reason>".
    """
    artifacts, notes = {}, {}
    for engine in (e for e in DEPLOY_ENGINES if e in engines):
        if engine in INT8_ENGINES:
            try:
                artifacts[engine] = build_artifact(engine, weights, folder, imgsz, data_yaml,
                                                   calib_images=quant.calib_images)  # fmt: skip
                check_outputs(engine, artifacts[engine], data_yaml, imgsz)
            except (EngineError, ImportError) as err:
                artifacts.pop(engine, None)
                notes[engine] = f"not measured: {err}"
                print(f"WARNING: {weights}: {engine} {notes[engine]}")
        elif engine in BF16_ENGINES and not bf16_offered():
            notes[engine] = NO_BF16
        else:
            artifacts[engine] = onnx
    return artifacts, notes


def int8_accuracy(
    artifact: Path,
    data_yaml: Path,
    splits: Sequence[str],
    *,
    imgsz: int,
    conf: float,
    iou: float,
    names: list[str],
    stats_dir: Path | None,
    engine: str,
) -> dict[str, Any]:
    """A quantised model validated like its FP32 checkpoint (`measure_accuracy`), on `splits`.

    Args:
        artifact (Path): The INT8 export (an ONNX file or an OpenVINO folder).
        data_yaml (Path): The data YAML of the splits.
        splits (Sequence[str]): The splits validated on (`quant.splits`).
        imgsz (int): The input size.
        conf (float): The deployment confidence threshold.
        iou (float): The NMS IoU threshold.
        names (list[str]): The class names by class id.
        stats_dir (Path | None): Where the matched detections are kept (`detections_<split>_<engine>.npz`).
        engine (str): The INT8 engine (its name marks the detections file).

    Returns:
        (dict[str, Any]): Split -> class name or `all` -> metric -> value.
    """
    return {
        split: measure_accuracy(
            artifact,
            data_yaml,
            split=split,
            imgsz=imgsz,
            conf=conf,
            iou=iou,
            names=names,
            stats_out=EvalModelFiles(stats_dir).detections_int8(split, engine) if stats_dir else None,
        )  # fmt: skip
        for split in splits
    }


def run_eval(cfg: Config, model_id: str) -> Path:
    """Evaluate one study model into `eval/<model_id>/metrics.json`; skipped when that file is up to date.

    Up to date: made with the same key (`eval_key`: the stage key, the weights' and data set's digests). The full
    Ultralytics output goes to `eval/<model_id>/eval.log`.
    """
    model = find_model(cfg, model_id)
    if not model.weights.is_file():
        raise FileNotFoundError(f"{model.weights}: weights of model '{model_id}' not found (run its stage first)")
    paths = StudyPaths.of(cfg)
    for run in seed_runs(cfg, model_id)[1:]:
        weights = paths.finetune(run).weights
        if not weights.is_file():
            raise FileNotFoundError(f"{weights}: run '{run}' of model '{model_id}' (finetune.seeds) not found; run "
                                    "its fine-tune first")  # fmt: skip
    files = paths.eval(model_id)
    out = files.metrics
    params = eval_key(cfg, model)
    if up_to_date(out, params, field="eval_params"):
        return out
    splits = splits_with_images(paths.data, cfg.eval.splits)
    quant = replace(cfg.quant, splits=[s for s in cfg.quant.splits if s in splits] or splits[-1:])
    with tee_output(files.log):
        result = evaluate_weights(
            model.weights,
            paths.data.yaml,
            imgsz=model.imgsz,
            splits=splits,
            conf=cfg.eval.conf,
            iou=cfg.eval.iou,
            latency=cfg.eval.latency,
            decode_margin=cfg.eval.decode_margin,
            names=list(cfg.data.names),
            decodable_cache=paths.eval_tables.gt_decodable,
            stats_dir=files.dir,
            engines=[e for e in cfg.eval.engines if model.kind != "sparse" or e not in INT8_ENGINES],  # never shipped
            quant=quant,
            decode=decode_classes(cfg),
            timed=False,  # the tables time every model, interleaved, with nothing else running
        )
        runs = {run: _run_accuracy(cfg, run, splits, model) for run in seed_runs(cfg, model_id)[1:]}
    record = {
        "model": model.id,
        "label": model.label,
        "kind": model.kind,
        **result,
        "seed_runs": runs,
        "eval_params": params,
    }
    write_json(out, record, allow_nan=True)
    return out


def _run_accuracy(cfg: Config, run: str, splits: list[str], model: StudyModel) -> dict[str, Any]:
    """Another fine-tune of a seeded model (`<model>-seed<i>`), validated like the model on `splits`, its matched
    detections kept beside the model's (`detections_<split>_<run>.npz`) for the tables' intervals."""
    paths = StudyPaths.of(cfg)
    e = cfg.eval
    return {
        split: measure_accuracy(paths.finetune(run).weights, paths.data.yaml, split=split, imgsz=model.imgsz,
                                conf=e.conf, iou=e.iou, names=list(cfg.data.names),
                                stats_out=paths.eval(model.id).detections(split, run))
        for split in splits
    }  # fmt: skip


def write_tables(cfg: Config) -> dict[str, Path]:
    """Write the study's evaluation tables from every model's metrics.json (models without one are left out).

    Skipped when up to date: `eval/params.json` holds the tables' stage key and the digests of the metrics.json files
    they were made from, and every table is there (`yoloslim.uptodate`).
    """
    paths = StudyPaths.of(cfg)
    tables = paths.eval_tables
    out = {
        "accuracy": tables.accuracy,
        "accuracy_json": tables.accuracy_json,
        "accuracy_int8": tables.accuracy_int8,
        "models": tables.models,
        "decode": tables.decode,
        "operators": tables.operators,
        "interleaved": tables.interleaved,
        "environment": tables.environment,
        "seeds": tables.seeds,
        "compare": tables.figure("compare"),
    }
    key = tables_key(cfg)
    if not key["inputs"]:
        raise FileNotFoundError(f"{tables.dir}: no model has been evaluated yet (run_eval first)")
    splits = splits_with_images(paths.data, cfg.eval.splits)
    bootstrap = [tables.bootstrap(split) for split in splits] if cfg.eval.bootstrap else []
    if up_to_date(tables.record, key, [*out.values(), *bootstrap]):
        return out
    with recording(tables.record, key):
        _write_tables(cfg, out)
    return out


def tables_key(cfg: Config) -> dict[str, Any]:
    """What the study's tables are made from: their stage key and the digest of every model's metrics.json that
    exists (`yoloslim.uptodate.stage_record`)."""
    paths = StudyPaths.of(cfg)
    metrics = {m.id: paths.eval(m.id).metrics for m in study_models(cfg)}
    digests = {model: file_digest(path) for model, path in metrics.items() if path.is_file()}
    return stage_record(stage_key(cfg, "eval_tables"), digests)


def _write_tables(cfg: Config, out: dict[str, Path]) -> None:
    """Measure the interleaved latency, compute the study's tables and write them to `out` (name -> path)."""
    paths = StudyPaths.of(cfg)
    records = [{**r, "onnx_operators": _operators(cfg, r)} for r in load_records(cfg)]
    interleaved = _interleaved(cfg, records)
    frames = study_frames(_latency_from(interleaved, records), names=list(cfg.data.names), budget=_budget(cfg))
    frames["interleaved"] = interleaved
    names = list(cfg.data.names)
    splits = splits_with_images(paths.data, cfg.eval.splits)
    runs = {r["model"]: [r["model"], *r["seed_runs"]] for r in records if r.get("seed_runs")}
    spreads = {split: run_spread(_retrained_values(cfg, records, split, names)) for split in splits}
    for split in splits if cfg.eval.bootstrap else []:
        quantised = [(r["model"], e) for r in records for e, s in (r.get("accuracy_int8") or {}).items() if split in s]
        reps = _replicates(cfg, [r["model"] for r in records], split, quantised, runs)
        int8_reps = {key: reps.pop(f"{key[0]}@{key[1]}") for key in quantised}  # drawn with the same images
        # an INT8 model's drop is against the same trained checkpoint: no training spread in it
        frames["accuracy_int8"] = with_int8_intervals(frames["accuracy_int8"], split, reps, int8_reps, names)
        reps = with_runs(reps, runs, spreads[split], seed=cfg.eval.bootstrap_seed)
        save_replicates(paths.eval_tables.bootstrap(split), reps, names)
        frames["accuracy"] = with_intervals(frames["accuracy"], split, reps, names)
    for name in ("accuracy", "accuracy_int8", "models", "decode", "operators", "interleaved"):
        with atomic_path(out[name]) as tmp:
            frames[name].to_csv(tmp, index=False)
    write_text(out["accuracy_json"], frames["accuracy"].to_json(orient="records", indent=2))
    write_json(out["environment"], records[0]["environment"])
    write_json(out["seeds"], _seeds_record(cfg, records, runs, spreads), allow_nan=True)
    plot_compare(frames["accuracy"], out["compare"], split="test" if "test" in splits else splits[0])


def load_records(cfg: Config) -> list[dict[str, Any]]:
    """Every study model's metrics.json that exists, in report order."""
    files = [StudyPaths.of(cfg).eval(m.id).metrics for m in study_models(cfg)]
    return [json.loads(f.read_text()) for f in files if f.is_file()]


def evaluate_model(cfg: Config, item: str) -> dict[str, pd.DataFrame]:
    """The 06_eval notebook's one call: evaluate model `item` and return its titled tables.

    The deltas are against the base model when it has been evaluated. The evaluation times nothing: the latency,
    its budget mark and the operator profile are the study's tables', shown once the tables are up to date (a
    finished study), and left out before.
    """
    record = json.loads(run_eval(cfg, item).read_text())
    base = [r for r in load_records(cfg) if r["model"] == "base" and item != "base"]
    frames = study_frames(_timed_by_tables(cfg, [*base, record]), names=list(cfg.data.names), budget=_budget(cfg))
    return display_tables(frames, only=item)


def _timed_by_tables(cfg: Config, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`records` with the latency and the ONNX operator profile the study's tables measured, when the tables are up
    to date (made from the current metrics.json of every evaluated model); else unchanged."""
    tables = StudyPaths.of(cfg).eval_tables
    if not up_to_date(tables.record, tables_key(cfg), [tables.interleaved, tables.operators]):
        return records
    profiles = pd.read_csv(tables.operators)
    by_model = {m: dict(zip(rows["operator"], rows["ms"], strict=True)) for m, rows in profiles.groupby("model")}
    timed = _latency_from(pd.read_csv(tables.interleaved), records)
    return [{**r, "onnx_operators": by_model.get(r["model"])} for r in timed]


def evaluate_study(cfg: Config) -> tuple[dict[str, pd.DataFrame], Path]:
    """The 06_eval_tables notebook's one call: the study's titled tables and its comparison figure.

    Evaluates every model whose weights exist and lack up-to-date metrics, then writes the study's tables.
    """
    for model in study_models(cfg):
        if model.weights.is_file():
            run_eval(cfg, model.id)
    figure = write_tables(cfg)["compare"]
    frames = study_frames(load_records(cfg), names=list(cfg.data.names), budget=_budget(cfg))
    return display_tables(frames), figure


def environment(threads: int) -> dict[str, Any]:
    """Where the numbers were measured: CPU model, thread count, CUDA device (or None), package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu_model(),
        "threads": resolve_threads(threads),
        "cuda_device": cuda_device(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def _replicates(
    cfg: Config,
    models: list[str],
    split: str,
    quantised: Sequence[tuple[str, str]] = (),
    runs: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of every model's accuracy on `split`, from the detections its eval kept, of each
    (model, engine) INT8 export in `quantised` (keyed `<model>@<engine>`) and of each model's other fine-tunes in
    `runs` (model -> its run ids, the model first; keyed by run id), all on the same resampled images."""
    paths = StudyPaths.of(cfg)
    files = {model: paths.eval(model).detections(split) for model in models}
    files |= {f"{m}@{e}": paths.eval(m).detections_int8(split, e) for m, e in quantised}
    files |= {run: paths.eval(m).detections(split, run) for m, ids in (runs or {}).items() for run in ids[1:]}
    stats = {}
    for model, path in files.items():
        if not path.is_file():
            raise FileNotFoundError(f"{path}: matched detections of model '{model}' not found (rerun its eval)")
        stats[model] = DetectionStats.load(path)
    e = cfg.eval
    return replicates(stats, list(cfg.data.names), e.conf, draws=e.bootstrap, seed=e.bootstrap_seed)


def _retrained_values(
    cfg: Config, records: list[dict[str, Any]], split: str, names: list[str]
) -> dict[str, list[np.ndarray]]:
    """Seeded model id -> each of its runs' accuracy on `split` (classes + `all` x `INTERVAL_METRICS`): the runs
    whose pooled spread a model trained once gets. Random controls are left out: their runs also draw their channels
    again, a spread no model trained once has (docs/method.md, "How every model is measured")."""
    classes = [*names, "all"]
    random = {m.id for m in study_models(cfg) if m.kind == "random"}
    return {
        r["model"]: [run_values(acc[split], classes, INTERVAL_METRICS)
                     for acc in [r["accuracy"], *r["seed_runs"].values()] if split in acc]
        for r in records if r.get("seed_runs") and r["model"] not in random
    }  # fmt: skip


def _seeds_record(
    cfg: Config,
    records: list[dict[str, Any]],
    runs: Mapping[str, Sequence[str]],
    spreads: Mapping[str, np.ndarray | None],
) -> dict[str, Any]:
    """seeds.json: the fine-tunes per seeded model, each run's all-class mAP50-95 per split, and the between-run
    standard deviation of the all-class metrics (the variance component of the models trained once, listed in
    `component`; none without a seeded model that is not a random control)."""
    values = {
        r["model"]: {split: [acc[split]["all"]["mAP50-95"] for acc in [r["accuracy"], *r["seed_runs"].values()]]
                     for split in r["accuracy"]}
        for r in records if r.get("seed_runs")
    }  # fmt: skip
    measured = any(s is not None for s in spreads.values())
    return {
        "seeds": cfg.finetune.seeds,
        "runs": {model: list(ids) for model, ids in runs.items()},
        "mAP50-95": values,
        "spread": {
            split: None if s is None else dict(zip(INTERVAL_METRICS, s[-1].tolist(), strict=True))
            for split, s in spreads.items()
        },  # fmt: skip
        "component": [r["model"] for r in records if r["model"] not in runs] if measured else [],
    }


def _keep(source: Path, kept: Path) -> None:
    """Copy an export (a file, or an OpenVINO folder) to where the model's measurements are kept, whole or not at
    all."""
    if kept.is_dir():
        shutil.rmtree(kept)
    with atomic_path(kept) as tmp:
        shutil.copytree(source, tmp) if source.is_dir() else shutil.copyfile(source, tmp)


def _interleaved(cfg: Config, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Latency of every evaluated model on each engine of `eval.engines` (PyTorch from the weights; ONNX Runtime and
    OpenVINO, FP32 and INT8, from the exports each model's evaluation kept), interleaved engine by engine
    (`yoloslim.measure.interleaved`); a model whose export for an engine failed is left out of that engine's rounds.
    Measured in this process, or with `eval.processes` of 2 or more in as many fresh processes one after another,
    whose measurements give each value a prediction interval for another process (`across_processes`)."""
    imgsz = {r["model"]: r["imgsz"] for r in records}
    labels = {r["model"]: r["label"] for r in records}
    artifacts = interleaved_artifacts(cfg, list(imgsz))
    if cfg.eval.processes == 1:
        measured = [interleaved_engines(artifacts, imgsz, cfg.eval.latency)]
    else:
        measured = []
        for seed in range(cfg.eval.processes):  # a fresh interpreter each time: nothing of the last one is warm
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as process:
                measured.append(process.submit(interleaved_engines, artifacts, imgsz, cfg.eval.latency, seed).result())
    rows = []
    for engine in artifacts:
        combined = across_processes([process[engine] for process in measured])
        rows += [{"model": m, "label": labels[m], "engine": engine, **values} for m, values in combined.items()]
    return pd.DataFrame(rows, columns=INTERLEAVED_COLUMNS)


def interleaved_artifacts(cfg: Config, models: Sequence[str]) -> dict[str, dict[str, Path]]:
    """What each engine of `eval.engines` times for each model: PyTorch the checkpoint (CUDA where there is a
    device), the others the export the model's evaluation kept (BF16 where the CPU has it; a model whose export
    failed is left out of that engine).

    Args:
        cfg (Config): The study.
        models (Sequence[str]): The evaluated models' ids.

    Returns:
        (dict[str, dict[str, Path]]): Engine -> model id -> its checkpoint or export, engines in `ENGINES` order.
    """
    weights = {m.id: m.weights for m in study_models(cfg)}
    artifacts = {}
    for engine in (e for e in ENGINES if e in cfg.eval.engines):
        if engine in TORCH_DEVICES:
            if torch_offered(engine):
                artifacts[engine] = {m: weights[m] for m in models}
        elif engine not in BF16_ENGINES or bf16_offered():
            kept = {m: StudyPaths.of(cfg).eval(m).artifact(engine) for m in models}
            artifacts[engine] = {m: path for m, path in kept.items() if path.exists()}
    return artifacts


def interleaved_engines(
    artifacts: Mapping[str, Mapping[str, Path]], imgsz: Mapping[str, int], latency: LatencyConfig, seed: int = 0
) -> dict[str, dict[str, dict[str, float]]]:
    """Every model interleaved on each engine in turn, in the calling process (`interleaved_runs`).

    Args:
        artifacts (Mapping[str, Mapping[str, Path]]): Engine -> model id -> its export for that engine (a PyTorch
            engine: its checkpoint).
        imgsz (Mapping[str, int]): Model id -> its input size.
        latency (LatencyConfig): The rounds and threads.
        seed (int): The seed of the rounds' orders and the bootstrap.

    Returns:
        (dict[str, dict[str, dict[str, float]]]): Engine -> model id -> its measurement (`interleaved_runs`).
    """
    out = {}
    for engine, kept in artifacts.items():
        if engine == "onnx_cpu":
            out[engine] = interleaved_latency(dict(kept), dict(imgsz), latency, seed) if kept else {}
        elif engine in TORCH_DEVICES:
            runs = {m: torch_runner(load_model(w).model, imgsz[m], TORCH_DEVICES[engine]) for m, w in kept.items()}
            with torch_threads(resolve_threads(latency.threads)):
                out[engine] = interleaved_runs(runs, latency, seed) if runs else {}
        else:
            runs = {}
            for model, path in kept.items():
                infer, _ = engine_runner(engine, path, latency.threads, spinning=False)
                runs[model] = partial(infer, np.zeros((1, 3, imgsz[model], imgsz[model]), dtype=np.float32))
            out[engine] = interleaved_runs(runs, latency, seed) if runs else {}
    return out


def _operators(cfg: Config, record: dict[str, Any]) -> dict[str, float] | None:
    """A model's ONNX Runtime profile by operator type (`operator_times`), from the export its evaluation kept, timed
    here with the interleaved latency, on a quiet machine; None without one."""
    onnx = StudyPaths.of(cfg).eval(record["model"]).onnx
    return operator_times(onnx, record["imgsz"], cfg.eval.latency) if onnx.is_file() else None


def _latency_from(interleaved: pd.DataFrame, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with each engine's latency from the interleaved measurement where there is one (a study's
    evaluation times nothing: its record holds the precision each engine runs the model in, `evaluate_weights`).
    Interleaved, because models timed in separate jobs differ by tens of percent for the same architecture."""
    measured = interleaved.set_index(["model", "engine"])
    out = []
    for r in records:
        latency = dict(r["latency"])
        for engine, timing in r["latency"].items():
            if timing and (r["model"], engine) in measured.index:
                row = measured.loc[(r["model"], engine)]
                keys = ("median_ms", "p90_ms", "lo_ms", "hi_ms", "ratio_lo", "ratio_hi")
                latency[engine] = {**timing, **{k: float(row[k]) for k in keys}, "interleaved": True}
        out.append({**r, "latency": latency})
    return out


def _budget(cfg: Config) -> tuple[str, str | float]:
    """The study's latency budget: (engine, "20ms" or "0.6x")."""
    return cfg.eval.target_engine, cfg.eval.target_latency


def eval_key(cfg: Config, model: StudyModel) -> dict[str, Any]:
    """What a model's measurements were made from: its stage key and the digests of its weights (and of its other
    fine-tunes' when seeded) and data set."""
    paths = StudyPaths.of(cfg)
    inputs = {"weights": file_digest(model.weights), "data": data_digest(paths.data.yaml)}
    inputs |= {run: file_digest(paths.finetune(run).weights) for run in seed_runs(cfg, model.id)[1:]}
    return stage_record(stage_key(cfg, "eval", model.id), inputs)
