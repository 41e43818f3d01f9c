"""What pruning did, as tables: one row per layer (`layers.csv`) and the ratios per part (`ratios.csv`).

A layer is a Conv block (convolution + BatchNorm) named like `model.2.cv1`; its part (backbone or head) comes
from the model YAML's sections: layer `model.<i>` is in the backbone when `i < len(yaml["backbone"])` (for a
pruned model's refusing YAML, the original list: `yoloslim.models.checkpoint.layer_lists`).
Ratios are pruned fractions: `1 - after / before`, by channels (over the layers' output channels) and by
parameters (over every parameter of the part). Backbone + head add up to overall.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from torch import nn

from yoloslim.models.checkpoint import layer_lists
from yoloslim.prune.groups import GroupPlan
from yoloslim.text import say

LAYER_COLUMNS = ["layer", "part", "original", "kept", "pruned_threshold", "align_delta", "note"]
RATIO_COLUMNS = [
    "part",
    "channels_before",
    "channels_after",
    "channel_ratio",
    "params_before",
    "params_after",
    "param_ratio",
]
PARTS = ("backbone", "head")


def part_of(layer: str, backbone_len: int) -> str:
    """`backbone` or `head` for a layer name `model.<i>...`, by the YAML's backbone length."""
    index = int(layer.split(".")[1])
    return PARTS[0] if index < backbone_len else PARTS[1]


def backbone_length(model: nn.Module) -> int:
    """Number of top-level layers the model YAML lists under `backbone` (the original list of a refusing YAML)."""
    return len(layer_lists(model.yaml)["backbone"])


def layer_table(model: nn.Module, plans: list[GroupPlan], uncovered: dict[str, dict]) -> pd.DataFrame:
    """One row per Conv block in model order: original, kept, pruned by threshold, alignment delta, note.

    `pruned_threshold` counts channels under the threshold (for a tied group, the group's count);
    `align_delta = kept - (original - pruned_threshold)`: > 0 restored by alignment, < 0 removed by it.

    Args:
        model (nn.Module): The model the plans were made on (its BatchNorms give the order and the uncovered widths).
        plans (list[GroupPlan]): The filled plans, one row per layer of each.
        uncovered (dict[str, dict]): The layers in no prunable group, with the reason
            (`yoloslim.prune.groups.uncovered_layers`).

    Returns:
        (pd.DataFrame): The layers.csv table (`LAYER_COLUMNS`).
    """
    backbone = backbone_length(model)
    rows = {}
    for plan in plans:
        for layer in plan.layers:
            rows[layer] = [
                plan.width,
                plan.kept,
                plan.width - plan.kept_by_policy,
                plan.kept - plan.kept_by_policy,
                plan.note,
            ]
    bns = {n.removesuffix(".bn"): m for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    for layer, reason in uncovered.items():
        width = bns[layer].num_features
        rows[layer] = [width, width, 0, 0, say("en", reason)]
    order = [name for name in bns if name in rows]
    records = [[name, part_of(name, backbone), *rows[name]] for name in order]
    return pd.DataFrame(records, columns=LAYER_COLUMNS)


def width_table(before: nn.Module, after: nn.Module, note: str) -> pd.DataFrame:
    """`layers.csv` of a model pruned by another tool: each Conv block's BatchNorm width before and after (all of
    it counted as pruned by that tool's rule, no alignment delta).

    Args:
        before (nn.Module): The model before pruning.
        after (nn.Module): The pruned model (its Conv blocks give the rows).
        note (str): The note on every row.

    Returns:
        (pd.DataFrame): The layers.csv table (`LAYER_COLUMNS`).
    """
    widths = {n.removesuffix(".bn"): m.num_features for n, m in after.named_modules() if isinstance(m, nn.BatchNorm2d)}
    backbone = backbone_length(after)
    records = [
        [name, part_of(name, backbone), m.num_features, widths[name], m.num_features - widths[name], 0, note]
        for name, m in ((n.removesuffix(".bn"), m) for n, m in before.named_modules() if isinstance(m, nn.BatchNorm2d))
        if name in widths
    ]
    return pd.DataFrame(records, columns=LAYER_COLUMNS)


def params_by_part(model: nn.Module) -> dict[str, int]:
    """Parameters of the backbone's and the head's top-level layers."""
    return _sum_by_part(model, lambda layer: sum(p.numel() for p in layer.parameters()))


def channels_by_part(model: nn.Module) -> dict[str, int]:
    """BatchNorm channels of the backbone's and the head's top-level layers."""
    return _sum_by_part(
        model, lambda layer: sum(m.num_features for m in layer.modules() if isinstance(m, nn.BatchNorm2d))
    )


def ratio_table(layers: pd.DataFrame, params_before: dict[str, int], params_after: dict[str, int]) -> pd.DataFrame:
    """`ratios.csv` of a pruned model: channels from its layer table (`original`, `kept`), parameters per part.

    Args:
        layers (pd.DataFrame): Its layers.csv table.
        params_before (dict[str, int]): Part -> parameters before pruning (`params_by_part`).
        params_after (dict[str, int]): Part -> parameters after pruning.

    Returns:
        (pd.DataFrame): The ratios.csv table (`part_ratios`).
    """
    channels_before = {part: int(layers.loc[layers["part"] == part, "original"].sum()) for part in PARTS}
    channels_after = {part: int(layers.loc[layers["part"] == part, "kept"].sum()) for part in PARTS}
    return part_ratios(channels_before, channels_after, params_before, params_after)


def model_ratios(before: nn.Module, after: nn.Module) -> pd.DataFrame:
    """`ratios.csv`'s table for two models of different widths (a narrower variant against the base model),
    counted from their BatchNorm channels and parameters."""
    return part_ratios(channels_by_part(before), channels_by_part(after), params_by_part(before), params_by_part(after))


def part_ratios(
    channels_before: dict[str, int],
    channels_after: dict[str, int],
    params_before: dict[str, int],
    params_after: dict[str, int],
) -> pd.DataFrame:
    """Backbone, head and overall: channels and parameters before and after, and the pruned fractions.

    Args:
        channels_before (dict[str, int]): Part (`backbone`, `head`) -> channels before pruning.
        channels_after (dict[str, int]): Part -> channels after.
        params_before (dict[str, int]): Part -> parameters before.
        params_after (dict[str, int]): Part -> parameters after.

    Returns:
        (pd.DataFrame): The ratios.csv table (`RATIO_COLUMNS`), rows backbone, head, overall.
    """
    rows = []
    for part in (*PARTS, "overall"):
        ch_before, ch_after, p_before, p_after = (
            sum(counts.values()) if part == "overall" else counts[part]
            for counts in (channels_before, channels_after, params_before, params_after)
        )
        rows.append(
            [part, ch_before, ch_after, _ratio(ch_before, ch_after), p_before, p_after, _ratio(p_before, p_after)]
        )
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def _sum_by_part(model: nn.Module, count: Callable[[nn.Module], int]) -> dict[str, int]:
    """`count` summed over the backbone's and the head's top-level layers."""
    backbone = backbone_length(model)
    counts = dict.fromkeys(PARTS, 0)
    for i, layer in enumerate(model.model):
        counts[PARTS[0] if i < backbone else PARTS[1]] += count(layer)
    return counts


def _ratio(before: int, after: int) -> float:
    """Pruned fraction, 0 for an empty part."""
    return 1.0 - after / before if before else 0.0
