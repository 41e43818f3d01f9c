"""The report's numbers: the stages' results files loaded into tables (docs/outputs.md is the contract).

Nothing here measures or trains; every value comes from a file under `runs/<config>/`.

    data = load_report_data(cfg)
    accuracy_tables(data, "val", "en")  # per-class mAP / mmAP, P / R / F1 at eval.conf, the original's metric
    model_table(data, "en")           # size, params, FLOPs, latency per engine, ratios to the base, budget mark
    pareto_front(x, y)                # indices of the models no other model beats on both axes
    column_chunks(table)              # a per-class table of many classes as several, none wider than the page
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yoloslim.config import ENGINES, Config, data_source, decode_classes, latency_budget
from yoloslim.measure.bootstrap import INTERVAL_METRICS, interval, load_replicates
from yoloslim.paths import StudyPaths
from yoloslim.shared import BETWEEN, TEST_ONLY, fractions_under
from yoloslim.study import StudyModel, finetune_jobs, prune_jobs, seed_of, study_models
from yoloslim.text import say, text
from yoloslim.train.budget import SGD_MOMENTUM, seed_plan

MAP_COLUMN = "metrics/mAP50-95(B)"  # Ultralytics' results.csv column of the validation mmAP
TABLE_COLUMNS = 12  # the most value columns a report table shows side by side (column_chunks); the demo's widest
# per-class table (P, R, F1 of three classes and all) has 12
INTERVAL_COLUMNS = 6  # the most side by side when each cell holds a value and its interval ("0.600 [0.560,0.660]",
# wrapped under the value): 8 of them ran past an A4 page's edge
MODEL_HEADERS = {  # the models.csv columns (yoloslim.eval.tables.MODEL_COLUMNS) the report shows -> their header
    "imgsz": "imgsz",
    "size_pt_mb": ".pt (MB)",
    "size_onnx_mb": ".onnx (MB)",
    "params_m": "params (M)",
    "gflops": "GFLOPs",
    "torch_cpu_ms": "torch CPU (ms)",
    "onnx_cpu_ms": "ONNX CPU (ms)",
    "torch_cuda_ms": "torch CUDA (ms)",
}


@dataclass
class ReportData:
    """Every results file of one study, loaded."""

    cfg: Config
    paths: StudyPaths
    models: list[StudyModel]
    counts: pd.DataFrame  # data/counts.csv
    data_summary: dict[str, Any]  # data/summary.json
    accuracy: pd.DataFrame  # eval/accuracy.csv
    accuracy_int8: pd.DataFrame  # eval/accuracy_int8.csv
    table: pd.DataFrame  # eval/models.csv
    decode: pd.DataFrame  # eval/decode.csv (no rows when no decode rate was measured: no code classes)
    operators: pd.DataFrame  # eval/onnx_operators.csv
    interleaved: pd.DataFrame  # eval/latency_interleaved.csv
    environment: dict[str, Any]  # eval/environment.json
    sparse: dict[str, Any]  # sparse/metrics.json
    gamma_log: pd.DataFrame  # sparse/gamma_log.csv
    prune: dict[str, dict[str, Any]]  # target -> prune/<target>/metrics.json
    ratios: dict[str, pd.DataFrame]  # target -> prune/<target>/ratios.csv
    layers: dict[str, pd.DataFrame]  # target -> prune/<target>/layers.csv
    curves: dict[str, pd.DataFrame]  # trained model id -> its results.csv
    replicates: dict[str, dict[str, np.ndarray]]  # split -> model id -> eval/bootstrap_<split>.npz (may be empty)
    costs: dict[str, dict[str, Any]]  # finetune.compare target -> the step costs in its -longer model's metrics.json
    seeds: dict[str, Any]  # eval/seeds.json: the runs of each seeded model and the spread between them

    @property
    def labels(self) -> dict[str, str]:
        """Model id -> report label, in report order."""
        return {m.id: m.label for m in self.models}


def read_csv(path: Path) -> pd.DataFrame:
    """A results CSV; a missing file is an error naming it and the stage that writes it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: results file missing (see docs/outputs.md for the stage that writes it)")
    frame = pd.read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_json(path: Path) -> dict[str, Any]:
    """A results JSON; a missing file is an error naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: results file missing (see docs/outputs.md for the stage that writes it)")
    return json.loads(path.read_text())


def load_report_data(cfg: Config) -> ReportData:
    """Load every results file the report shows."""
    paths = StudyPaths.of(cfg)
    models = study_models(cfg)
    targets = [t for t in prune_jobs(cfg) if not seed_of(t)]  # each target and its controls (a redraw's run aside)
    trained = {"base": paths.train("base"), **{v.name: paths.train(v.name) for v in cfg.trained_variants}}
    trained.update({mid: paths.finetune(mid) for mid in finetune_jobs(cfg)})
    trained["sparse"] = paths.sparse
    return ReportData(
        cfg=cfg,
        paths=paths,
        models=models,
        counts=read_csv(paths.data.counts).fillna({"source": ""}),
        data_summary=read_json(paths.data.summary),
        accuracy=read_csv(paths.eval_tables.accuracy),
        accuracy_int8=read_csv(paths.eval_tables.accuracy_int8),
        table=read_csv(paths.eval_tables.models),
        decode=read_csv(paths.eval_tables.decode),
        operators=read_csv(paths.eval_tables.operators),
        interleaved=read_csv(paths.eval_tables.interleaved),
        environment=read_json(paths.eval_tables.environment),
        sparse=read_json(paths.sparse.metrics),
        gamma_log=read_csv(paths.sparse.gamma_log),
        prune={t: read_json(paths.prune(t).metrics) for t in targets},
        ratios={t: read_csv(paths.prune(t).ratios) for t in targets},
        layers={t: read_csv(paths.prune(t).layers) for t in targets},
        curves={mid: read_csv(files.results) for mid, files in trained.items()},
        replicates={
            split: load_replicates(paths.eval_tables.bootstrap(split))
            for split in cfg.eval.splits
            if paths.eval_tables.bootstrap(split).is_file()
        },
        costs={t: read_json(paths.finetune(t, "longer").metrics)["cost"] for t in cfg.finetune.compare},
        seeds=read_json(paths.eval_tables.seeds),
    )


def column_chunks(frame: pd.DataFrame, max_columns: int = TABLE_COLUMNS) -> list[pd.DataFrame]:
    """A table too wide for the page as several tables of the same rows, each of at most `max_columns` columns and
    whole column groups: a (class, metric) table is cut between classes, never inside one (a group wider than
    `max_columns` stands alone). A table that fits is returned as it is.

    Args:
        frame (pd.DataFrame): The table (its columns one level, or two: group, then column).
        max_columns (int): The most columns of one part.

    Returns:
        (list[pd.DataFrame]): The parts, left to right; [frame] when it fits.
    """
    if frame.shape[1] <= max_columns:
        return [frame]
    groups = list(dict.fromkeys(frame.columns.get_level_values(0)))
    sizes = frame.columns.get_level_values(0).value_counts()
    parts: list[list] = [[]]
    for group in groups:
        if parts[-1] and sum(sizes[g] for g in parts[-1]) + sizes[group] > max_columns:
            parts.append([])
        parts[-1].append(group)
    if frame.columns.nlevels == 1:
        return [frame[part] for part in parts]
    return [frame.loc[:, frame.columns.get_level_values(0).isin(part)] for part in parts]


LISTED_CLASSES = 8  # the data paragraph lists every class's boxes up to this many classes, else the fewest


def data_facts(data: ReportData, lang: str = "en") -> dict[str, Any]:
    """summary.json's numbers for the data paragraph, instances listed per class (with more than `LISTED_CLASSES`
    classes: their total and the classes with the fewest, whose intervals are widest; every class is in the tables)."""

    def listing(counts: dict[str, int]) -> str:
        if len(counts) <= LISTED_CLASSES:
            return ", ".join(f"{name} {count:,}" for name, count in counts.items())
        fewest = sorted(counts.items(), key=lambda item: item[1])[:LISTED_CLASSES]
        named = ", ".join(f"{name} {count:,}" for name, count in fewest)
        return text(lang, "instances_many", classes=len(counts), boxes=sum(counts.values()), fewest=named)

    test = data.data_summary.get("split_instances", {}).get("test", {})
    return {**data.data_summary, "instances": listing(data.data_summary["instances"]), "test_instances": listing(test)}


def split_sentences(data: ReportData, lang: str) -> str:
    """How the data set was split: per source by the configured ratio, or the data set's own splits (and a warning
    when it has no test split)."""
    cfg = data.cfg
    source = data_source(cfg)
    if source in ("synth", "tree"):
        return text(lang, "split", ratio=":".join(f"{r:g}" for r in cfg.data.split))
    splits = {split: 0 for split in ("train", "val", "test")} | data.data_summary.get("splits", {})
    kind = {"yaml": "Ultralytics data YAML", "coco": "COCO JSON", "voc": "Pascal VOC"}[source]
    sentence = text(lang, "split_given", source=kind, where=cfg.data.yaml or cfg.data.root, **splits)
    return sentence if splits["test"] else f"{text(lang, 'no_test_split')}\n\n{sentence}"


def base_sentence(data: ReportData, lang: str) -> str:
    """Where the base model came from when it is a checkpoint the user trained, and that the study has no
    uniform-width baselines when it has none (empty otherwise)."""
    sentences = []
    if data.cfg.model.base == "weights":
        metrics = json.loads(data.paths.train("base").metrics.read_text())
        sentences.append(text(lang, "base_from_weights", weights=data.cfg.model.weights, epochs=metrics["epochs"]))
    if not data.cfg.train.variants:
        sentences.append(text(lang, "no_variants"))
    return " ".join(sentences)


def test_only_facts(data: ReportData) -> dict[str, Any] | None:
    """The synthetic test-only images for the data paragraph (count, seed, main set size); None without them."""
    if TEST_ONLY not in data.counts.columns or not data.counts[TEST_ONLY].sum():
        return None
    synth = data.cfg.data.synth
    return {"count": int(data.counts[TEST_ONLY].sum()), "seed": synth.test_seed, "images": synth.images}


def budget_of(data: ReportData) -> tuple[str, float]:
    """The latency budget's engine and milliseconds, as models.csv records them."""
    row = data.table.iloc[0]
    return str(row["target_engine"]), float(row["target_latency_ms"])


def budget_label(data: ReportData, lang: str) -> str:
    """The budget in words: "10 ms", or "0.6× the base model's latency (2.41 ms)" for a relative one."""
    row = data.table.iloc[0]
    ms = float(row["target_latency_ms"])
    value, relative = latency_budget(row["target_latency"])
    ms_text = "—" if np.isnan(ms) else f"{ms:.3g}"
    return text(lang, "budget_relative", factor=value, ms=ms_text) if relative else f"{ms_text} ms"


def report_split(data: ReportData) -> str:
    """The split the summary judges by: test when it was measured, else val."""
    return "test" if "test" in set(data.accuracy["split"]) else "val"


def accuracy_table(data: ReportData, split: str, metrics: dict[str, str] | None = None) -> pd.DataFrame:
    """Per class (and all), for every model on `split`: `metrics`; rows are labels in report order.

    Args:
        data (ReportData): The study's results (accuracy.csv).
        split (str): The split shown.
        metrics (dict[str, str] | None): accuracy.csv column -> header; None: the standard mAP and mmAP over all
            detections.

    Returns:
        (pd.DataFrame): Columns (class, header), rows the model labels.
    """
    metrics = metrics or {"mAP50": "mAP", "mAP50-95": "mmAP"}
    rows = data.accuracy[data.accuracy["split"] == split]
    table = rows.pivot_table(index="model", columns="class", values=list(metrics), aggfunc="first")
    table = table.rename(columns=metrics).swaplevel(axis=1)
    classes = [c for c in [*data.cfg.data.names, "all"] if c in table.columns.get_level_values(0)]
    table = table.reindex(columns=pd.MultiIndex.from_product([classes, list(metrics.values())]))
    order = [m for m in data.labels if m in table.index]
    return table.loc[order].rename(index=data.labels).rename_axis(None)


def accuracy_tables(data: ReportData, split: str, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) for `split`: the standard mAP, the operating point at eval.conf, the original's metric.

    Where the tables stage computed bootstrap intervals, the first two show each value as `v [lo,hi]`, with its
    95 % interval.

    Args:
        data (ReportData): The study's results.
        split (str): The split shown.
        lang (str): The captions' language.

    Returns:
        (list[tuple[str, pd.DataFrame]]): The three tables with their captions.
    """
    conf = data.cfg.eval.conf
    standard = {"mAP50": "mAP", "mAP50-95": "mmAP"}
    operating = {"precision": "P", "recall": "R", "f1": "F1"}
    original = {"mAP50_conf": "mAP", "mAP50-95_conf": "mmAP"}
    note = f" {text(lang, 'interval_note', draws=data.cfg.eval.bootstrap)}" if has_intervals(data) else ""
    rows = data.accuracy[data.accuracy["split"] == split]
    undefined = (rows["precision"].isna() & (rows["instances"] > 0)).any()  # no detection at conf: no precision
    footnote = f" {text(lang, 'precision_undefined', conf=conf)}" if undefined else ""
    return [
        (text(lang, "acc_standard") + note, _with_spread(data, split, standard)),
        (text(lang, "acc_operating", conf=conf) + note + footnote, _with_spread(data, split, operating)),
        (text(lang, "acc_original", conf=conf), accuracy_table(data, split, original)),
    ]


def has_intervals(data: ReportData) -> bool:
    """Whether accuracy.csv holds bootstrap intervals."""
    return "mAP50_lo" in data.accuracy and data.accuracy["mAP50_lo"].notna().any()


def _with_spread(data: ReportData, split: str, metrics: dict[str, str]) -> pd.DataFrame:
    """`accuracy_table` with each cell as "value [lo,hi]", its 95 % interval as measured (a percentile interval is not
    symmetric; no space inside the brackets, so a narrow column breaks the line only before them); plain values
    without intervals."""
    values = accuracy_table(data, split, metrics)
    if not has_intervals(data):
        return values
    lo = accuracy_table(data, split, {f"{k}_lo": v for k, v in metrics.items()})
    hi = accuracy_table(data, split, {f"{k}_hi": v for k, v in metrics.items()})
    ends = zip(lo.to_numpy(dtype=float).ravel(), hi.to_numpy(dtype=float).ravel(), strict=True)  # as `values`
    cells = [
        "—" if np.isnan(v) else f"{v:.3f}" if np.isnan(a) or np.isnan(b) else f"{v:.3f} [{a:.3f},{b:.3f}]"
        for v, (a, b) in zip(values.to_numpy(dtype=float).ravel(), ends, strict=True)
    ]  # cell by cell over the arrays: a table of 80 classes has thousands of cells
    return pd.DataFrame(np.array(cells, dtype=object).reshape(values.shape), index=values.index, columns=values.columns)


def class_costs(data: ReportData, split: str, metric: str = "mAP50-95") -> pd.DataFrame:
    """Drop of `metric` per class (base minus model; positive means worse) of every model but the base.

    Args:
        data (ReportData): The study's results (accuracy.csv; a `base` model must be among them).
        split (str): The split compared on.
        metric (str): The accuracy.csv column compared.

    Returns:
        (pd.DataFrame): Rows the models' labels, columns the classes (and all), rounded to 4 places.
    """
    table = accuracy_table(data, split, {metric: metric}).xs(metric, axis=1, level=1)
    base = data.labels["base"]
    return (table.loc[base] - table.drop(index=base)).round(4)


def collapsed_classes(data: ReportData, split: str) -> list[tuple[str, str, float]]:
    """(model label, class, drop) for every class that fell apart while the average did not.

    A class collapses when its recall at the deployment threshold (eval.conf) drops more than the model's mean
    recall (when that drops) by more than `report.collapse_margin`: a detector that stops finding one class shows
    there first, and a uniform loss over every class is a cost, not a collapse.
    """
    costs = class_costs(data, split, "recall")
    margin = data.cfg.report.collapse_margin
    collapsed = []
    for model, row in costs.iterrows():
        average = max(float(row.get("all", 0.0)), 0.0)
        collapsed += [(model, c, float(v)) for c, v in row.drop("all", errors="ignore").items() if v - average > margin]
    return collapsed


def collapse_interval(data: ReportData, split: str, label: str, cls: str) -> tuple[float, float] | None:
    """The 95 % interval of a class's collapse: its recall drop (base minus model, at eval.conf) less the model's
    average drop (when that drops), paired by image over the bootstrap's draws; None without replicates of both."""
    ids = {v: k for k, v in data.labels.items()}
    reps = data.replicates.get(split, {})
    model = ids.get(label)
    if model not in reps or "base" not in reps:
        return None
    j, c = INTERVAL_METRICS.index("recall"), list(data.cfg.data.names).index(cls)
    drop = reps["base"][:, :, j] - reps[model][:, :, j]  # (draws, classes + all)
    excess = drop[:, c] - np.maximum(drop[:, -1], 0.0)
    lo, hi = interval(excess[np.isfinite(excess)])
    return float(lo), float(hi)


def ratio_table(data: ReportData) -> pd.DataFrame:
    """Pruned fraction of channels and parameters per part (backbone, head, overall) of each model: the pruned
    models' ratios.csv, and each variant counted against the base model."""
    from ultralytics.nn.tasks import load_checkpoint

    from yoloslim.prune.tables import model_ratios

    frames = {target_labels(data)[target]: frame for target, frame in data.ratios.items()}
    base = load_checkpoint(data.paths.train("base").weights)[0]
    for v in data.cfg.train.variants:
        frames[v.label] = model_ratios(base, load_checkpoint(data.paths.train(v.weights_of).weights)[0])
    rows = {}
    for label, frame in frames.items():
        parts = frame.set_index("part")
        rows[label] = {
            (part, kind): parts.loc[part, f"{kind}_ratio"] for part in parts.index for kind in ("channel", "param")
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1, level=0, key=_part_order)


def target_labels(data: ReportData) -> dict[str, str]:
    """Prune target -> label of its pruned structure (its inherit model's label, else the first one's)."""
    labels: dict[str, str] = {}
    for model_id, (target, init) in finetune_jobs(data.cfg).items():
        if target not in labels or init == "inherit":
            labels[target] = data.labels[model_id]
    return labels


def _part_order(index: pd.Index) -> pd.Index:
    """Sort key putting backbone, head, overall in that order."""
    return index.map({"backbone": 0, "head": 1, "overall": 2}.get)


def model_table(data: ReportData, lang: str = "en") -> pd.DataFrame:
    """models.csv in report order with labels as index; each model's FLOPs and target-engine latency as fractions
    of the base model's (side by side: fewer FLOPs are not proportionally faster), and a budget column (✓ within,
    ✗ over, ? unmeasured)."""
    table = data.table.set_index("model").loc[[m for m in data.labels if m in set(data.table["model"])]]
    out = table[list(MODEL_HEADERS)].rename(columns=MODEL_HEADERS)
    if "base" in table.index:
        engine = str(table["target_engine"].iloc[0])
        out[text(lang, "flops_ratio")] = table["gflops"] / table.loc["base", "gflops"]
        if f"{engine}_ms" in table:
            out[text(lang, "latency_ratio", engine=engine)] = table[f"{engine}_ms"] / table.loc["base", f"{engine}_ms"]
    out[text(lang, "budget")] = [budget_mark(row) for _, row in table.iterrows()]
    return out.rename(index=data.labels).rename_axis(None)


def interleaved_caption(data: ReportData, lang: str) -> str:
    """What the interleaved table's intervals cover: the rounds of one process, or, measured in several fresh
    processes (`eval.processes`), a re-measurement in another."""
    processes = data.cfg.eval.processes
    note = text(lang, "interleaved_note", runs=data.cfg.eval.latency.runs)
    return (
        note
        + " "
        + (text(lang, "interleaved_processes", n=processes) if processes > 1 else text(lang, "interleaved_one"))
    )


def interleaved_table(data: ReportData, lang: str) -> pd.DataFrame:
    """Latency measured interleaved, engine by engine: median ms and its ratio to the base model on the same engine,
    each with its 95 % interval; rows are labels in report order, columns (engine, ms | ratio), headers in `lang`."""
    ratio = text(lang, "ratio_to_base")
    columns = {}
    for engine, rows in data.interleaved.groupby("engine", sort=False):
        rows = rows.set_index("model")
        # no space inside the brackets: a narrow page wraps the interval whole under its value, not in two
        columns[(engine, "ms")] = {m: f"{rows.loc[m, 'median_ms']:.2f} [{rows.loc[m, 'lo_ms']:.2f},"
                                      f"{rows.loc[m, 'hi_ms']:.2f}]" for m in rows.index}  # fmt: skip
        columns[(engine, ratio)] = {m: f"{rows.loc[m, 'ratio']:.2f} [{rows.loc[m, 'ratio_lo']:.2f},"
                                       f"{rows.loc[m, 'ratio_hi']:.2f}]" for m in rows.index}  # fmt: skip
    frame = pd.DataFrame(columns)
    frame = frame.loc[[m for m in data.labels if m in frame.index]] if len(frame) else frame
    return frame.rename(index=data.labels).fillna(text(lang, "not_measured_cell"))


def operator_table(data: ReportData, lang: str, top: int = 6) -> pd.DataFrame:
    """ONNX Runtime CPU milliseconds per inference of each model: the `top` operator types of the base model (the
    slowest first), the other operators, the time between operators, their total (profiled), and the latency without
    the profiler (models.csv's onnx_cpu_ms, interleaved where measured so); rows are labels.

    Args:
        data (ReportData): The study's results (onnx_operators.csv).
        lang (str): The language of the last three headers.
        top (int): The operator types shown by name (the base model's slowest; without a base model, the mean's).

    Returns:
        (pd.DataFrame): The table; empty when no model was profiled.
    """
    ops = data.operators
    if ops.empty:
        return pd.DataFrame()
    wide = ops.pivot_table(index="model", columns="operator", values="ms", aggfunc="first").fillna(0.0)
    reference = wide.loc["base"] if "base" in wide.index else wide.mean()
    kernels = reference.drop(BETWEEN, errors="ignore").sort_values(ascending=False)
    shown = list(kernels.index[:top])
    table = wide[shown].copy()
    table[text(lang, "operators_other")] = wide.drop(columns=[*shown, BETWEEN], errors="ignore").sum(axis=1)
    if BETWEEN in wide:
        table[text(lang, "between_operators")] = wide[BETWEEN]
    table[text(lang, "operators_total")] = wide.sum(axis=1)
    table[text(lang, "operators_unprofiled")] = data.table.set_index("model")["onnx_cpu_ms"].reindex(table.index)
    order = [m for m in data.labels if m in table.index]
    return table.loc[order].rename(index=data.labels).rename_axis(None)


def budget_mark(row: pd.Series) -> str:
    """✓ met / ≈ borderline / ✗ not met against the row's own target engine and budget (`budget_status`), ? when
    that latency was not measured."""
    latency = row.get(f"{row['target_engine']}_ms")
    if latency is None or pd.isna(latency):
        return "?"
    return "≈" if str(row["meets_budget"]).strip().lower() == "borderline" else ("✓" if meets_budget(row) else "✗")


def meets_budget(row: pd.Series) -> bool:
    """Whether a models.csv row meets its latency budget (its `meets_budget` column)."""
    return str(row["meets_budget"]).strip().lower() in ("true", "1", "1.0", "yes")


def measured_engines(data: ReportData) -> list[str]:
    """The engines at least one model was timed on, in `ENGINES` order."""
    return [e for e in ENGINES if _timed(data, e)]


def engine_table(data: ReportData, lang: str) -> pd.DataFrame:
    """Median latency of every model on every engine it was timed on, with its ratio to the base model on the same
    engine and precision; each header names the engine and the precision the engine actually ran (read back from
    the compiled model or the graph, `yoloslim.measure.engines`). Rows are labels in report order."""
    table = data.table.set_index("model")
    order = [m for m in data.labels if m in table.index]
    columns = {}
    for engine in measured_engines(data):
        ran = table.get(f"{engine}_precision", pd.Series(dtype=str)).dropna().astype(str)
        header = f"{engine} ({'/'.join(sorted(set(ran) - {''})) or '?'})"
        base = table.loc["base", f"{engine}_ms"] if "base" in table.index else np.nan
        columns[header] = [_ms_and_ratio(table.loc[m, f"{engine}_ms"], base, lang) for m in order]
    return pd.DataFrame(columns, index=[data.labels[m] for m in order])


def _ms_and_ratio(ms: float, base: float, lang: str) -> str:
    """`2.31 (0.62×)`: milliseconds and the ratio to the base model; not measured: a dash."""
    if not np.isfinite(ms):
        return text(lang, "not_measured_cell")
    return f"{ms:.2f} ({ms / base:.2f}×)" if np.isfinite(base) and base > 0 else f"{ms:.2f}"


def int8_tables(data: ReportData, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """Per INT8 engine and split: each model's mmAP in FP32 and INT8 and the drop with its paired 95 % interval (all
    classes), then the drop per class; (caption, table) pairs, empty when no INT8 model was validated."""
    frame = data.accuracy_int8
    out = []
    for (engine, split), rows in frame.groupby(["engine", "split"], sort=False):
        rows = rows.set_index("model")
        order = [m for m in data.labels if m in rows.index]
        overall = rows[rows["class"] == "all"]
        summary = pd.DataFrame(
            {
                "FP32 mmAP": [f"{overall.loc[m, 'fp32_mAP50-95']:.3f}" for m in order],
                "INT8 mmAP": [f"{overall.loc[m, 'mAP50-95']:.3f}" for m in order],
                text(lang, "int8_drop"): [_drop(overall.loc[m]) for m in order],
            },
            index=[data.labels[m] for m in order],
        )
        per_class = rows[rows["class"] != "all"].pivot(columns="class", values="drop_mAP50-95")
        per_class = per_class.loc[order, [c for c in data.cfg.data.names if c in per_class.columns]]
        out.append((text(lang, "int8_caption", engine=engine, split=split), summary))
        out.append((text(lang, "int8_per_class", engine=engine, split=split), per_class.rename(index=data.labels)))
    return out


def _drop(row: pd.Series) -> str:
    """The INT8 - FP32 mmAP difference, with its interval when measured: `-0.012 [-0.020, -0.004]`."""
    drop = f"{row['drop_mAP50-95']:+.3f}"
    if np.isfinite(row.get("drop_mAP50-95_lo", np.nan)):
        drop += f" [{row['drop_mAP50-95_lo']:+.3f}, {row['drop_mAP50-95_hi']:+.3f}]"
    return drop


def engine_facts(data: ReportData) -> list[dict[str, Any]]:
    """For each INT8 engine that timed the base model, and each pruned model: its latency ratio to the base model there,
    beside its ratio on ONNX Runtime FP32 and its INT8 mmAP drop on the first INT8-validated split (the summary's
    "does pruning still pay after INT8")."""
    table = data.table.set_index("model")
    facts = []
    for engine in (e for e in measured_engines(data) if e.endswith("_int8") and "base" in table.index):
        base = table.loc["base", f"{engine}_ms"]
        drops = data.accuracy_int8[(data.accuracy_int8["engine"] == engine) & (data.accuracy_int8["class"] == "all")]
        drops = drops.drop_duplicates("model").set_index("model")["drop_mAP50-95"]
        for m in (m.id for m in data.models if m.kind == "pruned" and m.id in table.index):
            fp32 = table.loc[m, "onnx_cpu_ms"] / table.loc["base", "onnx_cpu_ms"]
            facts.append({"engine": engine, "model": data.labels[m], "ratio": table.loc[m, f"{engine}_ms"] / base,
                          "fp32_ratio": fp32, "drop": drops.get(m, np.nan)})  # fmt: skip
    return facts


def unmeasured_engines(data: ReportData) -> list[str]:
    """Engines of `eval.engines` with no measurement for any model (e.g. torch_cuda on a CPU machine)."""
    return [e for e in data.cfg.eval.engines if not _timed(data, e)]


def _timed(data: ReportData, engine: str) -> bool:
    """Whether at least one model has a latency on `engine`."""
    return f"{engine}_ms" in data.table and data.table[f"{engine}_ms"].notna().any()


def has_decode(data: ReportData) -> bool:
    """Whether a decode rate was measured (the study has code classes: `yoloslim.config.decode_classes`); without
    one the report says nothing about decoding."""
    return not data.decode.empty


def _has_payloads(data: ReportData) -> bool:
    """Whether the decode rate was measured against payload ground truth (the synthetic set writes it); without it
    only the share of detections that decode is known."""
    return "decode_rate" in data.decode and data.decode["decode_rate"].notna().any()


def decode_intro(data: ReportData, lang: str) -> str:
    """The decode table's introduction: the decoded classes with the symbology each must decode as (`dm: DataMatrix,
    qr: QRCode, bar: linear`), and what its columns divide by."""
    symbologies = decode_classes(data.cfg)
    measured = set(data.decode["class"])
    listing = ", ".join(f"{c}: {symbologies.get(c, '?')}" for c in data.cfg.data.names if c in measured)
    return text(lang, "decode_intro" if _has_payloads(data) else "decode_intro_detections", classes=listing)


def decode_table(data: ReportData) -> pd.DataFrame:
    """Decode rate per decoded class of every model: decoded / ground-truth codes, and / decodable codes when
    measured; without payload ground truth, the share of detections that decode (`/ detections`); empty when no
    decode rate was measured."""
    if not has_decode(data):
        return pd.DataFrame()
    values = {"decode_rate": "/ gt", "decode_rate_vs_decodable": "/ decodable"}
    if not _has_payloads(data):
        values = {"detection_decode_fraction": "/ detections"}
    values = {k: v for k, v in values.items() if k in data.decode and data.decode[k].notna().any()}
    table = data.decode.pivot_table(index="model", columns="class", values=list(values), aggfunc="first", dropna=False)
    classes = [c for c in [*data.cfg.data.names, "all"] if c in table.columns.get_level_values(1)]
    table = table.rename(columns=values, level=0).swaplevel(axis=1)
    table = table.reindex(columns=pd.MultiIndex.from_product([classes, list(values.values())]))
    order = [m for m in data.labels if m in table.index]
    return table.loc[order].rename(index=data.labels).rename_axis(index=None)


CEILING_FLOOR = 0.8  # a class whose decode ceiling is under this is named in the report as limited by its images


def decode_ceilings(data: ReportData) -> dict[str, tuple[int, int]]:
    """Class (and `all`) -> (codes that decode from their own ground-truth box, ground-truth codes); the same for
    every model, so read from the first model's rows. Empty without payload ground truth."""
    if "gt_decodable" not in data.decode or data.decode["gt_decodable"].isna().all():
        return {}
    rows = data.decode[data.decode["model"] == data.decode["model"].iloc[0]].set_index("class")
    return {c: (int(rows.loc[c, "gt_decodable"]), int(rows.loc[c, "gt_codes"])) for c in rows.index}


def ceiling_notes(data: ReportData, lang: str) -> list[str]:
    """The decode ceilings in words, and a warning naming the classes whose ceiling is under `CEILING_FLOOR`."""
    ceilings = {c: v for c, v in decode_ceilings(data).items() if v[1]}
    if not ceilings:
        return []
    listing = ", ".join(f"{c} {ok}/{n} ({ok / n:.0%})" for c, (ok, n) in ceilings.items())
    notes = [text(lang, "decode_ceiling", ceilings=listing)]
    low = [c for c, (ok, n) in ceilings.items() if c != "all" and ok / n < CEILING_FLOOR]
    if low:
        notes.append(text(lang, "decode_ceiling_low", classes=", ".join(low), floor=CEILING_FLOOR))
    return notes


def tradeoff_points(data: ReportData) -> pd.DataFrame:
    """One row per model: label, kind, test (else val) mmAP of all classes with its interval (NaN without one),
    target-engine latency, GFLOPs."""
    split = report_split(data)
    acc = data.accuracy[(data.accuracy["split"] == split) & (data.accuracy["class"] == "all")]
    acc = acc.set_index("model")
    table = data.table.set_index("model")
    rows = []
    for model in data.models:
        if model.id in table.index and model.id in acc.index:
            row = table.loc[model.id]
            latency = row.get(f"{row['target_engine']}_ms")
            rows.append(
                {
                    "model": model.id,
                    "label": model.label,
                    "kind": model.kind,
                    "mmAP": acc.loc[model.id, "mAP50-95"],
                    "mmAP_lo": acc.loc[model.id].get("mAP50-95_lo", np.nan),
                    "mmAP_hi": acc.loc[model.id].get("mAP50-95_hi", np.nan),
                    "latency_ms": latency,
                    "gflops": row["gflops"],
                    "meets_budget": meets_budget(row),
                    "borderline": str(row["meets_budget"]).strip().lower() == "borderline",
                }
            )
    return pd.DataFrame(rows)


def engine_points(data: ReportData, engine: str) -> pd.DataFrame:
    """`tradeoff_points` as shipped on `engine`: each model's median latency there and, on an INT8 engine, its INT8
    model's mmAP on the same split (no interval; NaN where it was not validated there, `quant.splits`).

    Args:
        data (ReportData): The study's results.
        engine (str): An engine of `measured_engines`.

    Returns:
        (pd.DataFrame): The points: `tradeoff_points`' columns with `latency_ms` (and, on INT8, `mmAP`) replaced.
    """
    points = tradeoff_points(data)
    table = data.table.set_index("model")
    latency = pd.to_numeric(table.get(f"{engine}_ms", pd.Series(dtype=float)), errors="coerce")
    points["latency_ms"] = points["model"].map(latency)
    if engine.endswith("_int8"):
        frame = data.accuracy_int8
        rows = frame[(frame["engine"] == engine) & (frame["split"] == report_split(data)) & (frame["class"] == "all")]
        points["mmAP"] = points["model"].map(rows.drop_duplicates("model").set_index("model")["mAP50-95"])
        points["mmAP_lo"] = points["mmAP_hi"] = np.nan
    return points


def pareto_front(x: list[float], y: list[float]) -> list[int]:
    """Indices of the points that no other point beats (x lower or equal, y higher or equal, one strictly).

    Lower x is better (latency, FLOPs), higher y is better (accuracy). Sorted by x; NaN points are skipped.
    """
    points = [(xi, yi, i) for i, (xi, yi) in enumerate(zip(x, y, strict=True)) if not (pd.isna(xi) or pd.isna(yi))]
    front = []
    for xi, yi, i in points:
        dominated = any(xj <= xi and yj >= yi and (xj < xi or yj > yi) for xj, yj, _ in points)
        if not dominated:
            front.append((xi, i))
    return [i for _, i in sorted(front)]


def convergence_table(data: ReportData) -> pd.DataFrame:
    """Fine-tuned and uniform-width models: final validation mmAP and epochs to reach 90% of it."""
    rows = {}
    for model in data.models:
        if model.kind in ("pruned", "random", "alternative", "variant") and model.id in data.curves:
            curve = data.curves[model.id]
            final = float(curve[MAP_COLUMN].iloc[-1])
            reached = curve.loc[curve[MAP_COLUMN] >= 0.9 * final, "epoch"]
            rows[model.label] = {
                "kind": model.kind,
                "epochs": int(curve["epoch"].iloc[-1]),
                "epochs_to_90": int(reached.iloc[0]) if len(reached) else None,
                "final": round(final, 4),
            }
    return pd.DataFrame.from_dict(rows, orient="index")


def still_rising(curve: pd.DataFrame) -> tuple[int, float, float] | None:
    """Whether a training's validation mmAP was still rising when it ended: the mean of its last sixth of epochs (at
    least 3) against the mean of the sixth before, rising when the difference exceeds twice its standard error (the
    two windows' epoch-to-epoch spread, which a val mmAP that swings from epoch to epoch widens).

    Args:
        curve (pd.DataFrame): A results.csv, one row per epoch.

    Returns:
        (tuple[int, float, float] | None): The window's epochs and the two means (before, last) when still rising; None
            when not, or with fewer than two windows of epochs.
    """
    values = curve[MAP_COLUMN].to_numpy(dtype=float)
    n = max(3, round(len(values) / 6))
    if len(values) < 2 * n:
        return None
    before, last = values[-2 * n : -n], values[-n:]
    error = float(np.sqrt(before.var(ddof=1) / n + last.var(ddof=1) / n))
    rise = float(last.mean() - before.mean())
    return (n, float(before.mean()), float(last.mean())) if rise > 2 * error else None


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as (dotted key, value) rows; lists stay values."""
    if not isinstance(value, dict):
        return [(prefix, value)]
    return [row for key, inner in value.items() for row in flatten(inner, f"{prefix}.{key}" if prefix else str(key))]


def environment_table(data: ReportData, lang: str) -> pd.DataFrame:
    """environment.json flattened to rows of (item, value); nested keys are joined with dots; the header in `lang`."""
    rows = [(k, "—" if v is None else v) for k, v in flatten(data.environment)]
    return pd.DataFrame(rows, columns=["item", text(lang, "value")]).set_index("item").rename_axis(None)


def sparse_facts(data: ReportData) -> dict[str, Any]:
    """The numbers of the sparse-training paragraph: sl, its schedule, epochs, last sl_mloss, val mmAP."""
    val = data.accuracy[(data.accuracy["split"] == "val") & (data.accuracy["class"] == "all")]
    val = val.set_index("model")["mAP50-95"]
    return {
        "sl": data.sparse.get("sl", data.cfg.sparse.sl),
        "l1": data.sparse.get("l1", data.cfg.sparse.l1),
        "schedule": data.cfg.sparse.schedule,
        "recover": data.cfg.sparse.recover_epochs,
        "epochs": int(data.curves["sparse"]["epoch"].iloc[-1]),
        "sl_mloss": f"{float(data.sparse['sl_mloss']):.6g}",
        "base": f"{val['base']:.3f}" if "base" in val else "—",
        "sparse": f"{val['sparse']:.3f}" if "sparse" in val else "—",
    }


def budget_facts(data: ReportData) -> dict[str, Any]:
    """The L1 budget paragraph: this study's logged steps and Σ lr·sl next to the seed study's plan."""
    seed, images = seed_plan()
    last = data.gamma_log.iloc[-1]
    return {
        "steps": f"{int(last['steps']):,}",
        "budget": f"{float(last['l1_budget']):.3g}",
        "stretch": 1 / (1 - SGD_MOMENTUM),
        "seed_steps": f"{seed.steps:,}",
        "seed_budget": f"{seed.budget:.3g}",
        "seed_images": f"{images:,}",
    }


def stop_sentence(data: ReportData, lang: str) -> str:
    """Whether and when the sparsity target (`sparse.stop_fraction`) stopped the L1 term; '' without a target."""
    s = data.cfg.sparse
    if s.stop_fraction is None:
        return ""
    values = {"fraction": f"{s.stop_fraction:.0%}", "under": f"{s.stop_under:g}"}
    step = data.sparse.get("l1_stopped_at")
    if step is None:
        return text(lang, "stop_missed", **values)
    log = data.gamma_log
    epoch = int(log.loc[log["steps"] >= step, "epoch"].iloc[0])
    return text(lang, "stop_reached", step=f"{int(step):,}", epoch=epoch, **values)


def gamma_fractions(data: ReportData, lang: str) -> pd.DataFrame:
    """Per sparse epoch: steps and Σ lr·sl (gamma_log.csv), and the fraction of gammas under each absolute prune
    threshold, and each threshold a FLOPs budget chose (gammas.npz); the steps' header in `lang`."""
    log = data.gamma_log.set_index("epoch")
    chosen = {t: data.prune[t]["threshold"] for t in data.cfg.flops_targets() if t in data.prune}
    thresholds = {**data.cfg.prune.thresholds, **chosen}
    steps, budget = log["steps"].astype(int), log["l1_budget"].map("{:.3g}".format)
    table = pd.DataFrame({text(lang, "steps"): steps, "Σ lr·sl": budget})
    fractions = fractions_under(data.paths.sparse.gammas, thresholds)
    for name, value in thresholds.items():
        table[f"< {value:g} ({name})"] = fractions[f"frac_under_{name}"].map("{:.1%}".format)
    return table


def prune_facts(data: ReportData, target: str, lang: str) -> dict[str, Any]:
    """The numbers of one pruned model's paragraph, from its metrics.json and layers.csv.

    Args:
        data (ReportData): The study's results.
        target (str): The prune target (a pruned-structure id of `prune_jobs`).
        lang (str): The language of the words among the values (a matched cost, the unpruned groups' reasons).

    Returns:
        (dict[str, Any]): The paragraph's values, formatted, by name.
    """
    metrics, layers = data.prune[target], data.layers[target]
    sparse50 = float(data.sparse.get("val", {}).get("mAP50", float("nan")))
    fold50 = float(metrics["val_fold"]["mAP50"])
    delta = pd.to_numeric(layers["align_delta"], errors="coerce").fillna(0)
    value = metrics["value"] if isinstance(metrics["value"], str) else f"{metrics['value']:g}"
    if metrics.get("cost_match"):
        match = metrics["cost_match"]
        key = "matched_flops" if match["by"] == "flops" else "matched_latency"
        value = text(lang, key, ratio=match["ratio"], target=metrics["target"], value=value)
    elif metrics["policy"] != "threshold" and metrics.get("threshold") is not None:
        value += f" (|gamma| < {float(metrics['threshold']):.3g})"
    if (metrics.get("flops_budget") or {}).get("message"):  # no structure within the FLOPs budget
        value += f"; {say(lang, metrics['flops_budget']['message'])}"
    return {
        "label": target_labels(data)[target],
        "policy": metrics["policy"],
        "value": value,
        "round_to": metrics["round_to"],
        "round_dir": metrics["round_dir"],
        "params_before": f"{int(metrics['params_before']):,}",
        "params_after": f"{int(metrics['params_after']):,}",
        "gflops_before": f"{float(metrics['gflops_before']):.3g}",
        "gflops_after": f"{float(metrics['gflops_after']):.3g}",
        "restored": int(delta[delta > 0].sum()),
        "removed": int(-delta[delta < 0].sum()),
        "fold": f"{float(metrics['val_fold']['mAP50-95']):.3f}",
        "fold50": f"{fold50:.3f}",
        "nofold50": f"{float(metrics['val_nofold']['mAP50']):.3f}",
        "sparse50": f"{sparse50:.3f}",
        "kept_share": f"{fold50 / sparse50:.0%}" if sparse50 > 0 else "—",
        "nofold": f"{float(metrics['val_nofold']['mAP50-95']):.3f}",
        "unpruned": "; ".join(_group_text(g, lang) for g in metrics.get("unpruned_groups") or []),
    }


def search_facts(data: ReportData, target: str, lang: str) -> dict[str, Any] | None:
    """The latency-budget search of a target, for its paragraph (metrics.json's `search`).

    Args:
        data (ReportData): The study's results.
        target (str): The prune target.
        lang (str): The language of the outcome and the search's message.

    Returns:
        (dict[str, Any] | None): The paragraph's values, formatted, by name; None for a threshold or fraction target.
    """
    search = data.prune[target].get("search")
    if not search:
        return None
    return {
        "budget": data.prune[target]["value"],
        "engine": search["engine"],
        "candidates": search["candidates"],
        "threshold": f"{search['threshold']:.4g}",
        "latency": f"{search['latency_ms']:.3g}",
        "ratio": f"{search['ratio']:.2f}",
        "gflops": f"{search['gflops']:.3g}",
        "outcome": text(lang, "search_met" if search["met"] else "search_missed"),
        "message": say(lang, search["message"]) if search.get("message") else "",
    }


def _group_text(group: dict, lang: str) -> str:
    """One unpruned group in `lang`: its layers and why it was kept whole."""
    reasons = "; ".join(say(lang, r) for r in group["reasons"])
    layers = ", ".join(group["layers"])
    return text(lang, "unpruned_group", layers=layers, reasons=reasons) if reasons else layers


def convergence_curves(data: ReportData) -> dict[str, pd.DataFrame]:
    """Label -> results.csv of every fine-tuned and uniform-width model (the convergence figure)."""
    trained = ("pruned", "random", "alternative", "variant")
    return {m.label: data.curves[m.id] for m in data.models if m.kind in trained and m.id in data.curves}
