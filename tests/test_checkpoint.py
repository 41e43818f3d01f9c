"""Pruned checkpoints and stock Ultralytics: it loads, exports and predicts them, but refuses to train (un-prune) them;
`yoloslim finetune` trains them further as they are. One tiny pruned YOLOv5 (nc=3, 64 px) shared by every test."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import file_listing
from helpers.models import sparse_model
from ultralytics import YOLO
from ultralytics.nn.tasks import DetectionModel, load_checkpoint, yaml_model_load
from yoloslim.cli import main
from yoloslim.models.build import conv_channels
from yoloslim.models.checkpoint import REFUSAL, UNPRUNED, save_checkpoint
from yoloslim.paths import data_mirror
from yoloslim.prune.slimming import prune_model
from yoloslim.prune.tables import backbone_length

IMGSZ = 64
HINT = "yoloslim finetune WEIGHTS --data DATA_YAML --epochs N"


@dataclass(frozen=True)
class Pruned:
    path: Path  # the pruned checkpoint, as the prune stage writes it
    channels: dict[str, int]  # its conv channels
    dense: Path  # the unpruned (sparse) model it was pruned from


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> Pruned:
    """A pruned tiny YOLOv5 (stock modules only) and its unpruned model, saved once for the module."""
    folder, sparse = tmp_path_factory.mktemp("pruned"), sparse_model("yolov5n.yaml")
    result = prune_model(sparse, threshold=0.05, imgsz=IMGSZ)
    path = save_checkpoint(result.model, folder / "weights.pt", train_args={"imgsz": IMGSZ})
    return Pruned(path, conv_channels(result.model), save_checkpoint(sparse, folder / "sparse.pt"))


@pytest.fixture()
def data_yaml(smoke_data_out: Path) -> Path:
    """The smoke study's data.yaml (3 classes, as the pruned model)."""
    return smoke_data_out / "runs" / "smoke" / "data" / "data.yaml"


@pytest.fixture()
def user_weights(pruned: Pruned, tmp_path: Path) -> Path:
    """A copy of the pruned checkpoint alone in a folder of its own, as a user would have it."""
    folder = tmp_path / "user"
    folder.mkdir()
    return Path(shutil.copy(pruned.path, folder / "pruned.pt"))


def test_only_a_yaml_that_cannot_rebuild_the_model_refuses(pruned: Pruned, tmp_path: Path) -> None:
    v5 = yaml_model_load("yolov5n.yaml")
    dense = load_checkpoint(pruned.dense)[0]
    assert dense.yaml["backbone"] == v5["backbone"] and UNPRUNED not in dense.yaml  # stock training keeps it whole
    model = load_checkpoint(pruned.path)[0]
    assert model.yaml[UNPRUNED] == {"backbone": v5["backbone"], "head": v5["head"]}
    assert {k: model.yaml[k] for k in ("nc", "scale", "channels", "yaml_file")} == {
        "nc": 3,
        "scale": "n",
        "channels": 3,
        "yaml_file": "yolov5n.yaml",
    }
    with pytest.raises(KeyError, match=re.escape(REFUSAL)):
        DetectionModel(copy.deepcopy(model.yaml), verbose=False)
    again = load_checkpoint(save_checkpoint(model, tmp_path / "again.pt"))[0]  # saving it again keeps the record
    assert again.yaml == model.yaml and backbone_length(again) == len(v5["backbone"])


def test_stock_training_refuses_a_pruned_checkpoint(user_weights: Path, data_yaml: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match=re.escape(HINT)):
        YOLO(user_weights).train(
            data=str(data_yaml), epochs=1, imgsz=IMGSZ, batch=8, workers=0, device="cpu", plots=False,
            project=str(tmp_path / "stock"), name="run",
        )  # fmt: skip


def test_finetune_cli_keeps_the_pruned_structure(
    pruned: Pruned, user_weights: Path, user_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, before = tmp_path / "ft", file_listing(user_data.parent)
    argv = ["finetune", str(user_weights), "--data", str(user_data), "--epochs", "1", "--imgsz", str(IMGSZ)]
    argv += ["--batch", "8", "--workers", "0", "--out", str(out), "--teacher", str(pruned.dense)]  # distilled
    assert main(argv) == 0
    weights = out / "weights.pt"
    assert (
        "dis_loss" in (out / "train.log").read_text()
        and f"distill_model={pruned.dense}" in (out / "train.log").read_text()
    )
    assert str(weights) in capsys.readouterr().out
    assert sorted(p.name for p in user_weights.parent.iterdir()) == ["pruned.pt"]  # nothing written beside it
    assert file_listing(user_data.parent) == before, "finetune wrote into the data set"
    assert list(data_mirror(out).dir.rglob("*.cache"))  # Ultralytics' label caches went to the mirror
    trained = {name: stat for name, stat in file_listing(out).items() if Path(name).parts[0] != "data"}
    assert main(argv) == 0  # the same command again: the same key (the data mirror is rebuilt), so it returns at once
    again = {name: stat for name, stat in file_listing(out).items() if Path(name).parts[0] != "data"}
    assert again == trained, "the same command trained again"
    yolo = YOLO(weights)
    assert conv_channels(yolo.model) == pruned.channels
    yolo.predict(np.zeros((IMGSZ, IMGSZ, 3), np.uint8), imgsz=IMGSZ, verbose=False)
    with pytest.raises(KeyError, match=re.escape(HINT)):  # Ultralytics' own checkpoint of it refuses too
        DetectionModel(copy.deepcopy(yolo.model.yaml), verbose=False)


def test_finetune_cli_names_a_missing_file_and_keeps_the_input(
    user_weights: Path, data_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.pt"
    assert main(["finetune", str(missing), "--data", str(data_yaml), "--epochs", "1"]) == 2
    assert f"{missing}: weights file not found" in capsys.readouterr().err
    assert main(["finetune", str(user_weights), "--data", str(tmp_path / "none.yaml"), "--epochs", "1"]) == 2
    assert f"{tmp_path / 'none.yaml'}: data YAML not found" in capsys.readouterr().err
    assert main(["finetune", str(user_weights), "--data", str(data_yaml), "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "inside the output folder" in capsys.readouterr().err and user_weights.is_file()
    other = save_checkpoint(DetectionModel("yolov5n.yaml", nc=2, verbose=False), tmp_path / "other.pt")
    argv = ["finetune", str(user_weights), "--data", str(data_yaml), "--epochs", "1", "--teacher", str(other)]
    assert main(argv) == 2
    assert f"the teacher {other} does not detect the 3 classes of {user_weights}" in capsys.readouterr().err


EXPORT = """
import sys
sys.modules["yoloslim"] = None  # stock Ultralytics alone
from ultralytics.cfg import entrypoint  # the `yolo` command line
for fmt in sys.argv[2:]:
    entrypoint(f"yolo export model={sys.argv[1]} format={fmt} imgsz=64")
"""


def raw_output(exported: Path, image: np.ndarray) -> np.ndarray:
    """The exported model's first output for one NCHW float image, run by its own runtime; OpenVINO in FP32 (on a
    CPU with AMX it runs an FP32 model in BF16 unless told otherwise, off by up to 5 % here)."""
    if exported.suffix == ".onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: image})[0]
    import openvino

    xml = str(next(exported.glob("*.xml")))
    compiled = openvino.Core().compile_model(xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(image)[compiled.output(0)]


def test_stock_ultralytics_exports_a_pruned_checkpoint(pruned: Pruned, user_weights: Path) -> None:
    """`yolo export model=... format=onnx`, and `format=openvino` when OpenVINO is installed (one process, to pay
    for importing Ultralytics once)."""
    formats = ["onnx"] + (["openvino"] if importlib.util.find_spec("openvino") else [])
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", EXPORT, str(user_weights), *formats],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    image = np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32)
    model = load_checkpoint(pruned.path)[0].float().eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(image))[0].numpy()
    assert expected.shape == (1, 4 + 3, 8 * 8 + 4 * 4 + 2 * 2)
    names = {"onnx": "pruned.onnx", "openvino": "pruned_openvino_model"}
    for fmt in formats:
        path = user_weights.parent / names[fmt]  # Ultralytics writes beside the checkpoint: the test's copy
        assert path.exists(), run.stdout[-2000:]
        np.testing.assert_allclose(raw_output(path, image), expected, rtol=1e-2, atol=1e-2)
