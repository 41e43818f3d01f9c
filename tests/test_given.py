"""A user's data set with its own splits (an Ultralytics data YAML) and trained detector (best.pt), from
`yoloslim init` through the data stage to the base model taken as it is: splits kept, nothing written into the
data set, every disagreement named."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import tree_hash
from PIL import Image, ImageDraw
from yoloslim.cli import main
from yoloslim.config import ROOT, ConfigError, load_config
from yoloslim.data.mirror import splits_with_images
from yoloslim.data.split import run_split
from yoloslim.eval.stage import run_eval, write_tables
from yoloslim.init import init_study
from yoloslim.paths import StudyPaths
from yoloslim.prune.stage import run_prune
from yoloslim.study import study_models
from yoloslim.train.base import run_train
from yoloslim.train.finetune import run_finetune
from yoloslim.train.sparse import run_sparse

NAMES = ["cat", "dog", "car", "person", "tree"]


def user_set(root: Path, names: list[str], splits: dict[str, int]) -> Path:
    """A tiny data set with its own splits (images/<split>/, labels/<split>/) and its data.yaml; returns the YAML."""
    rng = random.Random(0)
    for split, count in splits.items():
        for i in range(count):
            image, label = root / "images" / split / f"{split}{i}.jpg", root / "labels" / split / f"{split}{i}.txt"
            image.parent.mkdir(parents=True, exist_ok=True)
            label.parent.mkdir(parents=True, exist_ok=True)
            img = Image.new("RGB", (64, 48), (rng.randrange(256),) * 3)
            cls, (x, y, w, h) = rng.randrange(len(names)), (rng.randint(0, 30), rng.randint(0, 20), 20, 16)
            ImageDraw.Draw(img).rectangle([x, y, x + w, y + h], fill=(200, 30 * cls, 0))
            img.save(image)
            label.write_text(f"{cls} {(x + w / 2) / 64:.5f} {(y + h / 2) / 48:.5f} {w / 64:.5f} {h / 48:.5f}\n")
    spec = {"path": str(root), **{split: f"images/{split}" for split in splits}, "names": names}
    (root / "data.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root / "data.yaml"


def detector(path: Path, names: list[str], imgsz: int = 64) -> Path:
    """A tiny (untrained) detection checkpoint for `names` at `imgsz`, as Ultralytics' trainer saves one."""
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load

    spec = yaml_model_load("yolov8n.yaml")
    spec["scales"] = {"n": [0.33, 0.125, 1024]}
    model = DetectionModel(spec, nc=len(names), verbose=False)
    model.names = dict(enumerate(names))
    curves = {"epoch": [1, 2], "metrics/mAP50(B)": [0.1, 0.2], "metrics/mAP50-95(B)": [0.05, 0.1]}
    torch.save({"model": model, "train_args": {"imgsz": imgsz, "epochs": 2}, "train_results": curves}, path)
    return path


@pytest.fixture()
def five_classes(tmp_path: Path) -> Path:
    """A five-class data set with train, val and test splits of its own."""
    return user_set(tmp_path / "pets", NAMES, {"train": 6, "val": 4, "test": 3})


def test_from_init_to_a_report_on_the_users_splits_and_checkpoint(
    five_classes: Path, tmp_path: Path, out_root: Path, capsys: pytest.CaptureFixture
) -> None:
    """The short chain: init, then every stage in this process (one epoch each, one pruned model, one engine) and
    the report notebook. The user's splits are kept, the checkpoint is the base model, not retrained, the report
    names it and the user's classes and says nothing of decoding, and the data set is untouched. (The full
    studies, at the epochs init writes, are in docs/results.md.)"""
    weights = detector(tmp_path / "best.pt", NAMES)
    before = tree_hash(five_classes.parent)
    assert main(["init", "--data", str(five_classes), "--weights", str(weights), "--budget", "20ms",
                 "--folder", str(tmp_path / "params")]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    params = tmp_path / "params" / "pets.yaml"
    assert f"make report CONFIG={params}" in printed and "train 6, val 4, test 3 images" in printed
    text = params.read_text()
    assert "# the checkpoint's image size" in text and "base: weights" in text and "variants: []" in text
    cfg = load_config(params)
    assert cfg.data.names == NAMES and cfg.train.imgsz == 64 and cfg.model.base == "weights"
    assert cfg.prune.targets == {"budget": {"latency": "20ms"}} and cfg.eval.target_latency == "20ms"
    assert cfg.sparse.epochs == cfg.finetune.epochs == 300  # 1 step an epoch: the demo's steps, capped at 300
    spec = yaml.safe_load(text)  # the chain, shortened
    spec["sparse"].update(epochs=1, recover_epochs=0)
    spec["finetune"]["epochs"] = 1
    spec["prune"] = {"thresholds": {"small": 0.15}}  # the latency search: test_prune_search.py
    spec["train"]["workers"] = 0
    spec["eval"].update(engines=["torch_cpu"], target_engine="torch_cpu", bootstrap=20, splits=["test"],
                        latency={"warmup": 1, "runs": 3})  # fmt: skip
    spec["report"] = {"pdf": False}
    params.write_text(yaml.safe_dump(spec))
    cfg = load_config(params)

    result = run_split(cfg)  # the user's splits, as they are: no re-split
    for split, count in {"train": 6, "val": 4, "test": 3}.items():
        mirrored = result.lists[split]
        assert sorted(p.name for p in mirrored) == [f"{split}{i}.jpg" for i in range(count)]
        assert all(p.resolve().parent == five_classes.parent / "images" / split for p in mirrored)
    assert result.counts.to_dict("records") == [
        {"category": "pets", "source": "", "total": 13, "train": 6, "val": 4, "test": 3}
    ]
    paths = StudyPaths.of(cfg)
    assert yaml.safe_load(paths.data.yaml.read_text())["names"] == dict(enumerate(NAMES))

    stage = run_train(cfg, "base")  # the checkpoint is the base model: copied, validated, not trained
    files = paths.train("base")
    assert files.weights.read_bytes() == weights.read_bytes() and not (files.ultra / "weights").exists()
    metrics = json.loads(files.metrics.read_text())
    assert metrics["checkpoint"] == str(weights) and metrics["epochs"] == 2 and metrics["train_seconds"] == 0
    assert "not retrained" in files.log.read_text() and len(files.results.read_text().splitlines()) == 3
    assert run_train(cfg, "base") == stage and cfg.base_label == "best"

    run_sparse(cfg)
    run_prune(cfg, "small")
    run_finetune(cfg, "small")
    for model in study_models(cfg):
        run_eval(cfg, model.id)
    write_tables(cfg)
    executed = paths.notebook("07_report")
    executed.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([Path(sys.executable).parent / "papermill", "-k", "python3", "--cwd", ROOT / "notebooks",
                    ROOT / "notebooks" / "07_report.ipynb", executed, "-p", "config", str(params)],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "yoloslim.report.build", executed, paths.report_html, "--no-pdf"], check=True)
    html = paths.report_html.read_text(encoding="utf-8")
    assert "Base model <code>best</code> at 64 px" in html  # the checkpoint's name, and where it came from:
    assert f"The base model is the checkpoint <code>{weights}</code>" in html
    assert "no uniform-width baselines" in html and "used as they are (not re-split)" in html
    instances = re.search(r"instances: (.*?)\. In the test split", html)
    assert instances and [part.split()[0] for part in instances[1].split(", ")] == NAMES
    assert "Decode rate" not in html and "decod" not in html.split("3 Summary")[-1]
    assert tree_hash(five_classes.parent) == before  # nothing written into the user's data set


def test_a_data_set_without_a_test_split_is_measured_on_val_only(tmp_path: Path, out_root: Path) -> None:
    data = user_set(tmp_path / "one", ["defect"], {"train": 4, "val": 3})
    cfg = load_config(_params(tmp_path, {"data": {"yaml": str(data)}}))
    assert cfg.data.names == ["defect"]
    result = run_split(cfg)
    assert result.lists["test"] == [] and splits_with_images(result.files, ["val", "test"]) == ["val"]


def test_checkpoint_and_data_set_that_disagree_are_named(five_classes: Path, tmp_path: Path) -> None:
    three = detector(tmp_path / "three.pt", ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"three\.pt: the checkpoint detects 3 classes \(a, b, c\).*has 5 \(cat"):
        init_study(five_classes, weights=three, budget="20ms", folder=tmp_path)
    renamed = detector(tmp_path / "renamed.pt", [*NAMES[:4], "bush"])
    with pytest.raises(ValueError, match=r"renamed\.pt: the checkpoint's class names .*'bush'.* disagree"):
        init_study(five_classes, weights=renamed, budget="20ms", folder=tmp_path)
    (tmp_path / "notes.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"notes\.pt: not a readable PyTorch checkpoint"):
        init_study(five_classes, weights=tmp_path / "notes.pt", budget="20ms", folder=tmp_path)
    (tmp_path / "other.yaml").write_text("lr0: 0.01\n")
    with pytest.raises(ValueError, match=r"other\.yaml: not an Ultralytics data YAML: no 'train' key"):
        init_study(tmp_path / "other.yaml", budget="20ms", folder=tmp_path)
    with pytest.raises(ValueError, match=r"--budget 'fast'"):
        init_study(five_classes, budget="fast", folder=tmp_path)
    with pytest.raises(ValueError, match=r"--flops '2x': expected a factor up to 1"):
        init_study(five_classes, budget="20ms", flops="2x", folder=tmp_path)
    assert list(tmp_path.glob("*.yaml")) == [tmp_path / "other.yaml"]  # a refused init writes no params file


def test_the_base_stage_checks_the_checkpoint_against_the_params(
    five_classes: Path, tmp_path: Path, out_root: Path
) -> None:
    weights = detector(tmp_path / "best.pt", NAMES, imgsz=96)
    params = _params(
        tmp_path, {"data": {"yaml": str(five_classes)}, "model": {"weights": str(weights), "base": "weights"}}
    )
    cfg = load_config(params)
    run_split(cfg)
    with pytest.raises(ValueError, match=r"best\.pt: the checkpoint was trained at 96 px, .* sets train\.imgsz 64"):
        run_train(cfg, "base")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"data": {"yaml": "pets/data.yaml", "root": "pets"}}, "'data.yaml' must be unset when data.root is set"),
        ({"data": {"yaml": "pets/data.yaml", "names": ["a", "b"]}}, r"'data.names' \['a', 'b'\] disagree with"),
        ({"data": {"yaml": "pets/data.yaml", "format": "coco"}}, "'data.format' must be left out with data.yaml"),
        ({"data": {"root": "pets", "format": "coco"}}, "'data.names' must list the class names of a coco data set"),
        ({"model": {"base": "weights"}}, "'model.weights' must be the trained base model's checkpoint"),
    ],
)
def test_data_and_model_settings_that_cannot_work_are_named(
    five_classes: Path, tmp_path: Path, overrides: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_params(tmp_path, overrides))


def _params(folder: Path, overrides: dict) -> Path:
    """A params file in `folder` (relative paths are relative to it): smoke's settings with `overrides`."""
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({"name": "study", "train": {"imgsz": 64}, **overrides}))
    return path


@pytest.mark.parametrize(
    ("kind", "names", "counts"),
    [("coco", ["zebra", "ant"], {"train": 3, "val": 1, "test": 1}),
     ("voc", ["cat", "dog", "person"], {"train": 2, "val": 1, "test": 0})],
)  # fmt: skip
def test_coco_and_voc_through_init_and_the_data_stage(
    kind: str, names: list[str], counts: dict[str, int], tmp_path: Path, out_root: Path, request: pytest.FixtureRequest
) -> None:
    root = request.getfixturevalue(kind)
    before = tree_hash(root)
    cfg = load_config(init_study(root, budget="0.5x", flops="0.2x", folder=tmp_path / "params").params)
    assert (cfg.data.format, cfg.data.names) == (kind, names)
    assert cfg.latency_targets() == {"budget": "0.5x"} and cfg.flops_targets() == {"compute": "0.2x"}
    result = run_split(cfg)
    assert {split: len(images) for split, images in result.lists.items()} == counts
    assert splits_with_images(result.files, ["val", "test"]) == ["val", "test"][: 1 + bool(counts["test"])]
    labels = StudyPaths.of(cfg).data.dir / "labels" / "train" / root.name
    if kind == "coco":  # category id 7 (ant) is class 1; its box clipped to the image
        assert (labels / "sub" / "c.txt").read_text().split()[0] == "1"
    else:  # a dog, and a cat; the difficult cat left out
        assert [line.split()[0] for line in (labels / "000001.txt").read_text().splitlines()] == ["1", "0"]
    assert tree_hash(root) == before


def test_check_reads_a_data_yaml_and_names_each_bad_line(five_classes: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", str(five_classes)]) == 0
    assert "(yaml): train 6, val 4, test 3 usable images; 0 skipped; 0 problem(s); classes: cat, dog" in (
        capsys.readouterr().out
    )
    label = five_classes.parent / "labels" / "val" / "val1.txt"
    label.write_text(label.read_text() + "9 0.5 0.5 0.2 0.2\n")
    assert main(["check", str(five_classes)]) == 1
    assert f"{label}:2: class id 9 outside 0..4 (cat, dog, car, person, tree)" in capsys.readouterr().out


def test_voc_classes_are_numbered_as_the_checkpoint_numbers_them(voc: Path, tmp_path: Path, out_root: Path) -> None:
    weights = detector(tmp_path / "best.pt", ["person", "dog", "cat"])  # VOC's own order would be sorted
    params = init_study(voc, weights=weights, budget="20ms", folder=tmp_path / "params").params
    assert "names: [person, dog, cat]  # the VOC object names, the checkpoint's order" in params.read_text()
    cfg = load_config(params)
    run_split(cfg)
    label = StudyPaths.of(cfg).data.dir / "labels" / "train" / "VOC" / "000001.txt"
    assert [line.split()[0] for line in label.read_text().splitlines()] == ["1", "2"]  # a dog and a cat


def test_init_counts_the_demos_recipe_in_optimizer_steps() -> None:
    """`yoloslim init` scales the demo's recipe by optimizer steps: STEPS are the demo's epochs x its steps an epoch."""
    from yoloslim.init import STEPS

    demo = load_config(ROOT / "params" / "demo.yaml")
    train_images = round(demo.data.synth.images * demo.data.split[0] / sum(demo.data.split))
    per_epoch = math.ceil(train_images / demo.train.batch)  # batches an epoch; sparse and fine-tune: optimizer steps
    assert demo.sparse.nbs == demo.finetune.nbs == demo.train.batch
    assert STEPS["train"] == demo.train.epochs * per_epoch and STEPS["finetune"] == demo.finetune.epochs * per_epoch
    assert STEPS["sparse"] == demo.sparse.epochs * per_epoch
    assert STEPS["recover"] == demo.sparse.recover_epochs * per_epoch
