"""The verdicts the summary states ("A beat B", "B is off the Pareto front"), each from the interval of a difference
and adjusted for the number of them.

A verdict is stated only when the 95 % interval of the difference (all-class mAP50-95, paired by image; with the
spread between trainings in it when measured, yoloslim.measure.seeds) excludes 0 and its p-value, from the
bootstrap's standard error and adjusted by Holm's method over every difference the summary judges, is under 0.05;
otherwise the summary says "within noise".

    verdict(data, "test", "middle", "middle-random")  # Verdict(diff, lo, hi, p, p_holm) or None
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yoloslim.measure.bootstrap import INTERVAL_METRICS, holm, interval, p_value
from yoloslim.report.data import ReportData, pareto_front, report_split, tradeoff_points
from yoloslim.study import RECIPES, finetune_jobs, prune_jobs
from yoloslim.text import text

ALPHA = 0.05  # the family-wise error rate of the summary's verdicts


@dataclass(frozen=True)
class Verdict:
    """One difference of all-class mAP50-95 (model minus other): its point value, 95 % interval, p-value and
    Holm-adjusted p-value."""

    diff: float
    lo: float
    hi: float
    p: float
    p_holm: float

    @property
    def decided(self) -> bool:
        """Whether the difference is more than noise: its interval excludes 0 and its adjusted p-value is under
        ALPHA."""
        return not (self.lo <= 0 <= self.hi) and self.p_holm < ALPHA


def judged_pairs(data: ReportData) -> list[tuple[str, str]]:
    """Every (model, other) difference the summary judges: each target against its random control, Torch-Pruning
    alternatives and re-initialized model; the fine-tune recipes (finetune.compare); each compressed model off the
    Pareto front against the most accurate model that beats it; the most accurate model within the latency budget
    against each other one within it."""
    cfg = data.cfg
    pairs = []
    for model_id, (prune_id, init) in finetune_jobs(cfg).items():
        target, selection = prune_jobs(cfg)[prune_id]
        if (selection, init) != ("gamma", "inherit") and init not in RECIPES:
            pairs.append((target, model_id))
    for t in cfg.finetune.compare:
        pairs += [(f"{t}-longer", t), (f"{t}-distill", t), (f"{t}-distill", f"{t}-longer")]
    points = tradeoff_points(data)
    return pairs + [(better, worse) for worse, better in pareto_beaten(points).items()] + budget_rivals(points)


def budget_rivals(points: pd.DataFrame) -> list[tuple[str, str]]:
    """(the most accurate model that meets the budget, each other model that meets it), by their point values
    (`tradeoff_points`; empty when fewer than two meet it)."""
    within = points[points["meets_budget"]].dropna(subset=["mmAP"]) if len(points) else points
    if len(within) < 2:
        return []
    best = within.loc[within["mmAP"].idxmax(), "model"]
    return [(best, other) for other in within["model"] if other != best]


def pareto_beaten(points: pd.DataFrame) -> dict[str, str]:
    """Each compressed model off the accuracy-latency front (base and sparse aside) -> the most accurate model at
    most as slow and at least as accurate, by their point values (`tradeoff_points`; empty without latencies)."""
    measured = points.dropna(subset=["latency_ms", "mmAP"]).reset_index(drop=True) if len(points) else points
    if measured.empty:
        return {}
    front = set(pareto_front(measured["latency_ms"].tolist(), measured["mmAP"].tolist()))
    beaten = {}
    for i, row in measured.iterrows():
        if i in front or row["kind"] in ("base", "sparse"):
            continue
        better = measured[(measured["latency_ms"] <= row["latency_ms"]) & (measured["mmAP"] >= row["mmAP"])]
        beaten[row["model"]] = better.drop(index=i).sort_values("mmAP").iloc[-1]["model"]
    return beaten


def verdict(data: ReportData, split: str, model: str, other: str) -> Verdict | None:
    """The judged difference `model` - `other` on `split`, Holm-adjusted over `judged_pairs`; None without
    replicates of both (no bootstrap)."""
    return verdicts(data, split).get((model, other)) or _single(data, split, model, other)


def verdicts(data: ReportData, split: str) -> dict[tuple[str, str], Verdict]:
    """Every judged difference with replicates of both models (`judged_pairs`), Holm-adjusted together."""
    reps = data.replicates.get(split, {})
    if not reps:  # no bootstrap (eval.bootstrap: 0): nothing to judge by
        return {}
    j = INTERVAL_METRICS.index("mAP50-95")
    pairs = [(a, b) for a, b in dict.fromkeys(judged_pairs(data)) if a in reps and b in reps]
    draws = {pair: reps[pair[0]][:, -1, j] - reps[pair[1]][:, -1, j] for pair in pairs}
    adjusted = holm([p_value(d) for d in draws.values()])
    return {pair: _verdict(data, split, pair, d, adj) for (pair, d), adj in zip(draws.items(), adjusted, strict=True)}


def intervals_sentence(data: ReportData, lang: str) -> str:
    """What the accuracy intervals include (test images; the spread between trainings, measured or as a component)
    and how the verdicts are adjusted for their number."""
    seeds = data.seeds
    if not seeds.get("runs"):
        sources = text(lang, "intervals_images")
    else:
        runs = "; ".join(
            f"{data.labels.get(m, m)}: " + ", ".join(f"{v:.3f}" for v in values.get(report_split(data), []))
            for m, values in seeds["mAP50-95"].items()
        )
        spread = (seeds["spread"].get(report_split(data)) or {}).get("mAP50-95", float("nan"))
        kinds = {m.id: m.kind for m in data.models}
        redrawn = text(lang, "intervals_redrawn") if any(kinds.get(m) == "random" for m in seeds["runs"]) else ""
        measured = np.isfinite(spread)  # no spread: only random controls were seeded (their runs redraw channels)
        component = text(lang, "intervals_spread", spread=spread) if measured else text(lang, "intervals_no_spread")
        sources = text(lang, "intervals_component", k=seeds["seeds"], runs=runs, component=component, redrawn=redrawn)
    return sources + text(lang, "intervals_holm", alpha=ALPHA)


def _single(data: ReportData, split: str, model: str, other: str) -> Verdict | None:
    """A difference outside the judged family, unadjusted (None without replicates of both)."""
    reps = data.replicates.get(split, {})
    if model not in reps or other not in reps:
        return None
    j = INTERVAL_METRICS.index("mAP50-95")
    d = reps[model][:, -1, j] - reps[other][:, -1, j]
    return _verdict(data, split, (model, other), d, p_value(d))


def _verdict(data: ReportData, split: str, pair: tuple[str, str], draws: np.ndarray, p_holm: float) -> Verdict:
    """A Verdict from the difference's draws and its point values in accuracy.csv."""
    acc = data.accuracy[(data.accuracy["split"] == split) & (data.accuracy["class"] == "all")].set_index("model")
    lo, hi = interval(draws)
    diff = float(acc.loc[pair[0], "mAP50-95"] - acc.loc[pair[1], "mAP50-95"])
    return Verdict(diff, float(lo), float(hi), p_value(draws), float(p_holm))
