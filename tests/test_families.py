"""YOLO11 and YOLO26 (C3k2, C3k, C2PSA attention, YOLO26's end-to-end head): pruned at two thresholds, run, exported
and checked through ONNX, reloaded by stock Ultralytics without yoloslim, and fine-tuned for one tiny epoch."""

from __future__ import annotations

import pytest
import torch
from test_prune import IMGSZ, bn_channels, load_without_yoloslim, sparse_model, split_channels
from yoloslim.config import Config
from yoloslim.models.attention import intact_layers
from yoloslim.models.build import conv_channels
from yoloslim.models.c2f import C2fSplit
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.models.gammas import penalized_bns
from yoloslim.paths import StudyPaths
from yoloslim.prune.onnx_check import check_onnx
from yoloslim.prune.stage import PruneResult, prune_model
from yoloslim.train.finetune import run_finetune
from yoloslim.train.runner import read_metrics

FAMILIES = ["yolo11n.yaml", "yolo26n.yaml"]
THRESHOLDS = (0.02, 0.3)


@pytest.fixture(scope="module")
def family_pruned() -> dict[str, tuple[torch.nn.Module, list[PruneResult]]]:
    """Each family's tiny sparse-looking model and its pruned results at both thresholds (built once)."""
    out = {}
    for cfg in FAMILIES:
        model = sparse_model(cfg)
        out[cfg] = model, [prune_model(model, threshold=t, imgsz=IMGSZ) for t in THRESHOLDS]
    return out


@pytest.mark.parametrize("cfg", FAMILIES)
def test_family_prunes_around_intact_attention(family_pruned, cfg):
    model, results = family_pruned[cfg]
    intact = intact_layers(model)
    assert intact and all(name.startswith(("model.10.", "model.22.")) for name in intact)
    assert not {f"{name}.bn" for name in intact} & {name for name, _ in penalized_bns(model)}  # no L1 on them
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


def test_families_export_check_and_load_without_yoloslim(family_pruned, tmp_path):
    expected = {}
    for cfg, (_, results) in family_pruned.items():
        for threshold, result in zip(THRESHOLDS, results, strict=True):
            expected[str(save_checkpoint(result.model, tmp_path / cfg / f"{threshold}.pt"))] = bn_channels(result.model)
        report = check_onnx(tmp_path / cfg / f"{THRESHOLDS[0]}.pt", tmp_path / cfg, imgsz=IMGSZ)
        assert report.ok, (cfg, report.summary())
    assert load_without_yoloslim(list(expected), tmp_path) == expected


@pytest.mark.parametrize("cfg", FAMILIES)
def test_family_finetunes_one_epoch_keeping_structure(family_pruned, smoke_cfg: Config, cfg):
    smoke_cfg.model.cfg = cfg
    pruned = StudyPaths.of(smoke_cfg).prune("small").weights
    save_checkpoint(family_pruned[cfg][1][1].model, pruned)
    stage = run_finetune(smoke_cfg, "small")
    assert read_metrics(stage)["channels"] == conv_channels(family_pruned[cfg][1][1].model)
