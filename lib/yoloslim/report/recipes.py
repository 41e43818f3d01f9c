"""The fine-tune recipes of `finetune.compare` side by side at equal cost: today's recipe, the same trained longer, and
distillation from the unpruned model (`yoloslim.train.recipes`), with the paired intervals that decide a winner.

    recipe_table(data, "test")          # one row per recipe of each compared target
    recipe_sentences(data, "test", "en")  # one verdict per target, for the summary
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from yoloslim.paths import StudyPaths
from yoloslim.report.data import ReportData
from yoloslim.report.verdicts import Verdict, verdict
from yoloslim.text import text

RECIPE_ORDER = ("recipe", "longer", "distill")  # the rows of one target: today's recipe first


def recipe_facts(data: ReportData, split: str, target: str) -> dict[str, Any] | None:
    """One compared target's three fine-tunes: model ids, epochs, seconds per step, the cost of each fine-tune, mmAP
    on `split`, and the paired differences that decide (None while a model's accuracy is missing).

    Args:
        data (ReportData): The study's results.
        split (str): The split judged on.
        target (str): A target of `finetune.compare`.

    Returns:
        (dict[str, Any] | None): `ids`, `epochs`, `step_s`, `cost_s` and `mmAP` (each keyed by RECIPE_ORDER), `ratio`,
            `teacher`, `base_mmAP`, and `diffs`: (model, other) -> (lo, hi) or None, for longer and distill against
            the recipe and distill against longer.
    """
    paths = StudyPaths.of(data.cfg)
    ids = {"recipe": target, **{r: paths.finetune(target, r).dir.name for r in RECIPE_ORDER[1:]}}
    acc = data.accuracy[(data.accuracy["split"] == split) & (data.accuracy["class"] == "all")].set_index("model")
    if not set(ids.values()) <= set(acc.index):
        return None
    cost = data.costs[target]
    recipe = data.cfg.finetune_epochs("inherit", target)
    epochs = {"recipe": recipe, "longer": cost["epochs"], "distill": recipe}
    step = {"recipe": cost["plain_s"], "longer": cost["plain_s"], "distill": cost["distill_s"]}
    pairs = [("longer", "recipe"), ("distill", "recipe"), ("distill", "longer")]
    return {
        "ids": ids,
        "epochs": epochs,
        "step_s": step,
        "cost_s": {r: step[r] * cost["batches"] * epochs[r] for r in RECIPE_ORDER},
        "mmAP": {r: float(acc.loc[ids[r], "mAP50-95"]) for r in RECIPE_ORDER},
        "ratio": cost["ratio"],
        "teacher": cost["teacher"],
        "base_mmAP": float(acc.loc["base", "mAP50-95"]) if "base" in acc.index else np.nan,
        "diffs": {(a, b): verdict(data, split, ids[a], ids[b]) for a, b in pairs},
    }


def recipe_table(data: ReportData, split: str, lang: str = "en") -> pd.DataFrame:
    """One row per fine-tune of each compared target, indexed by its label: its recipe, epochs, seconds per step
    (measured alone), the cost of the whole fine-tune in those seconds, mmAP on `split`, and its paired difference to
    today's recipe."""
    rows = []
    for target in data.cfg.finetune.compare:
        facts = recipe_facts(data, split, target)
        if facts is None:
            continue
        for recipe in RECIPE_ORDER:
            diff = facts["diffs"].get((recipe, "recipe"))
            rows.append({
                text(lang, "model"): data.labels[facts["ids"][recipe]],
                text(lang, "recipe_column"): text(lang, f"recipe_{recipe}", teacher=facts["teacher"]),
                text(lang, "epochs"): facts["epochs"][recipe],
                text(lang, "step_ms"): 1000 * facts["step_s"][recipe],
                text(lang, "cost_min"): facts["cost_s"][recipe] / 60,
                f"{split} mmAP": facts["mmAP"][recipe],
                text(lang, "vs_recipe"): "" if recipe == "recipe" else _difference(facts, recipe, "recipe", diff),
            })  # fmt: skip
    return pd.DataFrame(rows).set_index(text(lang, "model")) if rows else pd.DataFrame()


def recipe_sentences(data: ReportData, split: str, lang: str) -> list[str]:
    """For each compared target, which recipe won at equal cost (distillation against training longer, by the
    paired interval of their difference), where today's recipe stands against the base model, and what each other
    recipe added to it (a loss to the base model is negative)."""
    sentences = []
    for target in data.cfg.finetune.compare:
        facts = recipe_facts(data, split, target)
        if facts is None:
            continue
        m = facts["mmAP"]
        judged = facts["diffs"][("distill", "longer")]
        diff = m["distill"] - m["longer"]
        if judged is None:
            said = text(lang, "recipes_unsure", diff=diff)
        elif not judged.decided:
            said = text(lang, "recipes_tie", lo=judged.lo, hi=judged.hi, p=judged.p_holm)
        else:
            winner = "distill" if judged.lo > 0 else "longer"
            said = text(lang, f"recipes_{winner}_won", diff=abs(diff), lo=judged.lo, hi=judged.hi)
        sentences.append(
            text(
                lang,
                "recipes",
                label=data.labels[target],
                split=split,
                against=m["recipe"] - facts["base_mmAP"],
                longer_back=m["longer"] - m["recipe"],
                distill_back=m["distill"] - m["recipe"],
                epochs=facts["epochs"]["recipe"],
                longer_epochs=facts["epochs"]["longer"],
                ratio=facts["ratio"],
                teacher=facts["teacher"],
                verdict=said,
            )
        )
    return sentences


def _difference(facts: dict[str, Any], model: str, other: str, judged: Verdict | None) -> str:
    """`+0.012 [+0.003, +0.021]`: a recipe's mmAP minus another's, with its paired interval when there is one."""
    diff = facts["mmAP"][model] - facts["mmAP"][other]
    return f"{diff:+.3f}" + (f" [{judged.lo:+.3f}, {judged.hi:+.3f}]" if judged else "")
