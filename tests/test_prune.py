"""Pruning on tiny models built from YAML (yolov5n, yolov8n; nc=3, imgsz 64) with randomized gammas."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import built_once
from helpers.models import IMGSZ, bn_channels, load_without_yoloslim, sparse_model, split_channels
from helpers.training import assert_learns_from
from torch import nn
from ultralytics import YOLO
from ultralytics.nn.tasks import DetectionModel
from yoloslim.cli import main
from yoloslim.models.c2f import C2fSplit, split_c2f
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.prune.figures import sparsity_segments
from yoloslim.prune.groups import UnsupportedModelError, align_count, excluded_layers
from yoloslim.prune.onnx_check import check_onnx
from yoloslim.prune.slimming import PruneResult, prune_model
from yoloslim.text import say

THRESHOLD = 0.05


MODELS = ["yolov5n.yaml", "yolov8n.yaml"]


@pytest.fixture(scope="module")
def pruned_models(tmp_path_factory) -> dict[str, tuple[DetectionModel, PruneResult]]:
    """Each tiny model and its pruned result at THRESHOLD (built once)."""

    def build() -> dict[str, tuple[DetectionModel, PruneResult]]:
        models = {cfg: sparse_model(cfg) for cfg in MODELS}
        return {cfg: (model, prune_model(model, threshold=THRESHOLD, imgsz=IMGSZ)) for cfg, model in models.items()}

    return built_once(tmp_path_factory, "pruned_models", build)


@pytest.fixture(params=MODELS)
def pruned(request, pruned_models) -> tuple[DetectionModel, PruneResult]:
    return pruned_models[request.param]


def test_pruned_student_learns_from_its_unpruned_model(pruned):
    teacher, result = pruned
    assert_learns_from(teacher, result.model, IMGSZ)


def test_align_count_directions_and_floor():
    assert [align_count(k, 64, 8, "up") for k in (0, 1, 8, 9, 63)] == [8, 8, 8, 16, 64]
    assert [align_count(k, 64, 8, "down") for k in (0, 7, 9, 63)] == [8, 8, 8, 56]
    assert [align_count(k, 64, 8, "nearest") for k in (11, 12, 13)] == [8, 16, 16]
    assert align_count(20, 20, 8, "up") == 16  # a width that is not a multiple is aligned down
    assert align_count(0, 8, 8, "down") == 8  # never below round_to


def test_alignment_holds_and_no_layer_reaches_zero(pruned):
    _, result = pruned
    layers = result.layers
    assert (layers["kept"] % 8 == 0).all() and (layers["kept"] >= 8).all()
    assert dict(zip(layers["layer"], layers["kept"], strict=True)) == split_channels(result.model)
    assert (layers["kept"] < layers["original"]).mean() > 0.8  # the threshold pruned most layers
    assert (layers["original"] - layers["kept"] == layers["pruned_threshold"] - layers["align_delta"]).all()
    segments = sparsity_segments(layers)  # the figure's stacked bars add up to each layer's width
    assert (segments.to_numpy() >= 0).all() and (segments.sum(axis=1).to_numpy() == layers["original"]).all()
    for conv in excluded_layers(result.model):  # Detect outputs and DFL keep their width
        assert conv.out_channels in (3, 64, 1)


def test_ratio_table_adds_up(pruned):
    _, result = pruned
    r = result.ratios.set_index("part")
    for col in ("channels_before", "channels_after", "params_before", "params_after"):
        assert r.loc["backbone", col] + r.loc["head", col] == r.loc["overall", col]
    assert r.loc["overall", "params_after"] == result.params_after == sum(p.numel() for p in result.model.parameters())
    assert r.loc["overall", "channel_ratio"] == pytest.approx(
        1 - r.loc["overall", "channels_after"] / r.loc["overall", "channels_before"]
    )
    assert result.gflops_after < result.gflops_before


def test_tied_channels_survive_forward_and_stock_reload(pruned_models, tmp_path):
    # v5 (C3) and v8 (C2f, halves kept equal): stock blocks only, so plain Ultralytics loads them without yoloslim
    expected = {}
    for cfg, (_, result) in pruned_models.items():
        with torch.no_grad():
            assert result.model(torch.rand(1, 3, IMGSZ, IMGSZ))[0].shape[1] == 4 + 3
        assert not any(isinstance(m, C2fSplit) for m in result.model.modules())
        expected[str(save_checkpoint(result.model, tmp_path / cfg / "weights.pt"))] = bn_channels(result.model)
    assert load_without_yoloslim(list(expected), tmp_path) == expected


def test_free_c2f_halves_prune_apart_and_load_with_yoloslim(pruned_models, tmp_path):
    model, equal = pruned_models["yolov8n.yaml"]
    free = prune_model(model, threshold=THRESHOLD, imgsz=IMGSZ, c2f_halves="free")
    halves = [
        (m.cv0.conv.out_channels, m.cv1.conv.out_channels) for m in free.model.modules() if isinstance(m, C2fSplit)
    ]
    assert halves and any(a != b for a, b in halves)  # pruned apart: no stock C2f can hold it
    assert free.gflops_after < equal.gflops_after
    equal_tied = equal.layers[equal.layers["note"].str.contains("to equal the other half")]
    assert len(equal_tied)  # the equal default restored channels to tie halves, and says so in the layer table
    loaded = YOLO(save_checkpoint(free.model, tmp_path / "free.pt")).model
    assert bn_channels(loaded) == bn_channels(free.model)


def test_beta_folding_brings_output_closer_to_unpruned(pruned):
    model, folded = pruned
    plain = prune_model(model, threshold=THRESHOLD, imgsz=IMGSZ, fold_beta=False)
    x = torch.rand(2, 3, IMGSZ, IMGSZ, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x)[0]
        diff_fold = (folded.model(x)[0] - ref).abs().mean()
        diff_plain = (plain.model(x)[0] - ref).abs().mean()
    assert folded.folded and diff_fold < 0.5 * diff_plain


def test_c2f_split_is_equivalent():
    model = sparse_model("yolov8n.yaml")
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    with torch.no_grad():
        before = model(x)[0]
        names = split_c2f(model)
        after = model(x)[0]
    assert names and torch.allclose(before, after, atol=1e-5)


def test_fraction_policy_and_recorded_unpruned_groups():
    model = sparse_model("yolov5n.yaml")
    result = prune_model(model, fraction=0.5, round_to=16, round_dir="down", imgsz=IMGSZ)
    under = (result.layers["pruned_threshold"].sum()) / result.layers["original"].sum()
    assert 0.3 < under < 0.7
    assert (result.layers["kept"] % 16 == 0).all()
    stopped = [g for g in result.unpruned_groups if "model.0" in g["layers"]]  # 16 channels: nothing can go
    assert stopped and "round_to=16" in say("en", stopped[0]["reasons"][0])


def test_fraction_policy_is_exact_when_gammas_tie():
    model = DetectionModel("yolov5n.yaml", nc=3, verbose=False)  # every gamma is 1.0: one big tie
    pruned = {}
    for fraction in (0.5, 0.7):
        layers = prune_model(model, fraction=fraction, round_to=1, fold_beta=False, imgsz=IMGSZ).layers
        pruned[fraction] = layers["pruned_threshold"].sum() / layers["original"].sum()
    # per-layer counts weigh tied groups by their member layers, so the fractions are near, not exact
    assert pruned[0.5] == pytest.approx(0.5, abs=0.05) and pruned[0.7] == pytest.approx(0.7, abs=0.05)


def test_random_control_keeps_each_layers_count_but_not_its_channels():
    model = sparse_model("yolov5n.yaml")
    by_gamma = prune_model(model, threshold=THRESHOLD, imgsz=IMGSZ)
    randoms = [prune_model(model, threshold=THRESHOLD, imgsz=IMGSZ, selection="random", seed=s) for s in (0, 0, 1)]
    assert bn_channels(randoms[0].model) == bn_channels(by_gamma.model)  # the same structure, layer by layer
    assert by_gamma.params_after == randoms[0].params_after < by_gamma.params_before
    kept = [_kept_gamma_mass(r.model) for r in (by_gamma, *randoms)]
    assert kept[1] == kept[2] != kept[3]  # seeded: the same seed picks the same channels
    assert kept[0] > 1.5 * kept[1]  # gamma keeps the large gammas; random keeps about the average
    out = randoms[0].model(torch.zeros(1, 3, IMGSZ, IMGSZ))
    assert out[0].shape[1] == 3 + 4  # it runs: boxes and the 3 classes


def _kept_gamma_mass(model: nn.Module) -> float:
    """Sum of |gamma| over every BatchNorm channel left in the model."""
    return float(sum(m.weight.abs().sum() for m in model.modules() if isinstance(m, nn.BatchNorm2d)))


def test_not_sparse_warning_names_the_cause_and_the_remedy(capsys, tmp_path):
    dense = DetectionModel("yolov5n.yaml", nc=3, verbose=False)
    torch.manual_seed(0)
    for bn in (m for m in dense.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.weight.data = 0.97 + 0.002 * torch.rand(bn.num_features)  # gammas drifted down together
    banded = prune_model(dense, fraction=0.5, imgsz=IMGSZ)
    assert banded.warning and banded.warning["id"] == "not_sparse_band"  # recorded as a text id and its values
    assert "not sparse" in say("en", banded.warning) and "sparse.sl" in say("en", banded.warning)
    assert "noise" in say("en", banded.warning)
    untouched = prune_model(dense, threshold=0.01, imgsz=IMGSZ)
    assert untouched.warning and "no channel has |gamma| under it" in say("en", untouched.warning)
    assert prune_model(sparse_model("yolov5n.yaml"), threshold=THRESHOLD, imgsz=IMGSZ).warning is None
    weights = save_checkpoint(dense, tmp_path / "dense.pt")
    assert main(["prune", str(weights), "--threshold", "0.01", "--imgsz", "64", "--out", str(tmp_path / "o")]) == 0
    assert "WARNING: The model is not sparse" in capsys.readouterr().out


def test_unsupported_block_fails_naming_the_module():
    with pytest.raises(UnsupportedModelError, match=r"model\.6 \(A2C2f\)"):  # YOLO12's area attention
        prune_model(DetectionModel("yolo12n.yaml", nc=3, verbose=False), threshold=0.1, imgsz=IMGSZ)


def test_onnx_check_passes_aligned_and_flags_misaligned(pruned_models, tmp_path):
    model, result = pruned_models["yolov5n.yaml"]
    aligned = save_checkpoint(result.model, tmp_path / "a" / "w.pt")
    report = check_onnx(aligned, tmp_path / "a", imgsz=IMGSZ)
    assert report.ok and report.channels and report.max_abs_diff < 1e-3
    loose = save_checkpoint(
        prune_model(model, threshold=THRESHOLD, round_to=1, imgsz=IMGSZ).model, tmp_path / "b" / "w.pt"
    )
    report = check_onnx(loose, tmp_path / "b", imgsz=IMGSZ)
    assert report.outputs_match and report.misaligned and not report.ok


def test_onnx_parity_is_enforced_on_a_planted_mismatch(pruned_models, tmp_path, monkeypatch):
    import onnx
    import yoloslim.prune.onnx_check as onnx_check

    export = onnx_check.export_onnx

    def export_then_corrupt(weights: Path, out_dir: Path, imgsz: int) -> Path:
        path = export(weights, out_dir, imgsz)
        model = onnx.load(str(path))
        conv = next(n for n in model.graph.node if n.op_type == "Conv" and ".cv3.0.2." in n.input[1])
        bias = next(i for i in model.graph.initializer if i.name == conv.input[2])
        values = onnx.numpy_helper.to_array(bias).copy()
        values += 5.0  # the planted mismatch: the class scores of the first Detect level shifted
        bias.CopyFrom(onnx.numpy_helper.from_array(values, bias.name))
        onnx.save(model, str(path))
        return path

    _, result = pruned_models["yolov5n.yaml"]
    weights = save_checkpoint(result.model, tmp_path / "w.pt")
    assert check_onnx(weights, tmp_path / "ok", imgsz=IMGSZ).outputs_match  # the honest export matches
    monkeypatch.setattr(onnx_check, "export_onnx", export_then_corrupt)
    report = check_onnx(weights, tmp_path / "bad", imgsz=IMGSZ)
    assert not report.outputs_match and report.max_abs_diff > 1e-2
    report.require_aligned()  # alignment is fine: only the parity fails
    with pytest.raises(RuntimeError, match="ONNX Runtime's output differs from PyTorch's") as err:
        report.require_parity(result.layers)
    assert "Pruned layers:" in str(err.value) and "model.0" in str(err.value)


def test_cli_prunes_and_prints_ratio_table(tmp_path, capsys):
    weights = save_checkpoint(sparse_model("yolo11n.yaml"), tmp_path / "sparse.pt")
    out = tmp_path / "out"
    args = ["prune", str(weights), "--threshold", "0.05", "--attention", "heads", "--imgsz", "64", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "overall" in printed and "channel_ratio" in printed
    assert "model.10.m.0.attn: 2 of 2 attention heads kept (heads [0, 1])" in printed  # both heads' values needed
    for name in ("weights.pt", "layers.csv", "ratios.csv", "figures/sparsity.png", "figures/gamma_hist.png"):
        assert (out / name).is_file()


def test_both_checkpoint_loaders_name_a_missing_file(tmp_path: Path) -> None:
    from yoloslim.models.stats import load_model
    from yoloslim.prune.files import load_detection_model

    missing = tmp_path / "none.pt"
    for load in (load_model, load_detection_model):
        with pytest.raises(FileNotFoundError, match=f"{missing}: weights file not found"):
            load(missing)


@pytest.mark.parametrize("name", ["yolov5s.pt", "yolov8n.pt", "yolo11n.pt"])
def test_checkpoints_with_official_names_are_read_offline_as_the_files_they_are(name, monkeypatch, capsys):
    """Ultralytics maps `yolov5s.pt` to `yolov5su.pt` and downloads it; a user's file must be read as it is."""
    import shutil
    import socket
    import tempfile

    from ultralytics.utils.checks import check_yolov5u_filename
    from yoloslim.models.build import load_trainable
    from yoloslim.models.stats import load_model
    from yoloslim.prune.files import load_detection_model

    folder = Path(tempfile.gettempdir()) / f"yoloslim-names-{name[:-3]}"  # no "u" in it: Ultralytics renames
    shutil.rmtree(folder, ignore_errors=True)
    path = save_checkpoint(sparse_model("yolov5n.yaml"), folder / name)
    if name.startswith("yolov5"):
        assert check_yolov5u_filename(str(path), verbose=False) != str(path)  # the rename really would happen

    def no_network(*args, **kwargs):
        raise OSError("network unavailable (test)")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    expected = bn_channels(sparse_model("yolov5n.yaml"))
    assert bn_channels(load_detection_model(path)[0]) == expected
    assert bn_channels(load_trainable(path)) == expected
    assert bn_channels(load_model(path).model) == expected
    assert main(["prune", str(path), "--threshold", "0.05", "--imgsz", "64", "--out", str(folder / "out")]) == 0
    assert (folder / "out" / "weights.pt").is_file() and sorted(p.name for p in folder.iterdir()) == ["out", name]
    shutil.rmtree(folder)
