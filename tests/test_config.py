"""Loading params files: clear errors naming the file and key; seed.yaml (the original study) loads and dry-runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import write_params
from helpers.workflow import SNAKEMAKE, dry_run, job_counts
from PIL import Image
from yoloslim.config import (
    ROOT,
    SYNTH_DECODE,
    Config,
    ConfigError,
    TrainConfig,
    decode_classes,
    latency_budget,
    load_config,
)


def tiny_dataset(root: Path) -> Path:
    """A two-image data set in the study's category/source layout."""
    for category, source, cls in [("dmcode", "custom", 0), ("qrcode", "argos", 1)]:
        images, labels = root / category / source / "images", root / category / source / "labels"
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(images / "a.jpg")
        (labels / "a.txt").write_text(f"{cls} 0.5 0.5 0.4 0.4\n")
    return root


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train": {"epoch": 3}}, "unknown key 'train.epoch'; did you mean 'train.epochs'?"),
        ({"name": "eval"}, "'name' must be a folder name other than finetune, eval (the runs/ folders of those"),
        ({"prune": {"attention": "rows"}}, "'prune.attention' must be one of ['intact', 'heads']"),
        ({"prune": {"treshold": {"a": 0.1}}}, "did you mean 'prune.thresholds'?"),
        ({"train": {"batch": "big"}}, "'train.batch' must be int, got 'big'"),
        ({"eval": {"target_engine": "npu"}}, "'eval.target_engine' must be one of"),
        ({"data": {"root": "no/such/folder"}}, "'data.root' must be an existing data set folder"),
        ({"train": {"variants": [{"name": "a/b"}]}}, "'train.variants' must be distinct folder names"),
        ({"variants": [{"name": "half"}]}, "'variants' has moved to 'train.variants'"),
        ({"train": {"imgsz": 100}}, "'train.imgsz' must be a multiple of 32 (the detectors' largest stride), got 100"),
        ({"train": {"variants": [{"name": "a", "imgsz": 48}]}}, "'train.variants[0].imgsz' must be a multiple of 32"),
        ({"train": {"variants": [{"name": "a", "label": "a_320", "imgsz": 64}]}}, "'train.variants[0].label' must"),
        ({"train": {"precise_bn": -1}}, "'train.precise_bn' must be a number of images (0: off)"),
        ({"sparse": {"l1": "after_step"}}, "'sparse.l1' must be one of ['after_clip', 'before_clip', 'proximal']"),
        ({"sparse": {"epochs": 4, "recover_epochs": 4}}, "'sparse.recover_epochs' must be an epoch count in [0, "),
        ({"prune": {"random": ["medium"]}}, "'prune.random' must be names of threshold, fraction or FLOPs targets ("),
        ({"eval": {"target_latency": "fast"}}, "'eval.target_latency' must be a positive budget in milliseconds"),
        ({"eval": {"target_latency": "-2ms"}}, "'eval.target_latency' must be a positive budget in milliseconds"),
        (
            {"eval": {"decode": {"QR": "QRCode"}}},
            "'eval.decode.QR' must be keyed by a class name of data.names (dm, qr, bar), got 'QR'",
        ),
        (
            {"eval": {"decode": {"qr": "QR"}}},
            "'eval.decode.qr' must be a zxing-cpp symbology: linear (any 1-D barcode) or a BarcodeFormat name (All, ",
        ),
        ({"eval": {"decode": ["qr"]}}, "'eval.decode' must be a mapping, got ['qr']"),
        ({"finetune": {"seeds": 0}}, "'finetune.seeds' must be a positive number of fine-tunes per model, got 0"),
        ({"finetune": {"seeds": 3, "seeded": ["middle"]}}, "'finetune.seeded' must be ids of fine-tuned models (large"),
        ({"finetune": {"target_epochs": {"tiny": 60}}}, "'finetune.target_epochs' must be keys that are prune targets"),
        ({"finetune": {"target_epochs": {"small": 0}}}, "'finetune.target_epochs.small' must be a positive number of"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, overrides: dict, message: str) -> None:
    params = write_params(tmp_path, overrides)
    with pytest.raises(ConfigError) as err:
        load_config(params)
    assert message in str(err.value) and str(params) in str(err.value)


def test_decode_classes(tmp_path: Path) -> None:
    """`eval.decode` unset: the synthetic set's codes are decoded, a user's data set's classes are not; set: as set,
    `{}` none."""
    assert SYNTH_DECODE == {"dm": "DataMatrix", "qr": "QRCode", "bar": "linear"}
    assert decode_classes(load_config(write_params(tmp_path, {}))) == SYNTH_DECODE
    partly = load_config(write_params(tmp_path, {"data": {"names": ["qr", "person"]}}))
    assert decode_classes(partly) == {"qr": "QRCode"}  # the synthetic set's classes among data.names
    user = {"data": {"root": str(tiny_dataset(tmp_path / "user"))}}
    assert decode_classes(load_config(write_params(tmp_path, user))) == {}
    chosen = {**user, "eval": {"decode": {"dm": "DataMatrix", "bar": "EAN13"}}}
    assert decode_classes(load_config(write_params(tmp_path, chosen))) == {"dm": "DataMatrix", "bar": "EAN13"}
    assert decode_classes(load_config(write_params(tmp_path, {"eval": {"decode": {}}}))) == {}
    data_yaml = load_config(write_params(tmp_path, {}))
    data_yaml.data.yaml = "data.yaml"  # an Ultralytics data YAML (a data source besides data.root): a user's set
    assert decode_classes(data_yaml) == {}


def test_a_variants_label_names_the_size_it_is_evaluated_at(tmp_path: Path) -> None:
    """The default `half_lowres` is evaluated at 160 px: so labelled in a 640 px study too (not the original's
    1/2_320); "{imgsz}" in a label is the size the variant is evaluated at."""
    assert [v.label for v in Config(train=TrainConfig(imgsz=640)).train.variants] == ["1/2", "1/2_160"]
    variants = [{"name": "half"}, {"name": "low", "label": "1/2_{imgsz}", "imgsz": 64, "same_as": "half"},
                {"name": "full", "label": "1/2@{imgsz}px"}]  # fmt: skip
    cfg = load_config(write_params(tmp_path, {"train": {"imgsz": 96, "variants": variants}}))
    assert [v.label for v in cfg.train.variants] == ["1/2", "1/2_64", "1/2@96px"]


def test_unset_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOLOSLIM_DATA", raising=False)
    with pytest.raises(ConfigError, match=r"seed.yaml: 'data.root' must be a path whose environment variables are set"):
        load_config(ROOT / "params" / "seed.yaml")


def test_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="params file not found"):
        load_config(tmp_path / "nope.yaml")


def test_seed_loads_and_dry_runs(out_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny_dataset(out_root / "codes")
    monkeypatch.setenv("YOLOSLIM_DATA", str(data))
    cfg = load_config(ROOT / "params" / "seed.yaml")
    assert (cfg.model.cfg, cfg.train.imgsz, cfg.train.epochs, cfg.sparse.epochs) == ("yolov5s.yaml", 640, 1050, 800)
    assert cfg.sparse.sl == pytest.approx(6e-4) and cfg.prune.round_to == 8 and cfg.eval.conf == 0.5
    assert cfg.prune_targets() == {"large": 0.01, "middle": 0.10, "small": 0.15}
    assert [(v.label, v.imgsz) for v in cfg.train.variants] == [("1/2", None), ("1/2_320", 320)]
    assert cfg.data.root == str(data)
    out = dry_run(ROOT / "params" / "seed.yaml")
    assert job_counts(out) == {
        "data": 1, "train": 1, "train_variant": 1, "sparse": 1, "prune": 3, "finetune": 9, "eval_model": 7,
        "eval_tables": 1, "report": 1, "all": 1,
    }  # fmt: skip
    assert "gpu=1" in out  # train.device "0": each training job holds one GPU
    assert "finetune/small-seed2/weights.pt" in out  # finetune.seeds: 3, every fine-tuned model


def test_workflow_reports_config_errors(tmp_path: Path) -> None:
    params = write_params(tmp_path, {"train": {"epoch": 3}})
    env = {**os.environ, "YOLOSLIM_OUT": str(tmp_path)}
    command = [SNAKEMAKE, "-n", "--cores", "1", "--config", f"params={params}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "did you mean 'train.epochs'?" in done.stdout + done.stderr
    assert not (tmp_path / "runs").exists()  # nothing written for an invalid config


@pytest.mark.parametrize(("value", "parsed"), [("20ms", (20.0, False)), ("7.5 ms", (7.5, False)), (20, (20.0, False)),
                                               ("0.6x", (0.6, True)), ("0.6X", (0.6, True))])  # fmt: skip
def test_latency_budget_absolute_or_relative(value: str | float, parsed: tuple[float, bool]) -> None:
    assert latency_budget(value) == parsed


def test_make_report_stops_on_a_bad_params_file_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from yoloslim.jobs.run import run_study

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsparse: {sll: 0.1}\n")
    assert run_study(bad, cores=1) == 2  # before Snakemake starts
    assert f"{bad}: unknown key 'sparse.sll'; did you mean 'sparse.sl'?" in capsys.readouterr().err
