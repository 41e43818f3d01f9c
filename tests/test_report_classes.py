"""The report's numbers for any data set: 1 to 80 classes of any names, and a decode section only where a decode
rate was measured (the code classes of `eval.decode`). Hand-made results files as in test_report.py
(`helpers/results.py`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import THREE_TARGETS, write_params
from helpers.results import MANY, write_results
from PIL import Image
from yoloslim.config import load_config
from yoloslim.eval.figures import plot_compare
from yoloslim.report.data import (
    TABLE_COLUMNS,
    ReportData,
    accuracy_tables,
    ceiling_notes,
    column_chunks,
    decode_intro,
    decode_table,
    has_decode,
    int8_tables,
    load_report_data,
)
from yoloslim.report.summary import summary_markdown


@pytest.fixture()
def study(out_root: Path, checkpoints: dict[float, Path]) -> Callable[..., ReportData]:
    """The report's data of a smoke study with these class names (and `eval` settings), from hand-made results."""

    def make(name: str, names: list[str], **eval_settings) -> ReportData:
        prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}  # the models helpers/results.py writes
        params = {"name": name, "data": {"names": names}, "eval": eval_settings, "prune": prune}
        cfg = load_config(write_params(out_root, params))
        write_results(cfg, checkpoints)
        return load_report_data(cfg)

    return make


def _whole(parts: list[pd.DataFrame], table: pd.DataFrame) -> None:
    """The parts are the table, cut between classes, none wider than TABLE_COLUMNS."""
    assert all(part.shape[1] <= TABLE_COLUMNS for part in parts)
    assert pd.concat(parts, axis=1).equals(table)
    groups = [list(dict.fromkeys(part.columns.get_level_values(0))) for part in parts]
    assert sum(map(len, groups)) == len(set(table.columns.get_level_values(0)))  # no class in two parts


def test_eighty_classes_without_decode(study: Callable[..., ReportData], tmp_path: Path) -> None:
    data = study("many", MANY)  # a user's kind of classes on the synthetic set: none is a code, nothing decoded
    assert not has_decode(data) and decode_table(data).empty and ceiling_notes(data, "en") == []
    for _, table in accuracy_tables(data, "test", "en"):  # (class, metric): 81 classes x 2 or 3 metrics, in parts
        parts = column_chunks(table)
        assert len(parts) > 10 and list(parts[0].columns.get_level_values(0)[:1]) == ["person"]
        _whole(parts, table)
    per_class = int8_tables(data, "en")[1][1]  # the INT8 drop per class: one column per class
    assert per_class.shape[1] == 80 and [p.shape[1] for p in column_chunks(per_class)] == [12] * 6 + [8]
    for lang in ("en", "zh"):
        summary = summary_markdown(data, lang)
        assert "decod" not in summary.lower() and "解码" not in summary
        assert ("the 8 of its 80 classes that lost most" if lang == "en" else "80 个类别中下降最多的 8 个") in summary
    assert summary.count("defect_") + summary.count("traffic light") <= 8  # the 8 costliest classes, not 80
    two = data.accuracy[data.accuracy["model"].isin(["base", "large"])]  # two models: fewer cells to draw
    figure = Image.open(plot_compare(two, tmp_path / "compare.png", split="test"))
    assert figure.height > 2 * figure.width  # a heatmap as tall as its 81 rows need, as wide as its models


def test_one_class_with_decode(study: Callable[..., ReportData], tmp_path: Path) -> None:
    data = study("one", ["qr"])  # the synthetic set's qr class alone: decoded as a QR code
    assert has_decode(data) and "for the code classes and the symbology each must decode as (qr: QRCode)" in (
        decode_intro(data, "en")
    )
    assert list(decode_table(data).columns) == [("qr", "/ gt"), ("qr", "/ decodable")]
    assert ceiling_notes(data, "en") == ["Ceilings (ground-truth codes that decode from their own box): qr 8/10 (80%)."]
    gt = ["gt_codes", "decoded", "decode_rate", "gt_decodable", "decode_rate_vs_decodable"]
    data.decode[gt] = float("nan")  # a user's code data set: no payload ground truth, only decoding detections
    assert list(decode_table(data).columns) == [("qr", "/ detections")] and ceiling_notes(data, "en") == []
    assert "no payload ground truth" in decode_intro(data, "en") and "/ gt" not in decode_intro(data, "en")
    standard, operating, _ = accuracy_tables(data, "test", "en")
    assert list(standard[1].columns.get_level_values(0)) == ["qr", "qr", "all", "all"]
    assert column_chunks(operating[1]) == [operating[1]]  # narrow: one table, as it is
    assert "qr" in summary_markdown(data, "en")
    figure = Image.open(plot_compare(data.accuracy, tmp_path / "compare.png", split="test"))
    assert figure.width > figure.height  # grouped bars


def test_decode_off_for_code_classes(study: Callable[..., ReportData]) -> None:
    """`eval.decode: {}` measures no decode rate even on the synthetic set's code classes."""
    data = study("off", ["dm", "qr", "bar"], decode={})
    assert not has_decode(data) and decode_table(data).empty
