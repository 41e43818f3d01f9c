"""The evaluation tables, built from the models' metrics.json records (columns fixed by docs/outputs.md).

frames = study_frames(records, names=["dm", "qr", "bar"])   # tidy: accuracy, models, decode, ...
display_tables(frames)                                      # wide, titled tables for a notebook
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yoloslim.config import ENGINES, latency_budget
from yoloslim.measure.bootstrap import INTERVAL_METRICS, interval
from yoloslim.shared import ACCURACY_METRICS

# mAP50, mAP50-95: over all detections; precision, recall, f1, mAP50_conf, mAP50-95_conf: at `conf`
# (yoloslim.measure.metrics); <metric>_lo, _hi: the 95 % bootstrap interval (yoloslim.measure.bootstrap)
DELTAS = ("mAP50", "mAP50-95")
ACCURACY_COLUMNS = ["model", "label", "split", "class", "conf", *ACCURACY_METRICS, "instances",
                    *[f"delta_{m}" for m in DELTAS],
                    *[f"{m}_{end}" for m in INTERVAL_METRICS for end in ("lo", "hi")],
                    *[f"delta_{m}_{end}" for m in DELTAS for end in ("lo", "hi")]]  # fmt: skip
BUDGET_COLUMNS = ["target_engine", "target_latency", "target_latency_ms", "meets_budget"]  # `budget_status`
MODEL_COLUMNS = ["model", "label", "kind", "imgsz", "size_pt_mb", "size_onnx_mb", "params_m", "gflops",
                 *[f"{e}_{c}" for e in ENGINES for c in ("ms", "p90_ms", "precision")], *BUDGET_COLUMNS]  # fmt: skip
INT8_COLUMNS = ["model", "label", "engine", "split", "class", "mAP50", "mAP50-95", "fp32_mAP50", "fp32_mAP50-95",
                "drop_mAP50", "drop_mAP50-95", "drop_mAP50-95_lo", "drop_mAP50-95_hi"]  # fmt: skip
DECODE_COLUMNS = ["model", "class", "gt_codes", "decoded", "decode_rate", "gt_decodable", "decode_rate_vs_decodable",
                  "detections", "detections_decoded", "detection_decode_fraction"]  # fmt: skip
OPERATOR_COLUMNS = ["model", "label", "operator", "ms"]
# models.csv's meets_budget by `budget_status`: yes (the latency's interval within the budget), borderline (the
# budget inside the interval), no (the interval over it), unknown (not measured)
BUDGET_MARKS = {"met": "yes", "borderline": "borderline", "not met": "no", "unknown": "unknown"}


def study_frames(
    records: list[dict[str, Any]], names: list[str], budget: tuple[str, str | float] | None = None
) -> dict[str, pd.DataFrame]:
    """Tidy `accuracy` (deltas against the `base` record), `models` and `decode` tables of the records.

    Args:
        records (list[dict[str, Any]]): The models' metrics.json records, in table order.
        names (list[str]): The class names by class id.
        budget (tuple[str, str | float] | None): (engine, "20ms" or "0.6x" of the base record's latency) that
            `models` marks; None: unknown.

    Returns:
        (dict[str, pd.DataFrame]): `accuracy`, `accuracy_int8`, `models`, `decode` and `operators`.
    """
    return {
        "accuracy": accuracy_frame(records, names),
        "accuracy_int8": int8_frame(records, names),
        "models": models_frame(records, budget),
        "decode": decode_frame(records),
        "operators": operators_frame(records),
    }


def accuracy_frame(records: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """One row per model, split and class (the class names and `all`); deltas are NaN without a base model."""
    rows = [
        {"model": r["model"], "label": r["label"], "split": split, "class": cls, "conf": r["conf"],
         **_metrics(by_class.get(cls))}
        for r in records
        for split, by_class in r["accuracy"].items()
        for cls in [*names, "all"]
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
    base = frame[frame["model"] == "base"].set_index(["split", "class"])
    for metric in DELTAS:
        reference = [base[metric].get((s, c), np.nan) for s, c in zip(frame["split"], frame["class"], strict=True)]
        frame[f"delta_{metric}"] = frame[metric] - np.array(reference, dtype=float)
    return frame


def int8_frame(records: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """One row per model, INT8 engine, split and class: the INT8 model's mAP50 and mAP50-95, the FP32 checkpoint's on
    the same images, and the drop (INT8 - FP32, negative when quantisation costs accuracy); the drop's interval is
    filled in by `with_int8_intervals`."""
    rows = []
    for r in records:
        for engine, by_split in (r.get("accuracy_int8") or {}).items():
            for split, by_class in by_split.items():
                for cls in [*names, "all"]:
                    int8, fp32 = by_class.get(cls) or {}, r["accuracy"].get(split, {}).get(cls) or {}
                    row = {"model": r["model"], "label": r["label"], "engine": engine, "split": split, "class": cls}
                    for metric in DELTAS:
                        row[metric], row[f"fp32_{metric}"] = int8.get(metric, np.nan), fp32.get(metric, np.nan)
                        row[f"drop_{metric}"] = row[metric] - row[f"fp32_{metric}"]
                    rows.append(row)
    return pd.DataFrame(rows, columns=INT8_COLUMNS)


def with_int8_intervals(
    frame: pd.DataFrame,
    split: str,
    reps: dict[str, np.ndarray],
    int8_reps: dict[tuple[str, str], np.ndarray],
    names: list[str],
) -> pd.DataFrame:
    """`int8_frame`'s table with the 95 % interval of each drop on `split`, paired draw by draw (the same resampled
    images for the INT8 model and its FP32 checkpoint).

    Args:
        frame (pd.DataFrame): The INT8 table (`int8_frame`), left unchanged.
        split (str): The split whose rows are filled in.
        reps (dict[str, np.ndarray]): Model id -> its FP32 replicates, draws x classes x `INTERVAL_METRICS`.
        int8_reps (dict[tuple[str, str], np.ndarray]): (model id, engine) -> the INT8 model's replicates, drawn with
            the same image indices as `reps`.
        names (list[str]): The class names by class id.

    Returns:
        (pd.DataFrame): A copy of `frame` with `drop_mAP50-95_lo` and `_hi` filled in.
    """
    frame = frame.copy()
    classes = [*names, "all"]
    j = INTERVAL_METRICS.index("mAP50-95")
    for (model, engine), samples in int8_reps.items():
        rows = (frame["model"] == model) & (frame["engine"] == engine) & (frame["split"] == split)
        order = [classes.index(c) for c in frame.loc[rows, "class"]]
        lo, hi = interval(samples - reps[model])
        frame.loc[rows, "drop_mAP50-95_lo"], frame.loc[rows, "drop_mAP50-95_hi"] = lo[order, j], hi[order, j]
    return frame


def with_intervals(accuracy: pd.DataFrame, split: str, reps: dict[str, np.ndarray], names: list[str]) -> pd.DataFrame:
    """`accuracy` with the 95 % intervals of `split`'s rows filled in from bootstrap replicates; a model's differences
    from `base` are paired draw by draw.

    Args:
        accuracy (pd.DataFrame): The accuracy table (`accuracy_frame`), left unchanged.
        split (str): The split whose rows are filled in.
        reps (dict[str, np.ndarray]): Model id -> its replicates, draws x classes x `INTERVAL_METRICS`.
        names (list[str]): The class names by class id (the replicates' classes are these, then `all`).

    Returns:
        (pd.DataFrame): A copy of `accuracy` with `<metric>_lo`, `<metric>_hi` and, with a `base` model, the deltas'
            bounds filled in.
    """
    accuracy = accuracy.copy()
    classes = [*names, "all"]
    for model, samples in reps.items():
        rows = (accuracy["model"] == model) & (accuracy["split"] == split)
        index = accuracy[rows].set_index("class").index
        order = [classes.index(c) for c in index]
        lo, hi = interval(samples)
        for j, metric in enumerate(INTERVAL_METRICS):
            accuracy.loc[rows, f"{metric}_lo"], accuracy.loc[rows, f"{metric}_hi"] = lo[order, j], hi[order, j]
        if "base" in reps:
            lo, hi = interval(samples - reps["base"])
            for metric in DELTAS:
                j = INTERVAL_METRICS.index(metric)
                accuracy.loc[rows, f"delta_{metric}_lo"] = lo[order, j]
                accuracy.loc[rows, f"delta_{metric}_hi"] = hi[order, j]
    return accuracy


def models_frame(records: list[dict[str, Any]], budget: tuple[str, str | float] | None = None) -> pd.DataFrame:
    """One row per model: sizes, params (millions), GFLOPs, latency median and p90 per engine with the precision the
    engine ran, the budget mark."""
    engine, target = budget or ("-", "-")
    target_ms = budget_ms(records, engine, target) if budget else np.nan
    value, relative = latency_budget(target) if budget else (np.nan, False)
    factor = value if relative else None  # a relative budget is judged on the ratio's interval
    rows = []
    for r in records:
        row = {
            "model": r["model"],
            "label": r["label"],
            "kind": r["kind"],
            "imgsz": r["imgsz"],
            "size_pt_mb": r["size_pt_mb"],
            "size_onnx_mb": r["size_onnx_mb"],
            "params_m": r["params"] / 1e6,
            "gflops": r["gflops"],
        }
        for name in ENGINES:
            timing = r["latency"].get(name) or {}
            row[f"{name}_ms"] = timing.get("median_ms", np.nan)
            row[f"{name}_p90_ms"] = timing.get("p90_ms", np.nan)
            row[f"{name}_precision"] = timing.get("precision", "")
        status = budget_status(r["latency"], engine, target_ms, factor)["status"]
        rows.append({**row, "target_engine": engine, "target_latency": str(target), "target_latency_ms": target_ms,
                     "meets_budget": BUDGET_MARKS[status]})  # fmt: skip
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def budget_ms(records: list[dict[str, Any]], engine: str, target: str | float) -> float:
    """The budget in milliseconds: as given ("20ms"), or a factor ("0.6x") of the `base` record's median latency
    on `engine`.

    Args:
        records (list[dict[str, Any]]): The models' metrics.json records.
        engine (str): The engine of a relative budget's base latency.
        target (str | float): The budget: "20ms" (or 20), or "0.6x".

    Returns:
        (float): The budget in milliseconds; NaN when it is relative and the base model or that engine was not
            measured.
    """
    value, relative = latency_budget(target)
    if not relative:
        return value
    base = next((r for r in records if r["model"] == "base"), None)
    median = (base["latency"].get(engine) or {}).get("median_ms") if base else None
    return value * median if median is not None else np.nan


def budget_status(
    latency: dict[str, dict | None], engine: str, target_ms: float, factor: float | None = None
) -> dict[str, Any]:
    """The budget rule of the tables, the summary and the search alike: *met* when the upper end of the latency's
    95 % interval is within the budget, *not met* when its lower end is over it, *borderline* otherwise; a latency
    measured without an interval is judged by its median; unmeasured (either of them): unknown.

    Args:
        latency (dict[str, dict | None]): A record's latency per engine (None or missing: not measured); an
            interleaved measurement has `lo_ms`, `hi_ms` and its ratio to the base model's `ratio_lo`, `ratio_hi`.
        engine (str): The engine of the budget.
        target_ms (float): The budget in milliseconds (NaN: unknown).
        factor (float | None): A relative budget's factor of the base model's latency ("0.6x": 0.6): then the
            ratio's interval is judged against it, where measured (the ratio is paired round by round).

    Returns:
        (dict[str, Any]): {"engine", "target_ms", "median_ms", "status": "met", "borderline", "not met" or
            "unknown", "meets"}.
    """
    measured = latency.get(engine) or {}
    median = measured.get("median_ms")  # none: not measured, or not timed (a study's evaluation, `evaluate_weights`)
    status = "unknown"
    if median is not None and not np.isnan(target_ms):
        if factor is not None and measured.get("ratio_lo") is not None:
            lo, hi, limit = measured["ratio_lo"], measured["ratio_hi"], factor
        else:
            lo, hi, limit = measured.get("lo_ms", median), measured.get("hi_ms", median), target_ms
        status = "met" if hi <= limit else ("not met" if lo > limit else "borderline")
    return {"engine": engine, "target_ms": target_ms, "median_ms": median, "status": status, "meets": status == "met"}


def decode_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model and decoded class (and `all`): decode rate over ground-truth codes and over those that
    decode from their own box (NaN when none does, or without payload ground truth), decoding detections. No rows
    (the columns only) when no decode rate was measured (a record's `decode` is None: no code classes)."""
    rows = [
        {"model": r["model"], "class": cls, **counts}
        for r in records
        for cls, counts in (r.get("decode") or {}).get("rows", {}).items()
    ]
    frame = pd.DataFrame(rows, columns=DECODE_COLUMNS)
    frame[DECODE_COLUMNS[2:]] = frame[DECODE_COLUMNS[2:]].apply(pd.to_numeric)  # None (no payloads) -> NaN
    return frame


def operators_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model and ONNX operator type: milliseconds per inference on ONNX Runtime's CPU provider
    (`yoloslim.measure.profile`; a record without a profile has no rows)."""
    rows = [
        {"model": r["model"], "label": r["label"], "operator": op, "ms": ms}
        for r in records
        for op, ms in (r.get("onnx_operators") or {}).items()
    ]
    return pd.DataFrame(rows, columns=OPERATOR_COLUMNS)


def display_tables(frames: dict[str, pd.DataFrame], only: str | None = None) -> dict[str, pd.DataFrame]:
    """Wide tables for reading: per split mAP50/mAP50-95 per class, their deltas, models, decode rates.

    `only`: keep that model's rows (the base model stays out of its tables, but its numbers made the deltas), and
    leave out what it was not measured for: the latency columns and the operator profile of a study's evaluation,
    which the study's tables time (`yoloslim.eval.stage.write_tables`).
    """
    acc, models, decode, ops = frames["accuracy"], frames["models"], frames["decode"], frames["operators"]
    if only is not None:
        acc, models, decode, ops = (
            acc[acc["model"] == only],
            models[models["model"] == only],
            decode[decode["model"] == only],
            ops[ops["model"] == only],
        )
    tables: dict[str, pd.DataFrame] = {}
    for split in acc["split"].unique():
        part = acc[acc["split"] == split]
        tables[f"accuracy ({split})"] = _wide(part, ["mAP50", "mAP50-95", "precision", "recall", "f1"])
        tables[f"delta vs base ({split})"] = _wide(part, ["delta_mAP50", "delta_mAP50-95"])
    models = models.set_index("label").drop(columns=["model"]).round(3)
    if only is not None and models[[f"{e}_ms" for e in ENGINES]].isna().all(axis=None):  # not timed: no budget mark
        models = models.drop(columns=BUDGET_COLUMNS)
        models = models.dropna(axis=1, how="all")
    tables["size, params, FLOPs, latency"] = models
    if only is None or not ops.empty:
        tables["ONNX CPU ms by operator"] = ops.pivot_table(
            index="label", columns="operator", values="ms", sort=False, aggfunc="first"
        ).round(3)
    if not decode.empty:  # measured for the code classes only (eval.decode)
        tables["decode rate"] = decode.pivot_table(
            index="model",
            columns="class",
            values=["decode_rate", "decode_rate_vs_decodable", "detection_decode_fraction"],
            sort=False,
            dropna=False,
        ).round(3)
    return tables


def format_result(result: dict[str, Any], names: list[str]) -> str:
    """One `evaluate_weights` result as plain-text tables (what `yoloslim eval` prints)."""
    record = {"model": "model", "label": Path(result["weights"]).name, "kind": "-", **result}
    frames = study_frames([record], names)
    env = result["environment"]
    lines = [f"{result['weights']} at imgsz {result['imgsz']}, conf {result['conf']}, iou {result['iou']}"]
    lines.append(f"CPU {env['cpu']}, {env['threads']} threads, CUDA {env['cuda_device'] or 'none'}")
    lines += [f"{engine}: {note}" for engine, note in result["latency_notes"].items()]
    accuracy = frames["accuracy"]
    for split in accuracy["split"].unique():
        table = accuracy[accuracy["split"] == split].set_index("class")[list(ACCURACY_METRICS)]
        lines += ["", f"== accuracy ({split}) ==", table.round(3).to_string()]
    for (engine, split), rows in frames["accuracy_int8"].groupby(["engine", "split"], sort=False):
        table = rows.set_index("class")[["mAP50", "mAP50-95", "fp32_mAP50-95", "drop_mAP50-95"]]
        lines += ["", f"== INT8 on {engine} ({split}) ==", table.round(3).to_string()]
    models = frames["models"].drop(columns=["model", "label", "kind", *BUDGET_COLUMNS])
    lines += ["", "== size, params, FLOPs, latency ==", models.T.round(3).to_string(header=False)]
    if result.get("decode"):  # None: no code classes, no decode rate
        decode = frames["decode"].drop(columns=["model"]).set_index("class")
        lines += ["", f"== decode rate ({result['decode']['split']}) ==", decode.round(3).to_string()]
    return "\n".join(lines)


def _wide(part: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Rows: model labels; columns: (class, metric)."""
    wide = part.pivot_table(index="label", columns="class", values=metrics, sort=False, dropna=False)
    return wide.swaplevel(axis=1).reindex(columns=part["class"].unique(), level=0).round(3)


def _metrics(row: dict[str, Any] | None) -> dict[str, float]:
    """The accuracy numbers and instances of one class (NaN when the class is missing)."""
    row = row or {}
    return {k: row.get(k, np.nan) for k in (*ACCURACY_METRICS, "instances")}
