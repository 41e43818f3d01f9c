"""Deployment engines on a tiny untrained yolov5n and the smoke data set: INT8 exports calibrated on training images
only, run in the precision read back from the engine, validated like FP32, and failures named without stopping the
other engines (yoloslim.measure.engines, yoloslim.eval.stage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_params
from helpers.models import uniform_gamma_model
from yoloslim.config import ConfigError, load_config
from yoloslim.eval.stage import deployment_artifacts, int8_accuracy
from yoloslim.measure import engines
from yoloslim.measure.engines import EngineError, build_artifact, check_outputs, engine_runner
from yoloslim.measure.onnx import export_onnx
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import StudyPaths

IMGSZ = 64


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, smoke_data_out: Path) -> dict[str, object]:
    """The tiny checkpoint, its FP32 ONNX and both INT8 exports, calibrated on 4 training images; the image lists
    Ultralytics' calibration loader was given."""
    folder = tmp_path_factory.mktemp("engines")
    data_yaml = smoke_data_out / "runs" / "smoke" / "data" / "data.yaml"
    weights = save_checkpoint(uniform_gamma_model(), folder / "weights.pt", train_args={"imgsz": IMGSZ})
    calibrated = []
    monkeypatch = pytest.MonkeyPatch()
    import ultralytics.engine.exporter as exporter

    real = exporter.build_yolo_dataset

    def recording(cfg, img_path, *args, **kwargs):  # what the calibration loader reads
        calibrated.append(str(img_path))
        return real(cfg, img_path, *args, **kwargs)

    monkeypatch.setattr(exporter, "build_yolo_dataset", recording)
    try:
        artifacts = {e: build_artifact(e, weights, folder, IMGSZ, data_yaml, calib_images=4)
                     for e in ("onnx_cpu_int8", "openvino_cpu_int8")}  # fmt: skip
    finally:
        monkeypatch.undo()
    artifacts["onnx_cpu"] = artifacts["openvino_cpu"] = export_onnx(weights, folder, IMGSZ)
    return {"weights": weights, "data": data_yaml, "artifacts": artifacts, "calibrated": calibrated}


def test_int8_is_calibrated_on_training_images_only(exported: dict) -> None:
    calibrated = exported["calibrated"]
    assert len(calibrated) == 2 and all(path.endswith("train.txt") for path in calibrated)  # one per INT8 export
    assert not any("val" in Path(p).name or "test" in Path(p).name for p in calibrated)


@pytest.mark.parametrize(
    ("engine", "precision"),
    [("onnx_cpu", "FP32"), ("onnx_cpu_int8", "INT8"), ("openvino_cpu", "FP32"), ("openvino_cpu_int8", "INT8")],
)
def test_each_engine_runs_in_the_precision_read_back(exported: dict, engine: str, precision: str) -> None:
    infer, ran = engine_runner(engine, exported["artifacts"][engine], threads=1)
    out = infer(np.zeros((1, 3, IMGSZ, IMGSZ), np.float32))
    assert ran == precision and out.shape[:2] == (1, 4 + 3) and np.isfinite(out).all()  # boxes and 3 class scores
    check_outputs(engine, exported["artifacts"][engine], exported["data"], IMGSZ)  # usable: no error


def test_an_int8_model_is_validated_like_fp32(exported: dict, tmp_path: Path) -> None:
    names = ["dm", "qr", "bar"]
    artifact = exported["artifacts"]["openvino_cpu_int8"]
    accuracy = int8_accuracy(artifact, exported["data"], ["test"], imgsz=IMGSZ, conf=0.5, iou=0.6, names=names,
                             stats_dir=tmp_path, engine="openvino_cpu_int8")  # fmt: skip
    assert set(accuracy) == {"test"} and set(accuracy["test"]) == {*names, "all"}
    assert 0 <= accuracy["test"]["all"]["mAP50-95"] <= 1
    assert (tmp_path / "detections_test_openvino_cpu_int8.npz").is_file()  # kept for the paired interval


def test_unusable_outputs_are_named(exported: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    artifact = exported["artifacts"]["onnx_cpu_int8"]
    for broken, check in [(np.nan, "NaN or infinite"), (0.0, "every class score is 0")]:
        runner = lambda *args, b=broken, **kwargs: (lambda image: np.full((1, 7, 84), b), "INT8")  # noqa: E731
        monkeypatch.setattr(engines, "engine_runner", runner)
        with pytest.raises(EngineError, match=rf"{artifact.name}: onnx_cpu_int8: outputs unusable \({check}"):
            check_outputs("onnx_cpu_int8", artifact, exported["data"], IMGSZ)


def test_a_failed_export_is_a_note_and_the_other_engines_go_on(
    exported: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smoke_cfg
) -> None:
    def failing(engine: str, weights: Path, *args, **kwargs) -> Path:
        if engine == "onnx_cpu_int8":
            raise EngineError(f"{weights}: onnx_cpu_int8 export failed: RuntimeError: no kernel for ConvInteger")
        return exported["artifacts"][engine]

    monkeypatch.setattr("yoloslim.eval.stage.build_artifact", failing)
    onnx = exported["artifacts"]["onnx_cpu"]
    listed = ["onnx_cpu", "onnx_cpu_int8", "openvino_cpu_int8"]
    artifacts, notes = deployment_artifacts(exported["weights"], onnx, tmp_path, IMGSZ, exported["data"], listed,
                                            smoke_cfg.quant)  # fmt: skip
    assert set(artifacts) == {"onnx_cpu", "openvino_cpu_int8"}
    assert notes == {"onnx_cpu_int8": f"not measured: {exported['weights']}: onnx_cpu_int8 export failed: "
                                      "RuntimeError: no kernel for ConvInteger"}  # fmt: skip


def test_bf16_is_its_own_engine_where_the_cpu_offers_it(
    exported: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smoke_cfg
) -> None:
    """openvino_cpu_bf16 asks OpenVINO for BF16 and reports what it ran; on a CPU without BF16 (the AMD EPYC of our
    CI has none) it is "not measured" with the reason, and the other engines go on."""
    onnx = exported["artifacts"]["onnx_cpu"]
    if engines.bf16_offered():  # AMX or AVX512-BF16: the precision read back is BF16
        assert engine_runner("openvino_cpu_bf16", onnx, threads=1)[1] == "BF16"
    monkeypatch.setattr("yoloslim.eval.stage.bf16_offered", lambda: False)
    monkeypatch.setattr(engines, "bf16_offered", lambda: False)
    listed = ["onnx_cpu", "openvino_cpu", "openvino_cpu_bf16"]
    artifacts, notes = deployment_artifacts(exported["weights"], onnx, tmp_path, IMGSZ, exported["data"], listed,
                                            smoke_cfg.quant)  # fmt: skip
    assert set(artifacts) == {"onnx_cpu", "openvino_cpu"} and notes["openvino_cpu_bf16"].startswith(
        "not measured: this CPU offers no BF16"
    )
    with pytest.raises(EngineError, match="openvino_cpu_bf16: not measured: this CPU offers no BF16"):
        build_artifact("openvino_cpu_bf16", exported["weights"], tmp_path, IMGSZ, exported["data"], calib_images=4)


def test_engines_and_quant_settings_are_checked(out_root: Path) -> None:
    for overrides, message in [
        ({"eval": {"engines": ["onnx_cpu"], "target_engine": "openvino_cpu_int8"}}, "eval.target_engine"),
        ({"eval": {"engines": ["tensorrt"]}}, "eval.engines"),
        ({"quant": {"calib_images": 0}}, "quant.calib_images"),
        ({"eval": {"splits": ["val"]}, "quant": {"splits": ["test"]}}, "quant.splits"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_config(write_params(out_root, overrides))
    every = ["torch_cpu", "onnx_cpu", "onnx_cpu_int8", "openvino_cpu", "openvino_cpu_int8"]
    cfg = load_config(write_params(out_root, {"eval": {"engines": every, "target_engine": "openvino_cpu_int8"}}))
    assert cfg.eval.target_engine == "openvino_cpu_int8" and StudyPaths.of(cfg).eval_tables.accuracy_int8.name


@pytest.mark.parametrize("engine", ["onnx_cpu_int8", "openvino_cpu_int8"])
def test_the_budget_search_times_int8_exports_interleaved(exported: dict, engine: str) -> None:
    """`prune.engine` on an INT8 engine: the base model's and a candidate's exports timed in one process, each with
    its interval (the search itself: test_prune_search.py; a study searched on INT8: an acceptance run)."""
    from yoloslim.config import LatencyConfig
    from yoloslim.prune.search import resolve_engine

    timing = resolve_engine(engine, LatencyConfig(warmup=1, runs=6, threads=1))
    artifact = exported["artifacts"][engine]
    timed = timing({"base": artifact, "candidate": artifact}, IMGSZ)
    for t in timed.values():
        assert 0 < t.lo_ms <= t.median_ms <= t.hi_ms and t.ratio_lo <= t.ratio <= t.ratio_hi
    with pytest.raises(ConfigError, match="prune.engine"):
        load_config(write_params(Path(artifact).parent, {"prune": {"engine": "tensorrt_int8"}}))


def test_every_engine_is_timed_interleaved_from_the_kept_exports(exported: dict, out_root: Path) -> None:
    """The tables stage times every model on each engine in one process, PyTorch from the checkpoints and the others
    from the exports each model's evaluation kept (an OpenVINO folder whole), and the models' latencies on those
    engines become the interleaved ones, with intervals; an engine the study does not list is not timed."""
    from yoloslim.eval.stage import _interleaved, _keep, _latency_from
    from yoloslim.study import find_model

    every = ["torch_cpu", "onnx_cpu", "onnx_cpu_int8", "openvino_cpu", "openvino_cpu_int8"]
    latency = {"warmup": 1, "runs": 6, "threads": 1}
    cfg = load_config(write_params(out_root, {"eval": {"engines": every, "latency": latency}}))
    for model in ("base", "large"):
        _keep(Path(exported["weights"]), find_model(cfg, model).weights)
        for engine in every[1:]:
            _keep(Path(exported["artifacts"][engine]), StudyPaths.of(cfg).eval(model).artifact(engine))
    assert (StudyPaths.of(cfg).eval("large").artifact("openvino_cpu_int8") / "model.xml").is_file()
    own = {e: {"median_ms": 99.0, "p90_ms": 99.0} for e in every}  # what each model's own eval job measured
    records = [{"model": m, "label": m, "imgsz": IMGSZ, "latency": own} for m in ("base", "large")]
    table = _interleaved(cfg, records)
    assert list(dict.fromkeys(table["engine"])) == every and len(table) == 10
    assert (table["lo_ms"] <= table["median_ms"]).all() and (table["median_ms"] <= table["hi_ms"]).all()
    same = table[table["model"] == "large"]  # the same model as the base one, timed in the same rounds: about
    assert ((same["ratio"] > 0.5) & (same["ratio"] < 2)).all()  # 1 (six rounds beside other tests: not exactly)
    assert ((same["ratio_lo"] <= same["ratio"]) & (same["ratio"] <= same["ratio_hi"])).all()
    (large,) = [r for r in _latency_from(table, records) if r["model"] == "large"]
    for engine in every:
        measured = table[(table["model"] == "large") & (table["engine"] == engine)].iloc[0]
        assert large["latency"][engine]["median_ms"] == measured["median_ms"] != 99.0
        assert large["latency"][engine]["interleaved"]


def test_the_tables_time_in_fresh_processes_when_asked(exported: dict, out_root: Path) -> None:
    """eval.processes: 2 measures every model interleaved in two fresh processes, one after another, and reports
    the mean with a prediction interval over them."""
    from yoloslim.eval.stage import _interleaved, _keep

    latency = {"warmup": 1, "runs": 4, "threads": 1}
    cfg = load_config(write_params(out_root, {"eval": {"engines": ["onnx_cpu"], "latency": latency, "processes": 2}}))
    for model in ("base", "large"):
        _keep(Path(exported["artifacts"]["onnx_cpu"]), StudyPaths.of(cfg).eval(model).artifact("onnx_cpu"))
    records = [{"model": m, "label": m, "imgsz": IMGSZ, "latency": {}} for m in ("base", "large")]
    table = _interleaved(cfg, records).set_index("model")
    assert (table["processes"] == 2).all() and (table["runs"] == 8).all()  # 4 rounds in each of 2 processes
    assert (table["lo_ms"] < table["median_ms"]).all() and (table["median_ms"] < table["hi_ms"]).all()
    assert table.loc["base", "ratio_lo"] == table.loc["base", "ratio_hi"] == 1.0
