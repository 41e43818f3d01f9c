"""Section 3 of the report, written from the measured numbers (English or Chinese).

summary_markdown(load_report_data(cfg), "en")  # markdown bullets
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yoloslim.measure.bootstrap import within_noise
from yoloslim.report.data import (
    ReportData,
    budget_label,
    budget_of,
    class_costs,
    collapse_interval,
    collapsed_classes,
    convergence_table,
    engine_facts,
    engine_points,
    measured_engines,
    pareto_front,
    report_split,
    still_rising,
    target_labels,
    tradeoff_points,
    unmeasured_engines,
)
from yoloslim.report.recipes import recipe_sentences
from yoloslim.report.verdicts import budget_rivals, intervals_sentence, pareto_beaten, verdict
from yoloslim.study import RECIPES, finetune_jobs, job_epochs, prune_jobs
from yoloslim.text import say, text


def summary_markdown(data: ReportData, lang: str) -> str:
    """The summary as markdown bullets: budget, per-class cost, collapse, convergence, next steps."""
    split = report_split(data)
    points = tradeoff_points(data)
    bullets = budget_bullets(data, points, split, lang, next_steps=True)
    bullets.extend(_longer_sentence(data, lang))
    bullets.extend(_training_sentence(data, points, split, lang))
    bullets.extend(_sparsity_warnings(data, lang))
    bullets.extend(_random_sentences(points, data, split, lang))
    bullets.extend(recipe_sentences(data, split, lang))
    bullets.extend(_pareto_sentence(data, points, split, lang))
    fronts = _fronts_sentence(data, split, lang)
    if fronts:
        bullets.append(fronts)
    bullets.extend(_engine_sentences(data, lang))
    bullets.append(cost_sentence(data, points, split, lang))
    bullets.append(_collapse_sentence(data, split, lang))
    bullets.append(intervals_sentence(data, lang))
    convergence = _convergence_sentence(data, lang)
    if convergence:
        bullets.append(convergence)
    bullets.extend(_rising_sentence(data, lang))
    missing = unmeasured_engines(data)
    if missing:
        bullets.append(text(lang, "not_measured", what=", ".join(f"`{e}`" for e in missing)))
    return "\n".join(f"- {b}" for b in bullets)


def budget_bullets(data: ReportData, points: pd.DataFrame, split: str, lang: str, next_steps: bool) -> list[str]:
    """Which models meet the latency budget on its engine and the most accurate of them (or, when none does, the
    fastest and, with `next_steps`, what to try next), then the borderline ones.

    Args:
        data (ReportData): The study's results.
        points (pd.DataFrame): `tradeoff_points(data)`.
        split (str): The split the accuracy is from.
        lang (str): The language.
        next_steps (bool): Add what to try when no model meets the budget.

    Returns:
        (list[str]): The sentences.
    """
    engine, budget = budget_of(data)
    label = budget_label(data, lang)
    bullets = []
    measured = points.dropna(subset=["latency_ms"])
    if measured.empty:
        bullets.append(text(lang, "budget_unmeasured", engine=engine, label=label))
    else:
        within = measured[measured["meets_budget"]]
        if len(within):
            best = within.loc[within["mmAP"].idxmax()]
            bullets.append(
                text(
                    lang,
                    "budget_met",
                    n=len(within),
                    total=len(measured),
                    label=label,
                    engine=engine,
                    split=split,
                    models=", ".join(within["label"]),
                    best=best["label"],
                    acc=best["mmAP"],
                    latency=best["latency_ms"],
                )
                + _rivals(data, points, split, lang)
            )
        else:
            fast = measured.loc[measured["latency_ms"].idxmin()]
            bullets.append(
                text(
                    lang,
                    "budget_none",
                    label=label,
                    engine=engine,
                    fast=fast["label"],
                    latency=fast["latency_ms"],
                    factor=fast["latency_ms"] / budget,
                    split=split,
                    acc=fast["mmAP"],
                )
            )
            if next_steps:
                bullets.extend(_next_steps(data, measured, budget, lang))
    if "borderline" in measured and measured["borderline"].any():
        bullets.append(text(lang, "budget_borderline", models=", ".join(measured[measured["borderline"]]["label"])))
    return bullets


def _rivals(data: ReportData, points: pd.DataFrame, split: str, lang: str) -> str:
    """Whether the most accurate model within the budget beat the others within it: those it leads only within
    noise, each with the difference's interval, or that it beat them all (empty without intervals)."""
    judged = {other: verdict(data, split, best, other) for best, other in budget_rivals(points)}
    judged = {other: v for other, v in judged.items() if v is not None}
    if not judged:
        return ""
    labels = points.set_index("model")["label"]
    tied = [text(lang, "budget_tie", label=labels[m], diff=v.diff, lo=v.lo, hi=v.hi, p=v.p_holm)
            for m, v in judged.items() if not v.decided]  # fmt: skip
    return text(lang, "budget_tied", tied="; ".join(tied)) if tied else text(lang, "budget_beat_all")


def _engine_sentences(data: ReportData, lang: str) -> list[str]:
    """Does pruning still pay after INT8: each pruned model's latency ratio to the base model on each INT8 engine,
    beside its ratio in FP32 on ONNX Runtime, and what quantisation cost it."""
    facts = engine_facts(data)
    sentences = []
    for engine in dict.fromkeys(f["engine"] for f in facts):
        models = "; ".join(
            text(
                lang,
                "int8_model",
                model=f["model"],
                ratio=f["ratio"],
                fp32_ratio=f["fp32_ratio"],
                drop=f"{f['drop']:+.3f}" if np.isfinite(f["drop"]) else "—",
            )  # fmt: skip
            for f in facts
            if f["engine"] == engine
        )
        sentences.append(text(lang, "int8_summary", engine=engine, models=models))
    return sentences


def _longer_sentence(data: ReportData, lang: str) -> list[str]:
    """The targets fine-tuned for other than `finetune.epochs` (`finetune.target_epochs`): their accuracy holds
    that training, which the reader weighs in any comparison with the other models."""
    labels = target_labels(data)
    longer = [f"**{labels.get(t, t)}** {n}" for t, n in data.cfg.finetune.target_epochs.items() if t in labels]
    if not longer:
        return []
    return [text(lang, "target_epochs", models=", ".join(longer), epochs=data.cfg.finetune.epochs)]


def _training_sentence(data: ReportData, points: pd.DataFrame, split: str, lang: str) -> list[str]:
    """The pruned models (and random controls) above the base model, each with the epochs it trained beyond the
    base model's: it inherits the base model's training and trains on (sparse training, then its fine-tune), so part
    of a gain may be training the base model did not get. One whose paired interval against the base model holds 0 is
    marked within noise. A structure fine-tuned from scratch is left out."""
    acc = points.set_index("model")["mmAP"]
    if "base" not in acc.index or not np.isfinite(acc["base"]):
        return []
    cfg = data.cfg
    jobs = finetune_jobs(cfg)
    sparse = cfg.sparse.epochs if cfg.sparse.start == "base" else 0
    noisy = _within_noise(data, split)
    above = [
        text(
            lang,
            "more_training_model",
            label=p.label,
            split=split,
            diff=p.mmAP - acc["base"],
            extra=sparse + job_epochs(cfg, p.model),
        )
        + (text(lang, "noise") if (p.model, "all") in noisy else "")
        for p in points.itertuples()
        if p.kind in ("pruned", "random") and p.model in jobs and jobs[p.model][1] != "scratch" and p.mmAP > acc["base"]
    ]
    if not above:
        return []
    base = text(lang, "base_epochs", epochs=cfg.train.epochs) if cfg.model.base == "train" else text(lang, "base_given")
    return [text(lang, "more_training", models="; ".join(above), base=base)]


def _within_noise(data: ReportData, split: str) -> set[tuple[str, str]]:
    """The (model, class) pairs on `split` whose paired interval of mAP50-95 against the base model holds 0 (none
    where accuracy.csv has no intervals)."""
    columns = ["model", "class", "delta_mAP50-95_lo", "delta_mAP50-95_hi"]
    rows = data.accuracy[data.accuracy["split"] == split].reindex(columns=columns)
    return {(m, c) for m, c, lo, hi in rows.itertuples(index=False) if not pd.isna(lo) and within_noise(lo, hi)}


def _sparsity_warnings(data: ReportData, lang: str) -> list[str]:
    """The prune stage's warnings of cuts that fall inside one band of gammas (yoloslim.models.gammas)."""
    labels = target_labels(data)
    return [
        text(lang, "not_sparse", label=labels.get(pid, pid), warning=say(lang, metrics["sparsity_warning"]))
        for pid, metrics in data.prune.items()
        if metrics.get("sparsity_warning")
    ]


def _random_sentences(points: pd.DataFrame, data: ReportData, split: str, lang: str) -> list[str]:
    """Each random control (same structure), each Torch-Pruning alternative (same GFLOPs) and each structure
    re-initialized (`finetune.init: scratch`) against its target's model selected by gamma with inherited weights."""
    rows = points.set_index("model")
    sentences = []
    for model_id, (prune_id, init) in finetune_jobs(data.cfg).items():
        target, selection = prune_jobs(data.cfg)[prune_id]
        skip = (selection, init) == ("gamma", "inherit") or init in RECIPES  # recipes: `recipe_sentences`
        if skip or model_id not in rows.index or target not in rows.index:
            continue
        key = "scratch" if init == "scratch" else "random" if selection == "random" else "alternative"
        gamma, random = rows.loc[target], rows.loc[model_id]
        diff = float(gamma["mmAP"] - random["mmAP"])
        said = text(lang, f"{key}_won") if diff > 0 else text(lang, f"{key}_lost")
        judged = verdict(data, split, target, model_id)
        if judged is not None:
            bounds = {"lo": judged.lo, "hi": judged.hi, "p": judged.p_holm}
            said = said + text(lang, "interval", **bounds) if judged.decided else text(lang, "random_noise", **bounds)
        match = data.prune.get(prune_id, {}).get("cost_match") or {}
        sentence = text(
            lang,
            key,
            gamma_label=gamma["label"],
            random_label=random["label"],
            split=split,
            gamma=gamma["mmAP"],
            random=random["mmAP"],
            diff=diff,
            verdict=said,
            method=selection,
            cost=_cost_text(match, lang),
            epochs=job_epochs(data.cfg, model_id),
            inherit_epochs=job_epochs(data.cfg, target),
        )
        if match and not match["matched"]:
            sentence += text(lang, "alternative_unmatched", message=say(lang, match["message"]))
        sentences.append(sentence)
    return sentences


def _cost_text(match: dict, lang: str) -> str:
    """How an alternative was matched in cost: its GFLOPs against the target's, or its latency within the budget."""
    if match.get("by") == "latency":
        return text(lang, "cost_latency", ratio=match["latency_ratio"], budget=match["budget"])
    nan = float("nan")
    return text(lang, "cost_flops", gflops=match.get("gflops", nan), target_gflops=match.get("target_gflops", nan))


def _pareto_sentence(data: ReportData, points: pd.DataFrame, split: str, lang: str) -> list[str]:
    """Which models are on the accuracy-latency Pareto front, and, for each compressed model off it, one model that
    is both faster and more accurate: off it when that difference is decided (`yoloslim.report.verdicts`), else behind
    only within noise (empty without latencies)."""
    measured = points.dropna(subset=["latency_ms", "mmAP"]).reset_index(drop=True)
    if measured.empty:
        return []
    front = set(pareto_front(measured["latency_ms"].tolist(), measured["mmAP"].tolist()))
    labels = dict(zip(measured["model"], measured["label"], strict=True))
    off, tied = [], []
    for worse, better in pareto_beaten(points).items():
        judged = verdict(data, split, better, worse)
        if judged is None or judged.decided:
            off.append(text(lang, "pareto_off", label=labels[worse], by=labels[better]))
        else:
            tied.append(text(lang, "pareto_tie", label=labels[worse], by=labels[better], diff=judged.diff,
                             lo=judged.lo, hi=judged.hi, p=judged.p_holm))  # fmt: skip
    fastest_first = sorted(front, key=lambda i: measured.loc[i, "latency_ms"])
    on = ", ".join(f"**{measured.loc[i, 'label']}**" for i in fastest_first)
    sentence = text(lang, "pareto", split=split, on=on, off="; ".join(off) if off else text(lang, "pareto_all"))
    return [sentence + (text(lang, "pareto_tied", tied="; ".join(tied)) if tied else "")]


def _fronts_sentence(data: ReportData, split: str, lang: str) -> str | None:
    """The Pareto front on every engine the models were timed on (an INT8 engine: with the INT8 models' accuracy);
    None with one engine, whose front `_pareto_sentence` gives."""
    parts = []
    for engine in measured_engines(data):
        points = engine_points(data, engine).dropna(subset=["latency_ms", "mmAP"]).reset_index(drop=True)
        if len(points):
            front = pareto_front(points["latency_ms"].tolist(), points["mmAP"].tolist())
            models = ", ".join(f"**{points.loc[i, 'label']}**" for i in front)
            parts.append(text(lang, "front_engine", engine=engine, models=models))
    return text(lang, "fronts", split=split, fronts="; ".join(parts)) if len(parts) > 1 else None


def _chosen_model(points: pd.DataFrame) -> pd.Series:
    """The model the cost sentence describes: the best compressed one within budget, else the best pruned one."""
    compressed = points[points["kind"].isin(["pruned", "variant"])]
    within = compressed[compressed["meets_budget"]]
    pool = within if len(within) else compressed[compressed["kind"] == "pruned"]
    pool = pool if len(pool) else points[points["kind"] != "base"]
    return pool.loc[pool["mmAP"].idxmax()]


COST_CLASSES = 8  # the cost sentence names every class up to this many; of more, `all` and the most costly these


def cost_sentence(data: ReportData, points: pd.DataFrame, split: str, lang: str) -> str:
    """Per-class mmAP drop of the chosen model against the base (of many classes: all, then the largest drops)."""
    chosen = _chosen_model(points)
    model = chosen["label"]
    costs = class_costs(data, split).loc[model]
    classes = costs.drop("all", errors="ignore")
    many = len(classes) > COST_CLASSES
    if many:  # all classes first, then those that lost most
        costs = pd.concat([costs.reindex(["all"]).dropna(), classes.sort_values(ascending=False)[:COST_CLASSES]])
    noisy = _within_noise(data, split)
    listed = []
    for cls, v in costs.items():
        noise = text(lang, "noise") if (chosen["model"], cls) in noisy else ""
        listed.append(f"{cls} {round(-v, 3) + 0.0:+.3f}".replace("-", "−") + noise)
    if many:
        return text(lang, "cost_most", model=model, split=split, costs=", ".join(listed), shown=COST_CLASSES,
                    total=len(classes))  # fmt: skip
    return text(lang, "cost", model=model, split=split, costs=", ".join(listed))


def _collapse_sentence(data: ReportData, split: str, lang: str) -> str:
    """Every (model, class) whose drop exceeds the collapse margin, or that none does."""
    margin = data.cfg.report.collapse_margin
    collapsed = collapsed_classes(data, split)
    if not collapsed:
        return text(lang, "no_collapse", margin=margin, conf=data.cfg.eval.conf)
    items = []
    for model, cls, drop in collapsed:  # within noise: the excess's interval reaches down to the margin
        bounds = collapse_interval(data, split, model, cls)
        noise = text(lang, "noise") if bounds is not None and bounds[0] <= margin else ""
        items.append(f"{model}: {cls} (−{drop:.3f}{noise})")
    return text(lang, "collapsed", margin=margin, items="; ".join(items), conf=data.cfg.eval.conf)


def _convergence_sentence(data: ReportData, lang: str) -> str | None:
    """Mean epochs to 90% of the final mmAP, pruned models against uniform-width baselines: faster or slower only
    by more than a tenth of the fine-tune's epochs (at least one), since each model trained once and a run's epoch
    to 90 % moves by a few epochs between seeds. Pruned models fine-tuned longer (`finetune.target_epochs`) are left
    out of the mean: a longer schedule reaches 90 % later."""
    table = convergence_table(data)
    epochs = data.cfg.finetune.epochs
    table = table[(table["kind"] != "pruned") | (table["epochs"] == epochs)] if not table.empty else table
    if table.empty or not {"pruned", "variant"} <= set(table["kind"]):
        return None
    means = table.groupby("kind")["epochs_to_90"].mean()
    pruned, variants = float(means["pruned"]), float(means["variant"])
    margin = max(1.0, 0.1 * epochs)
    verdict = "slower" if pruned > variants + margin else "faster" if pruned < variants - margin else "same"
    return text(lang, "convergence", pruned=pruned, variants=variants, epochs=epochs,
                verdict=text(lang, verdict, margin=margin))  # fmt: skip


def _rising_sentence(data: ReportData, lang: str) -> list[str]:
    """The pruned models whose fine-tune was still improving when it ended (`still_rising`): more epochs are the
    first thing to try for what pruning cost them. Empty when none was."""
    rising = []
    for model in data.models:
        if model.kind == "pruned" and model.id in data.curves:
            found = still_rising(data.curves[model.id])
            if found:
                n, before, last = found
                rising.append(text(lang, "still_rising_model", label=model.label, before=before, last=last, n=n))
    return [text(lang, "still_rising", models="; ".join(rising))] if rising else []


def _next_steps(data: ReportData, measured: pd.DataFrame, budget: float, lang: str) -> list[str]:
    """What to try when no model meets the budget, each step backed by a measured number."""
    steps = []
    full = {m.id: m for m in data.models}
    for v in data.cfg.train.variants:
        same_width = [o for o in data.cfg.train.variants if o.width_scale == v.width_scale and o.imgsz is None]
        rows = measured.set_index("model")
        if v.imgsz and same_width and v.name in rows.index and same_width[0].name in rows.index:
            steps.append(
                text(
                    lang,
                    "next_imgsz",
                    variant=v.label,
                    imgsz=full[v.name].imgsz,
                    latency=rows.loc[v.name, "latency_ms"],
                    same=same_width[0].label,
                    full=rows.loc[same_width[0].name, "latency_ms"],
                )
            )
            break
    fastest = measured["latency_ms"].min()
    cuts = [m["threshold"] for m in data.prune.values() if m.get("threshold") is not None and not m.get("cost_match")]
    steps.append(text(lang, "next_prune", factor=fastest / budget, value=max(cuts, default=0.0)))
    labels = target_labels(data)
    for target, metrics in data.prune.items():
        search = metrics.get("search")
        if search and not search["met"] and not metrics.get("cost_match"):  # an alternative's miss is not a next step
            steps.append(
                text(
                    lang,
                    "next_search",
                    label=labels[target],
                    budget=metrics["value"],
                    threshold=search["threshold"],
                    gflops=search["gflops"],
                    latency=search["latency_ms"],
                    ratio=search["ratio"],
                )  # fmt: skip
            )
    flops = measured.loc[measured["gflops"].idxmin()]
    fast = measured.loc[measured["latency_ms"].idxmin()]
    if flops["model"] != fast["model"]:
        steps.append(text(lang, "next_engine", flops=flops["label"], fast=fast["label"]))
    return steps
