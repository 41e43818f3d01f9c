"""The evaluation stage on the smoke study, with untrained checkpoints placed at the study's weight paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from yoloslim.config import Config
from yoloslim.eval.stage import evaluate_model, evaluate_study, run_eval, write_tables
from yoloslim.eval.tables import (
    ACCURACY_COLUMNS,
    DECODE_COLUMNS,
    MODEL_COLUMNS,
    budget_status,
    decode_frame,
    display_tables,
    format_result,
    models_frame,
    study_frames,
)
from yoloslim.measure.metrics import DetectionStats, class_rows
from yoloslim.models.build import build_model
from yoloslim.models.checkpoint import save_checkpoint
from yoloslim.paths import StudyPaths
from yoloslim.study import find_model

RECORD_KEYS = {"model", "label", "kind", "weights", "data", "imgsz", "conf", "iou", "accuracy", "size_pt_mb",
               "size_onnx_mb", "params", "gflops", "latency", "latency_notes", "decode", "environment",
               "eval_params"}  # fmt: skip


def place_checkpoint(cfg: Config, model_id: str, width_scale: float = 1.0) -> Path:
    """An untrained model saved at a study model's weights path (loads with plain YOLO(path))."""
    model = find_model(cfg, model_id)
    net = build_model(cfg, nc=len(cfg.data.names), width_scale=width_scale)
    return save_checkpoint(net, model.weights, train_args={"imgsz": model.imgsz})


def test_budget_status() -> None:
    latency = {"onnx_cpu": {"median_ms": 12.0}, "torch_cuda": None}
    assert budget_status(latency, "onnx_cpu", 15)["status"] == "met"
    assert budget_status(latency, "onnx_cpu", 10) | {} == {**budget_status(latency, "onnx_cpu", 10), "meets": False}
    unknown = budget_status(latency, "torch_cuda", 10)
    assert unknown["status"] == "unknown" and unknown["meets"] is False and unknown["median_ms"] is None
    # with an interval: met when its upper end is within the budget, not met when its lower end is over it
    timed = {"onnx_cpu": {"median_ms": 12.0, "lo_ms": 11.0, "hi_ms": 13.5, "ratio_lo": 0.55, "ratio_hi": 0.65}}
    statuses = [budget_status(timed, "onnx_cpu", ms)["status"] for ms in (14, 12.5, 10.5)]
    assert statuses == ["met", "borderline", "not met"]
    # a relative budget judges the ratio's interval (paired round by round) against its factor
    relative = [budget_status(timed, "onnx_cpu", 99.0, factor)["status"] for factor in (0.7, 0.6, 0.5)]
    assert relative == ["met", "borderline", "not met"]


def _record(model: str, onnx_ms: float | None) -> dict:
    """A metrics.json record with what `models_frame` reads."""
    latency = {"onnx_cpu": None if onnx_ms is None else {"median_ms": onnx_ms, "p90_ms": onnx_ms}, "torch_cpu": None}
    return {"model": model, "label": model, "kind": "", "imgsz": 64, "size_pt_mb": 1, "size_onnx_mb": 1,
            "params": 1e6, "gflops": 1, "latency": latency}  # fmt: skip


def test_relative_budget_is_a_factor_of_the_base_models_latency() -> None:
    records = [_record("base", 10.0), _record("large", 5.5), _record("middle", 6.5)]
    models = models_frame(records, ("onnx_cpu", "0.6x")).set_index("model")
    assert list(models["target_latency_ms"]) == pytest.approx([6.0] * 3) and set(models["target_latency"]) == {"0.6x"}
    assert dict(models["meets_budget"]) == {"base": "no", "large": "yes", "middle": "no"}
    absolute = models_frame(records, ("onnx_cpu", "6ms")).set_index("model")
    assert list(absolute["meets_budget"]) == list(models["meets_budget"])
    unmeasured = models_frame([_record("base", None), _record("large", 5.5)], ("onnx_cpu", "0.6x"))
    assert unmeasured["target_latency_ms"].isna().all() and set(unmeasured["meets_budget"]) == {"unknown"}


def test_eval_stage_and_tables(smoke_cfg: Config) -> None:
    cfg = smoke_cfg
    names = list(cfg.data.names)
    place_checkpoint(cfg, "base")
    place_checkpoint(cfg, "half_lowres", width_scale=0.5)

    out = run_eval(cfg, "base")
    record = json.loads(out.read_text())
    assert RECORD_KEYS <= set(record)
    for split in cfg.eval.splits:
        assert set(record["accuracy"][split]) == {*names, "all"}
    for engine in ("torch_cpu", "onnx_cpu"):  # nothing timed beside other jobs: the tables time every model
        assert record["latency"][engine]["precision"] == "FP32" and "median_ms" not in record["latency"][engine]
    assert record["onnx_operators"] is None
    shown = evaluate_model(cfg, "base")  # 06_eval: no latency column, no operator profile, the precision
    assert "ONNX CPU ms by operator" not in shown
    assert list(shown["size, params, FLOPs, latency"].filter(like="_ms").columns) == []
    assert shown["size, params, FLOPs, latency"]["onnx_cpu_precision"].iloc[0] == "FP32"
    assert record["environment"]["cpu"] and record["environment"]["threads"] >= 1
    assert record["size_pt_mb"] > 0 and record["size_onnx_mb"] > 0 and record["gflops"] > 0
    assert record["decode"]["has_payloads"] is True and set(record["decode"]["rows"]) == {*names, "all"}
    all_row = record["decode"]["rows"]["all"]
    assert all_row["gt_codes"] >= all_row["gt_decodable"] > 0  # the smoke test set has codes that can decode
    ceiling = StudyPaths.of(cfg).eval_tables.gt_decodable
    (entry,) = json.loads(ceiling.read_text())["entries"]
    assert entry["settings"]["split"] == "test" and sum(map(len, entry["codes"])) == all_row["gt_decodable"]
    assert all_row["decode_rate_vs_decodable"] <= 1 and all_row["decoded"] <= all_row["gt_codes"]
    ceiling_stamp = ceiling.stat().st_mtime_ns
    for split in cfg.eval.splits:  # the matched detections are kept, and give the record's numbers again
        stats = DetectionStats.load(out.parent / f"detections_{split}.npz")
        assert stats.images > 0 and len(stats.conf) == len(stats.pred_img) == len(stats.tp)
        again = pd.DataFrame(class_rows(stats, names, cfg.eval.conf))
        assert again.equals(pd.DataFrame(record["accuracy"][split])[again.columns])
    stamp = out.stat().st_mtime_ns
    assert run_eval(cfg, "base").stat().st_mtime_ns == stamp  # up to date: skipped

    tables, figure = evaluate_study(cfg)  # evaluates half and half_lowres (its weights at 32 px), writes the tables
    eval_dir = StudyPaths.of(cfg).eval_tables.dir
    accuracy = pd.read_csv(eval_dir / "accuracy.csv")
    assert list(accuracy.columns) == ACCURACY_COLUMNS and set(accuracy["conf"]) == {cfg.eval.conf}
    for split in cfg.eval.splits:  # intervals from resamples of the images, kept for the report
        assert (eval_dir / f"bootstrap_{split}.npz").is_file()
    both = accuracy[accuracy["class"] == "all"]
    assert ((both["mAP50_lo"] <= both["mAP50"] + 1e-9) & (both["mAP50"] <= both["mAP50_hi"] + 1e-9)).all()
    assert both[both["model"] == "half_lowres"]["delta_mAP50_lo"].notna().all()
    assert set(accuracy["model"]) == {"base", "half", "half_lowres"}
    assert len(accuracy) == 3 * len(cfg.eval.splits) * (len(names) + 1)
    base = accuracy[accuracy["model"] == "base"]
    assert np.allclose(base["delta_mAP50"].fillna(0), 0) and np.allclose(base["delta_mAP50-95"].fillna(0), 0)
    assert len(json.loads((eval_dir / "accuracy.json").read_text())) == len(accuracy)
    models = pd.read_csv(eval_dir / "models.csv")
    assert list(models.columns) == MODEL_COLUMNS
    assert models.set_index("model").loc["half_lowres", "imgsz"] == 32
    assert models["params_m"].iloc[1] < models["params_m"].iloc[0]
    assert set(models["meets_budget"]) <= {"yes", "no", "unknown"}
    operators = pd.read_csv(eval_dir / "onnx_operators.csv")  # the ONNX Runtime profile of every model
    assert set(operators["model"]) == {"base", "half", "half_lowres"} and (operators["ms"] >= 0).all()
    assert "Conv" in set(operators["operator"]) and "between operators" in set(operators["operator"])
    interleaved = pd.read_csv(eval_dir / "latency_interleaved.csv")  # every model, one process, every CPU engine
    assert set(interleaved["engine"]) == {"torch_cpu", "onnx_cpu"} and len(interleaved) == 2 * 3  # PyTorch too
    assert (interleaved["median_ms"] > 0).all()  # every ratio is to the base model: none is missing
    assert interleaved[["ratio", "ratio_lo", "ratio_hi"]].notna().all().all()
    assert ((interleaved["ratio_lo"] <= interleaved["ratio"]) & (interleaved["ratio"] <= interleaved["ratio_hi"])).all()
    for engine, measured in interleaved.groupby("engine"):  # the budget is judged on the interleaved measurement
        reported = models.set_index("model")[f"{engine}_ms"]
        assert reported.to_dict() == pytest.approx(measured.set_index("model")["median_ms"].to_dict())
    shown = evaluate_model(cfg, "half")  # 06_eval on a finished study: the tables' latency and operator profile
    row = shown["size, params, FLOPs, latency"].iloc[0]
    expected = models.set_index("model").loc["half"]
    assert row["onnx_cpu_ms"] == pytest.approx(expected["onnx_cpu_ms"], abs=1e-3)
    assert row["meets_budget"] == expected["meets_budget"] and "ONNX CPU ms by operator" in shown
    decode = pd.read_csv(eval_dir / "decode.csv")
    assert list(decode.columns) == DECODE_COLUMNS and len(decode) == 3 * (len(names) + 1)
    assert ceiling.stat().st_mtime_ns == ceiling_stamp  # the other models reused the ceiling: counted once
    by_model = decode.set_index(["model", "class"])["gt_decodable"]
    assert by_model.loc["base"].equals(by_model.loc["half_lowres"])
    assert json.loads((eval_dir / "environment.json").read_text())["threads"] >= 1
    assert (eval_dir / "figures" / "compare.png").stat().st_size > 1000
    assert figure == eval_dir / "figures" / "compare.png" and "accuracy (test)" in tables

    one = evaluate_model(cfg, "half_lowres")  # up to date: its tables only, deltas against the base model
    assert list(one["accuracy (test)"].index) == ["1/2_32"]
    assert not one["delta vs base (test)"].isna().all().all()
    # the notebook on a finished study shows these tables and writes nothing: test_e2e.py check_notebooks_by_hand


def test_eval_without_code_classes(smoke_cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """`eval.decode: {}` (as for a user's data set, whose classes are not codes): no decode rate and no zxing-cpp
    work, no ceiling file; decode.csv holds its header only, and the tables and their readers go on."""
    cfg = smoke_cfg
    cfg.eval.decode, cfg.eval.bootstrap, cfg.eval.splits, cfg.quant.splits = {}, 0, ["test"], ["test"]
    cfg.eval.engines, cfg.eval.target_engine = ["onnx_cpu"], "onnx_cpu"  # the least to measure
    place_checkpoint(cfg, "base", width_scale=0.25)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded without code classes")

    monkeypatch.setattr("yoloslim.eval.stage.measure_decode", no_decoding)
    monkeypatch.setattr("yoloslim.eval.stage.cached_decodable", no_decoding)
    record = json.loads(run_eval(cfg, "base").read_text())
    assert RECORD_KEYS <= set(record) and record["decode"] is None
    decode = pd.read_csv(write_tables(cfg)["decode"])
    assert list(decode.columns) == DECODE_COLUMNS and decode.empty
    assert not StudyPaths.of(cfg).eval_tables.gt_decodable.exists()
    names = list(cfg.data.names)
    assert "decode rate" not in display_tables(study_frames([record], names))
    printed = format_result(record, names)  # what `yoloslim eval` prints
    assert "== accuracy (test) ==" in printed and "decode" not in printed


def test_decode_frame_ratio_to_ceiling() -> None:
    dm = {"gt_codes": 4, "decoded": 1, "gt_decodable": 2, "decode_rate_vs_decodable": 0.5}
    none_decodable = {"gt_codes": 4, "decoded": 0, "gt_decodable": 0, "decode_rate_vs_decodable": None}
    frame = decode_frame([{"model": "m", "decode": {"rows": {"dm": dm, "all": none_decodable}}}])
    assert list(frame.columns) == DECODE_COLUMNS
    frame = frame.set_index("class")
    assert frame.loc["dm", "decode_rate_vs_decodable"] == 0.5
    assert np.isnan(frame.loc["all", "decode_rate_vs_decodable"]) and frame.loc["all", "gt_decodable"] == 0


def test_run_eval_names_missing_weights(smoke_cfg: Config) -> None:
    with pytest.raises(FileNotFoundError, match="weights.pt"):
        run_eval(smoke_cfg, "sparse")
    with pytest.raises(KeyError, match="no model 'nope'"):
        run_eval(smoke_cfg, "nope")
