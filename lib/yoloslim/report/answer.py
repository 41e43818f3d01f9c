"""The report's first page: the answer a team came for, before the original study's sections.

The budget and its engine, every model against it (met / borderline / not met) with its latency, size and accuracy
per class with 95 % intervals, and the verdicts that matter (which models meet it, the most accurate of them, what it
costs per class); the notebook adds the accuracy-latency chart.

    answer_markdown(data, "en")   # the heading, the budget and the verdicts
    answer_table(data, "en")      # one row per model, those that meet the budget first
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yoloslim.report.data import ReportData, budget_label, budget_mark, budget_of, report_split, tradeoff_points
from yoloslim.report.summary import COST_CLASSES, budget_bullets, cost_sentence
from yoloslim.text import text

STATUS = {"✓": "answer_met", "≈": "answer_borderline", "✗": "answer_not_met", "?": "answer_unmeasured"}  # by rank


def answer_markdown(data: ReportData, lang: str) -> str:
    """The answer page's heading, the budget and its engine, and the verdicts: which models meet the budget (the
    most accurate of them), the borderline ones, and what the chosen model costs per class."""
    split = report_split(data)
    points = tradeoff_points(data)
    engine, _ = budget_of(data)
    verdicts = [*budget_bullets(data, points, split, lang, next_steps=False), cost_sentence(data, points, split, lang)]
    intro = text(lang, "answer_intro", budget=budget_label(data, lang), engine=engine, split=split)
    return "\n\n".join([text(lang, "s0_answer"), intro, "\n".join(f"- {v}" for v in verdicts)])


def answer_table(data: ReportData, lang: str) -> pd.DataFrame:
    """Every model but the sparse one against the budget: met first, then borderline, not met and unmeasured, each
    group most accurate first; its status, latency on the budget's engine and ratio to the base model, parameters,
    GFLOPs, and mAP50-95 `v [lo,hi]` of all classes and (up to `COST_CLASSES` classes) of each."""
    split = report_split(data)
    engine, _ = budget_of(data)
    table = data.table.set_index("model")
    acc = data.accuracy[data.accuracy["split"] == split].set_index(["model", "class"])
    names = list(data.cfg.data.names) if len(data.cfg.data.names) <= COST_CLASSES else []
    base_ms = table.loc["base", f"{engine}_ms"] if "base" in table.index else np.nan
    timed = data.interleaved[data.interleaved["engine"] == engine].set_index("model") if len(data.interleaved) else None
    rows = []
    for model in (m for m in data.models if m.kind != "sparse" and m.id in table.index):
        row, mark = table.loc[model.id], budget_mark(table.loc[model.id])
        ms = float(row.get(f"{engine}_ms", np.nan))
        entry = {
            "rank": list(STATUS).index(mark),
            "mmAP": acc["mAP50-95"].get((model.id, "all"), np.nan),
            text(lang, "model"): model.label,
            text(lang, "budget"): f"{mark} {text(lang, STATUS[mark])}",
            f"{engine} ms": _latency(timed, model.id, ms, "ms", "{:.2f}"),
            text(lang, "ratio_to_base"): _latency(
                timed, model.id, ms / base_ms if base_ms > 0 else np.nan, "ratio", "{:.2f}×"
            ),  # fmt: skip
            "params (M)": f"{row['params_m']:.2f}",
            "GFLOPs": f"{row['gflops']:.3g}",
        }
        for cls in ["all", *names]:
            entry[f"{cls} mmAP" if cls == "all" else cls] = _with_interval(acc, model.id, cls)
        rows.append(entry)
    frame = pd.DataFrame(rows).sort_values(["rank", "mmAP"], ascending=[True, False], kind="stable")
    return frame.drop(columns=["rank", "mmAP"]).set_index(text(lang, "model")).rename_axis(None)


def _latency(timed: pd.DataFrame | None, model: str, value: float, kind: str, form: str) -> str:
    """A latency (`ms`) or its ratio to the base model (`ratio`) on the budget's engine, with the 95 % interval of the
    interleaved measurement where there is one (whole, like `_with_interval`); the value alone otherwise."""
    if not np.isfinite(value):
        return "—"
    if timed is None or model not in timed.index:
        return form.format(value)
    row = timed.loc[model]
    keys = ("median_ms", "lo_ms", "hi_ms") if kind == "ms" else ("ratio", "ratio_lo", "ratio_hi")
    v, lo, hi = (float(row[k]) for k in keys)
    return f"{form.format(v)} [{lo:.2f},{hi:.2f}]"


def _with_interval(acc: pd.DataFrame, model: str, cls: str) -> str:
    """`0.71 [0.69,0.74]`: a class's mAP50-95 with its 95 % interval, which a narrow page puts under the value, whole
    (no space in it: no line break inside; the value alone without an interval; — if absent)."""
    if (model, cls) not in acc.index:
        return "—"
    row = acc.loc[(model, cls)]
    value, lo, hi = row["mAP50-95"], row.get("mAP50-95_lo", np.nan), row.get("mAP50-95_hi", np.nan)
    return f"{value:.2f}" + (f" [{lo:.2f},{hi:.2f}]" if np.isfinite(lo) and np.isfinite(hi) else "")
