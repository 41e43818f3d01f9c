"""YOLO11 and YOLO26 (C3k2, C3k, C2PSA attention, YOLO26's end-to-end head): pruned at two thresholds, run, exported
and checked through ONNX, reloaded by stock Ultralytics without yoloslim, and fine-tuned for one tiny epoch; and
pruned by whole attention heads (`prune.attention: heads`) where the gammas say a head is not needed."""

from __future__ import annotations

import pytest
import torch
from conftest import built_once
from helpers.models import IMGSZ, bn_channels, load_without_yoloslim, sparse_model, split_channels
from helpers.training import assert_learns_from
from torch import nn
from ultralytics.nn.modules import C2PSA, C3k2
from yoloslim.config import Config
from yoloslim.models.attention import attention_blocks, attentions, intact_layers, value_channels
from yoloslim.models.build import conv_channels
from yoloslim.models.c2f import C2fSplit
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import penalized_bns
from yoloslim.paths import StudyPaths
from yoloslim.prune.onnx_check import check_onnx
from yoloslim.prune.slimming import PruneResult, prune_model
from yoloslim.train.finetune import run_finetune
from yoloslim.train.runner import read_metrics

FAMILIES = ["yolo11n.yaml", "yolo26n.yaml"]
HEADS_FAMILY = "yolo26n.yaml"  # both kinds of attention block: C2PSA and C3k2 with attn=True
THRESHOLDS = (0.02, 0.3)


def droppable_head(cfg: str) -> nn.Module:
    """A tiny model whose gammas are all in [0.5, 1.5) but head 1 of every two-head attention block: its value gammas,
    and those of the second half of the block's residual stream and pass-through half (which a one-head block no
    longer has), are near zero. At a threshold of 0.3 only those go."""
    model = sparse_model(cfg)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.weight.copy_(0.5 + torch.rand(bn.num_features))
        for block in attention_blocks(model).values():
            c, half = block.c, block.c // 2
            for bn in (m for m in block.modules() if isinstance(m, nn.BatchNorm2d) and m.num_features == c):
                bn.weight[half:] = 1e-4  # proj, ffn's output, a C3k2's bottleneck output (and pe, which goes too)
            block.cv1.bn.weight[half:c] = block.cv1.bn.weight[c + half :] = 1e-4  # both halves of the split
            for attn in attentions(block).values():
                attn.qkv.bn.weight[value_channels(attn, [1])] = 1e-4
    return model


@pytest.fixture(scope="module")
def family_pruned(tmp_path_factory) -> dict[str, tuple[nn.Module, list[PruneResult]]]:
    """Each family's tiny sparse-looking model and its pruned results at both thresholds (built once)."""

    def build() -> dict[str, tuple[nn.Module, list[PruneResult]]]:
        models = {cfg: sparse_model(cfg) for cfg in FAMILIES}
        return {cfg: (m, [prune_model(m, threshold=t, imgsz=IMGSZ) for t in THRESHOLDS]) for cfg, m in models.items()}

    return built_once(tmp_path_factory, "family_pruned", build)


@pytest.fixture(scope="module")
def heads_pruned(tmp_path_factory) -> tuple[nn.Module, list[PruneResult]]:
    """yolo26n (a C2PSA and an attention C3k2) with one unneeded head per attention block (`droppable_head`), pruned
    by whole heads at the larger threshold, with and without the beta fold (built once)."""

    def build() -> tuple[nn.Module, list[PruneResult]]:
        model = droppable_head(HEADS_FAMILY)
        return model, [prune_model(model, threshold=THRESHOLDS[1], imgsz=IMGSZ, attention="heads", fold_beta=fold)
                       for fold in (True, False)]  # fmt: skip

    return built_once(tmp_path_factory, "heads_pruned", build)


@pytest.mark.parametrize("cfg", FAMILIES)
def test_family_prunes_around_intact_attention(family_pruned, cfg):
    model, results = family_pruned[cfg]
    intact = intact_layers(model)
    assert intact and all(name.startswith(("model.10.", "model.22.")) for name in intact)
    assert not {f"{name}.bn" for name in intact} & {name for name, _, _ in penalized_bns(model)}  # no L1 on them
    widths = []
    for result in results:
        table = result.layers.set_index("layer")
        assert dict(zip(result.layers["layer"], result.layers["kept"], strict=True)) == split_channels(result.model)
        kept_whole = table.loc[[name for name in intact if name in table.index]]
        assert len(kept_whole) and (kept_whole["kept"] == kept_whole["original"]).all()
        assert kept_whole["note"].str.startswith("kept intact").all()
        pruned = table.drop(kept_whole.index)
        assert (pruned["kept"] % 8 == 0).all() and (pruned["kept"] < pruned["original"]).mean() > 0.5
        assert not any(isinstance(m, C2fSplit) for m in result.model.modules())  # stock C3k2 again
        for mode in ("eval", "train"):
            getattr(result.model, mode)()
            with torch.no_grad():
                result.model(torch.rand(2, 3, IMGSZ, IMGSZ))
        widths.append(result.params_after)
    assert widths[0] > widths[1]  # the larger threshold removed more


@pytest.mark.parametrize("cfg", FAMILIES)
def test_family_student_learns_from_its_unpruned_model(family_pruned, cfg):
    """Distillation (finetune.distill) on YOLO11's and YOLO26's pruned structures: YOLO26's end-to-end head gives
    the teacher's scores from both its one-to-one and one-to-many branches."""
    model, (_, pruned) = family_pruned[cfg]
    assert_learns_from(model, pruned.model, IMGSZ)


def test_unneeded_heads_go_whole_and_their_constants_are_folded(heads_pruned):
    headless, (folded, plain) = heads_pruned
    before, after = attentions(headless), attentions(folded.model)
    assert list(after) == list(before) == ["model.10.m.0.attn", "model.22.m.0.1.attn"]
    for block in attention_blocks(folded.model).values():
        assert type(block) in (C2PSA, C3k2) and block.c == 64  # stock, narrowed to one head of 64 channels
    for name, attn in after.items():
        assert (attn.num_heads, attn.head_dim, attn.key_dim) == (1, 64, 32)
        assert attn.pe.conv.out_channels == attn.pe.conv.groups == attn.proj.conv.in_channels == 64
        kept_rows = before[name].qkv.bn.weight[:128]  # qkv's rows are per head: head 0's query, key and value
        assert torch.equal(attn.qkv.bn.weight, kept_rows)  # head 1, the unneeded one, went
    assert folded.heads == {name: {"heads": 2, "kept": [0]} for name in before}  # metrics.json's attention_heads
    table = folded.layers.set_index("layer")
    heads = table.loc[[f"{name}.{part}" for name in before for part in ("qkv", "pe")]]
    assert heads["note"].str.startswith("1 of 2 heads").all() and (2 * heads["kept"] == heads["original"]).all()
    assert (table["kept"] % 8 == 0).all()
    inside = table.index.str.startswith(tuple(f"{block}." for block in attention_blocks(headless)))
    assert (table.loc[~inside, "kept"] == table.loc[~inside, "original"]).all()  # nothing else was under 0.3
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = headless.eval()(x)[0]
        diffs = [float((r.model.eval()(x)[0] - ref).abs().mean()) for r in (folded, plain)]
    assert diffs[0] < 0.2 * diffs[1], diffs  # the heads' and channels' constant outputs were folded forward
    penalized = {name: channels for name, _, channels in penalized_bns(headless, attention="heads")}
    for name, attn in before.items():  # sparse training in this mode: the value channels of qkv, not pe
        assert penalized[f"{name}.qkv.bn"] == value_channels(attn) and f"{name}.pe.bn" not in penalized
        assert f"{name}.proj.bn" in penalized and f"{name.removesuffix('.attn')}.ffn.0.bn" in penalized


def test_families_export_check_and_load_without_yoloslim(family_pruned, heads_pruned, tmp_path):
    pruned = {f"{cfg}/{t}.pt": result.model for cfg, (_, results) in family_pruned.items()
              for t, result in zip(THRESHOLDS, results, strict=True)}  # fmt: skip
    pruned[f"{HEADS_FAMILY}/heads.pt"] = heads_pruned[1][0].model
    expected = {str(save_checkpoint(model, tmp_path / name)): bn_channels(model) for name, model in pruned.items()}
    for checked in (f"{FAMILIES[0]}/{THRESHOLDS[0]}.pt", f"{HEADS_FAMILY}/heads.pt"):  # one ONNX check per family
        report = check_onnx(tmp_path / checked, tmp_path / "onnx" / checked, imgsz=IMGSZ)
        assert report.ok, (checked, report.summary())
    assert load_without_yoloslim(list(expected), tmp_path) == expected


@pytest.mark.parametrize(("cfg", "attention"), [("yolo11n.yaml", "intact"), (HEADS_FAMILY, "heads")])
def test_family_finetunes_one_epoch_keeping_structure(request, smoke_cfg: Config, cfg, attention):
    smoke_cfg.model.cfg = cfg
    if attention == "heads":
        model = request.getfixturevalue("heads_pruned")[1][0].model
    else:
        model = request.getfixturevalue("family_pruned")[cfg][1][1].model
    save_checkpoint(model, StudyPaths.of(smoke_cfg).prune("small").weights)
    stage = run_finetune(smoke_cfg, "small")
    assert read_metrics(stage)["channels"] == conv_channels(model)
