"""The prune stage's errors and its ONNX check; the stage's outputs on the smoke study are checked end to end
(test_e2e.py `check_prune_stage`), a real pruning through the stage by test_prune_search.py."""

from __future__ import annotations

import pytest
from yoloslim.prune.onnx_check import OnnxCheck
from yoloslim.prune.stage import run_prune


def test_run_prune_rejects_unknown_target(smoke_cfg):
    with pytest.raises(KeyError, match="tiny"):
        run_prune(smoke_cfg, "tiny")


def test_misaligned_onnx_check_raises(tmp_path):
    channels = {"model.0.conv.weight": 12, "model.1.conv.weight": 32}
    check = OnnxCheck(tmp_path / "weights.onnx", channels, ["model.0.conv.weight: 12"], 0.0, True, round_to=8)
    assert check.summary()["aligned"] is False and check.summary()["misaligned"] == ["model.0.conv.weight: 12"]
    with pytest.raises(RuntimeError, match=r"weights.onnx: .*round_to=8 \(a pruning bug\): model.0.conv.weight: 12"):
        check.require_aligned()
    OnnxCheck(tmp_path / "weights.onnx", {"model.1.conv.weight": 32}, [], 0.0, True).require_aligned()
