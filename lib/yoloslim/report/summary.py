"""Section 3 of the report, written from the measured numbers (English or Chinese).

write_summary(load_report_data(cfg), "en")  # markdown bullets
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from yoloslim.eval.bootstrap import within_noise
from yoloslim.report.data import (
    ReportData,
    budget_label,
    budget_of,
    class_costs,
    collapsed_classes,
    convergence_table,
    difference_interval,
    pareto_front,
    report_split,
    target_labels,
    tradeoff_points,
    unmeasured_engines,
)
from yoloslim.study import finetune_jobs, prune_jobs

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "budget_met": "**{n} of {total}** models meet the budget of {label} on `{engine}`: {models}. "
        "The most accurate of them is **{best}** ({split} mmAP {acc:.3f}, {latency:.2f} ms).",
        "budget_none": "**No model meets** the budget of {label} on `{engine}`. The fastest, **{fast}**, "
        "takes {latency:.2f} ms, {factor:.1f}× the budget ({split} mmAP {acc:.3f}).",
        "budget_unmeasured": "The budget engine `{engine}` was not measured on this machine, so no model can "
        "be judged against the budget of {label}.",
        "cost": "Accuracy cost of **{model}** against the base ({split} mmAP drop per class): {costs}.",
        "collapsed": "**Collapsed classes** (a class's recall at conf {conf:g} fell more than its model's average "
        "recall, by more than {margin:g}): {items}.",
        "no_collapse": "No class collapsed: no class's recall at conf {conf:g} fell more than its model's average "
        "recall by more than {margin:g}.",
        "convergence": "Fine-tuning convergence: the pruned models reached 90% of their final val mmAP after "
        "{pruned:.1f} epochs on average, the uniform baselines after {variants:.1f} ({verdict}).",
        "slower": "pruned models converged more slowly",
        "faster": "pruned models converged faster",
        "same": "about as fast",
        "next_imgsz": "Next: a lower input size pays off: **{variant}** at {imgsz} px runs at {latency:.2f} ms "
        "against {full:.2f} ms for **{same}** at full size; prune at the lower size and judge by mAP.",
        "next_prune": "Next: prune harder. The budget needs a {factor:.1f}× speed-up over the fastest model; "
        "raise the largest threshold above {value:g}, or use `prune.policy: fraction` with a larger fraction.",
        "next_engine": "Latency and FLOPs disagree here (the fewest FLOPs: **{flops}**; the fastest: **{fast}**): "
        "measure on the target engine before choosing.",
        "next_search": "The search for **{label}** found no structure within {budget}: the fastest (|gamma| < "
        "{threshold:.4g}, {gflops:.3g} GFLOPs) takes {latency:.3g} ms, {ratio:.2f}× the base model. A smaller "
        "`train.imgsz` or a narrower base model is next.",
        "unmeasured": "Not measured on this machine: {engines}.",
        "random": "Selection by |gamma| against the random-selection control (the same channel count in every "
        "layer, channels chosen at random, fine-tuned the same way): **{gamma_label}** {split} mmAP {gamma:.3f}, "
        "**{random_label}** {random:.3f} ({diff:+.3f}): {verdict}.",
        "random_won": "selection by gamma beat random selection",
        "alternative": "Selection by |gamma| against Torch-Pruning's `{method}` pruner at the same cost ({cost}), "
        "fine-tuned the same way: **{gamma_label}** {split} mmAP {gamma:.3f}, **{random_label}** {random:.3f} "
        "({diff:+.3f}): {verdict}.",
        "alternative_won": "network slimming beat it",
        "pareto": "On the {split} accuracy-latency Pareto front (no other model both faster and more accurate), "
        "fastest first: {on}. Off it: {off}.",
        "pareto_off": "{label} (beaten by {by})",
        "pareto_all": "none of the compressed models",
        "alternative_lost": "Torch-Pruning's pruner beat network slimming",
        "alternative_unmatched": " Not at equal cost: {message}.",
        "random_noise": "the difference is **within noise**: its 95 % interval, {lo:+.3f} to {hi:+.3f}, contains 0",
        "interval": " (95 % interval {lo:+.3f} to {hi:+.3f})",
        "noise": " (within noise)",
        "random_lost": "selection by gamma did **not** beat random selection; here the gammas did not single out "
        "the channels the detector needs",
        "not_sparse": "**{label}** — {warning}",
    },
    "zh": {
        "budget_met": "共 **{n}/{total}** 个模型满足 `{engine}` 上 {label} 的时延预算：{models}。"
        "其中精度最高的是 **{best}**（{split} mmAP {acc:.3f}，{latency:.2f} ms）。",
        "budget_none": "**没有模型满足** `{engine}` 上 {label} 的时延预算。最快的 **{fast}** 需要 "
        "{latency:.2f} ms，为预算的 {factor:.1f} 倍（{split} mmAP {acc:.3f}）。",
        "budget_unmeasured": "本机未测量预算所用的引擎 `{engine}`，无法判断模型是否满足 {label} 的预算。",
        "cost": "**{model}** 相对基础模型的精度损失（{split} 各类别 mmAP 下降）：{costs}。",
        "collapsed": "**出现崩塌的类别**（该类在置信度 {conf:g} 下的召回率下降比模型平均下降多出 {margin:g} "
        "以上）：{items}。",
        "no_collapse": "没有类别崩塌：各类别在置信度 {conf:g} 下的召回率下降均未比模型平均下降多出 {margin:g}。",
        "convergence": "微调收敛：剪枝模型平均 {pruned:.1f} 轮达到最终验证集 mmAP 的 90%，均匀缩放基线平均 "
        "{variants:.1f} 轮（{verdict}）。",
        "slower": "剪枝模型收敛更慢",
        "faster": "剪枝模型收敛更快",
        "same": "收敛速度相近",
        "next_imgsz": "下一步：降低输入尺寸有效：**{variant}** 在 {imgsz} px 下为 {latency:.2f} ms，而全尺寸的 "
        "**{same}** 为 {full:.2f} ms；建议在较小尺寸下剪枝，并以 mAP 评判。",
        "next_prune": "下一步：加大剪枝力度。达到预算需要比最快模型再快 {factor:.1f} 倍；可将最大阈值提高到 "
        "{value:g} 以上，或使用 `prune.policy: fraction` 并增大比例。",
        "next_engine": "此处时延与计算量不一致（计算量最少：**{flops}**；最快：**{fast}**）："
        "请在目标引擎上实测后再选择。",
        "next_search": "**{label}** 的搜索未找到 {budget} 以内的结构：最快的结构（|gamma| < {threshold:.4g}，"
        "{gflops:.3g} GFLOPs）耗时 {latency:.3g} ms，为基础模型的 {ratio:.2f} 倍。"
        "下一步可减小 `train.imgsz` 或使用更窄的基础模型。",
        "unmeasured": "本机未测量：{engines}。",
        "random": "按 |gamma| 选择通道与随机选择对照（每层保留相同通道数，随机选择通道，以相同方式微调）："
        "**{gamma_label}** {split} mmAP {gamma:.3f}，**{random_label}** {random:.3f}（{diff:+.3f}）：{verdict}。",
        "random_won": "按 gamma 选择优于随机选择",
        "alternative": "按 |gamma| 选择通道与 Torch-Pruning 的 `{method}` 剪枝器在相同代价（{cost}）下对比，"
        "以相同方式微调：**{gamma_label}** {split} mmAP {gamma:.3f}，**{random_label}** {random:.3f}"
        "（{diff:+.3f}）：{verdict}。",
        "alternative_won": "网络瘦身更优",
        "pareto": "{split} 集精度-时延帕累托前沿（没有其他模型同时更快且更准），由快到慢：{on}。不在前沿上：{off}。",
        "pareto_off": "{label}（被 {by} 超越）",
        "pareto_all": "所有压缩模型均在前沿上",
        "alternative_lost": "Torch-Pruning 的剪枝器优于网络瘦身",
        "alternative_unmatched": "计算量不相等：{message}。",
        "random_noise": "两者之差**在噪声范围内**：其 95% 置信区间 {lo:+.3f} 至 {hi:+.3f} 包含 0",
        "interval": "（95% 置信区间 {lo:+.3f} 至 {hi:+.3f}）",
        "noise": "（在噪声范围内）",
        "random_lost": "按 gamma 选择**未能**优于随机选择；此处 gamma 未能区分出检测器需要的通道",
        "not_sparse": "**{label}** — {warning}",
    },
}


def write_summary(data: ReportData, lang: str) -> str:
    """The summary as markdown bullets: budget, per-class cost, collapse, convergence, next steps."""
    say = PHRASES[lang]
    split = report_split(data)
    points = tradeoff_points(data)
    engine, budget = budget_of(data)
    label = budget_label(data, lang)
    bullets = []
    measured = points.dropna(subset=["latency_ms"])
    if measured.empty:
        bullets.append(say["budget_unmeasured"].format(engine=engine, label=label))
    else:
        within = measured[measured["meets_budget"]]
        if len(within):
            best = within.loc[within["mmAP"].idxmax()]
            bullets.append(
                say["budget_met"].format(
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
            )
        else:
            fast = measured.loc[measured["latency_ms"].idxmin()]
            bullets.append(
                say["budget_none"].format(
                    label=label,
                    engine=engine,
                    fast=fast["label"],
                    latency=fast["latency_ms"],
                    factor=fast["latency_ms"] / budget,
                    split=split,
                    acc=fast["mmAP"],
                )
            )
            bullets.extend(_next_steps(data, measured, budget, say))
    bullets.extend(_sparsity_warnings(data, say))
    bullets.extend(_random_sentences(points, data, split, say))
    bullets.extend(_pareto_sentence(points, split, say))
    bullets.append(_cost_sentence(data, points, split, say))
    bullets.append(_collapse_sentence(data, split, say))
    convergence = _convergence_sentence(data, say)
    if convergence:
        bullets.append(convergence)
    missing = unmeasured_engines(data)
    if missing:
        bullets.append(say["unmeasured"].format(engines=", ".join(f"`{e}`" for e in missing)))
    return "\n".join(f"- {b}" for b in bullets)


def _sparsity_warnings(data: ReportData, say: dict[str, str]) -> list[str]:
    """The prune stage's warnings of cuts that fall inside one band of gammas (yoloslim.models.gammas)."""
    labels = target_labels(data)
    return [
        say["not_sparse"].format(label=labels.get(pid, pid), warning=metrics["sparsity_warning"])
        for pid, metrics in data.prune.items()
        if metrics.get("sparsity_warning")
    ]


def _random_sentences(points: pd.DataFrame, data: ReportData, split: str, say: dict[str, str]) -> list[str]:
    """Each random control (same structure) and each Torch-Pruning alternative (same GFLOPs) against its target's
    model selected by gamma, all fine-tuned the same way."""
    rows = points.set_index("model")
    sentences = []
    for model_id, (prune_id, _) in finetune_jobs(data.cfg).items():
        target, selection = prune_jobs(data.cfg)[prune_id]
        if selection == "gamma" or model_id not in rows.index or target not in rows.index:
            continue
        key = "random" if selection == "random" else "alternative"
        gamma, random = rows.loc[target], rows.loc[model_id]
        diff = float(gamma["mmAP"] - random["mmAP"])
        verdict = say[f"{key}_won"] if diff > 0 else say[f"{key}_lost"]
        bounds = difference_interval(data, split, target, model_id)
        if bounds is not None:
            lo, hi = bounds
            verdict = say["random_noise"].format(lo=lo, hi=hi) if within_noise(lo, hi) else verdict + say[
                "interval"].format(lo=lo, hi=hi)  # fmt: skip
        match = data.prune.get(prune_id, {}).get("cost_match") or {}
        sentence = say[key].format(
            gamma_label=gamma["label"],
            random_label=random["label"],
            split=split,
            gamma=gamma["mmAP"],
            random=random["mmAP"],
            diff=diff,
            verdict=verdict,
            method=selection,
            cost=_cost_text(match),
        )
        if match and not match["matched"]:
            sentence += say["alternative_unmatched"].format(message=match["message"])
        sentences.append(sentence)
    return sentences


def _cost_text(match: dict) -> str:
    """How an alternative was matched in cost: its GFLOPs against the target's, or its latency within the budget."""
    if match.get("by") == "latency":
        return f"{match['latency_ratio']:.2f}x the base model's latency, budget {match['budget']}"
    return f"{match.get('gflops', float('nan')):.3g} against {match.get('target_gflops', float('nan')):.3g} GFLOPs"


def _pareto_sentence(points: pd.DataFrame, split: str, say: dict[str, str]) -> list[str]:
    """Which models are on the accuracy-latency Pareto front, and, for each compressed model off it, one model
    that is both faster and more accurate (empty without latencies)."""
    measured = points.dropna(subset=["latency_ms", "mmAP"]).reset_index(drop=True)
    if measured.empty:
        return []
    front = set(pareto_front(measured["latency_ms"].tolist(), measured["mmAP"].tolist()))
    off = []
    for i, row in measured.iterrows():
        if i in front or row["kind"] in ("base", "sparse"):
            continue
        better = measured[(measured["latency_ms"] <= row["latency_ms"]) & (measured["mmAP"] >= row["mmAP"])]
        better = better.drop(index=i)
        off.append(say["pareto_off"].format(label=row["label"], by=better.loc[better["mmAP"].idxmax(), "label"]))
    fastest_first = sorted(front, key=lambda i: measured.loc[i, "latency_ms"])
    on = ", ".join(f"**{measured.loc[i, 'label']}**" for i in fastest_first)
    return [say["pareto"].format(split=split, on=on, off="; ".join(off) if off else say["pareto_all"])]


def _chosen_model(points: pd.DataFrame) -> pd.Series:
    """The model the cost sentence describes: the best compressed one within budget, else the best pruned one."""
    compressed = points[points["kind"].isin(["pruned", "variant"])]
    within = compressed[compressed["meets_budget"]]
    pool = within if len(within) else compressed[compressed["kind"] == "pruned"]
    pool = pool if len(pool) else points[points["kind"] != "base"]
    return pool.loc[pool["mmAP"].idxmax()]


def _cost_sentence(data: ReportData, points: pd.DataFrame, split: str, say: dict[str, str]) -> str:
    """Per-class mmAP drop of the chosen model against the base."""
    chosen = _chosen_model(points)
    model = chosen["label"]
    costs = class_costs(data, split).loc[model]
    rows = data.accuracy[(data.accuracy["model"] == chosen["model"]) & (data.accuracy["split"] == split)]
    bounds = rows.set_index("class").reindex(columns=["delta_mAP50-95_lo", "delta_mAP50-95_hi"])
    listed = []
    for cls, v in costs.items():
        lo, hi = bounds.loc[cls] if cls in bounds.index else (np.nan, np.nan)
        noise = say["noise"] if not pd.isna(lo) and within_noise(lo, hi) else ""
        listed.append(f"{cls} {round(-v, 3) + 0.0:+.3f}".replace("-", "−") + noise)
    return say["cost"].format(model=model, split=split, costs=", ".join(listed))


def _collapse_sentence(data: ReportData, split: str, say: dict[str, str]) -> str:
    """Every (model, class) whose drop exceeds the collapse margin, or that none does."""
    margin = data.cfg.report.collapse_margin
    collapsed = collapsed_classes(data, split)
    if not collapsed:
        return say["no_collapse"].format(margin=margin, conf=data.cfg.eval.conf)
    items = "; ".join(f"{model}: {cls} (−{drop:.3f})" for model, cls, drop in collapsed)
    return say["collapsed"].format(margin=margin, items=items, conf=data.cfg.eval.conf)


def _convergence_sentence(data: ReportData, say: dict[str, str]) -> str | None:
    """Mean epochs to 90% of the final mmAP, pruned models against uniform-width baselines."""
    table = convergence_table(data)
    if table.empty or not {"pruned", "variant"} <= set(table["kind"]):
        return None
    means = table.groupby("kind")["epochs_to_90"].mean()
    pruned, variants = float(means["pruned"]), float(means["variant"])
    verdict = say["slower"] if pruned > variants + 0.5 else say["faster"] if pruned < variants - 0.5 else say["same"]
    return say["convergence"].format(pruned=pruned, variants=variants, verdict=verdict)


def _next_steps(data: ReportData, measured: pd.DataFrame, budget: float, say: dict[str, str]) -> list[str]:
    """What to try when no model meets the budget, each step backed by a measured number."""
    steps = []
    full = {m.id: m for m in data.models}
    for v in data.cfg.train.variants:
        same_width = [o for o in data.cfg.train.variants if o.width_scale == v.width_scale and o.imgsz is None]
        rows = measured.set_index("model")
        if v.imgsz and same_width and v.name in rows.index and same_width[0].name in rows.index:
            steps.append(
                say["next_imgsz"].format(
                    variant=v.label,
                    imgsz=full[v.name].imgsz,
                    latency=rows.loc[v.name, "latency_ms"],
                    same=same_width[0].label,
                    full=rows.loc[same_width[0].name, "latency_ms"],
                )
            )
            break
    fastest = measured["latency_ms"].min()
    steps.append(say["next_prune"].format(factor=fastest / budget, value=max(data.cfg.prune_targets().values())))
    labels = target_labels(data)
    for target, metrics in data.prune.items():
        search = metrics.get("search")
        if search and not search["met"] and not metrics.get("cost_match"):  # an alternative's miss is not a next step
            steps.append(
                say["next_search"].format(
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
        steps.append(say["next_engine"].format(flops=flops["label"], fast=fast["label"]))
    return steps
