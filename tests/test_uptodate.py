"""A stage run again with an unchanged key writes nothing: the record helpers, and figures redrawn only when their
sources changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from yoloslim.figures import drawn_from
from yoloslim.train.figures import plot_learning_curves, plot_sl_loss
from yoloslim.uptodate import recording, stage_record, tree_digest, up_to_date


def test_up_to_date_needs_the_same_key_and_every_output(tmp_path: Path) -> None:
    record, output = tmp_path / "params.json", tmp_path / "out.csv"
    key = stage_record({"prune": {"value": 0.1, "names": ("a", "b")}}, {"sparse": "abc"})
    assert key == {"stage": {"prune": {"value": 0.1, "names": ["a", "b"]}}, "inputs": {"sparse": "abc"}}
    assert not up_to_date(record, key, [output])  # nothing recorded yet
    with recording(record, key):
        assert not record.exists()
        output.write_text("x")
    assert json.loads(record.read_text()) == {"key": key}
    assert up_to_date(record, key, [output])
    assert not up_to_date(record, stage_record({"prune": {"value": 0.2}}, {"sparse": "abc"}), [output])
    assert not up_to_date(record, stage_record({"prune": {"value": 0.1}}, {"sparse": "abd"}), [output])
    output.unlink()
    assert not up_to_date(record, key, [output])


def test_recording_failed_leaves_no_record(tmp_path: Path) -> None:
    record = tmp_path / "params.json"
    old = stage_record({"v": 1}, {})
    record.write_text(json.dumps({"key": old}))
    with pytest.raises(RuntimeError), recording(record, stage_record({"v": 2}, {})):
        raise RuntimeError("a stage failing half way")
    assert not record.exists()  # its half-rewritten outputs are not taken for those of the old key
    assert not up_to_date(record, old)


def test_tree_digest_sees_a_file_added_or_changed(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    image = tmp_path / "images" / "a.jpg"
    image.write_bytes(b"1234")
    first = tree_digest(tmp_path)
    assert tree_digest(tmp_path) == first
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 10**9))
    touched = tree_digest(tmp_path)
    assert touched != first
    (tmp_path / "images" / "b.jpg").write_bytes(b"")
    assert tree_digest(tmp_path) not in (first, touched)


def test_figure_redrawn_only_when_its_sources_change(tmp_path: Path) -> None:
    log = tmp_path / "gamma_log.csv"
    pd.DataFrame({"epoch": [0, 1], "sl_mloss": [0.2, 0.1], "gamma_mean": [0.5, 0.4]}).to_csv(log, index=False)
    out = tmp_path / "figures" / "sl_loss.png"
    plot_sl_loss(log, out)
    key, stamp = drawn_from(out), out.stat().st_mtime_ns
    assert key and plot_sl_loss(log, out) == out and out.stat().st_mtime_ns == stamp
    pd.DataFrame({"epoch": [0, 1], "sl_mloss": [0.2, 0.05], "gamma_mean": [0.5, 0.3]}).to_csv(log, index=False)
    plot_sl_loss(log, out)
    assert drawn_from(out) not in (None, key)


def test_figure_redrawn_when_its_labels_change(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    curves = {"epoch": [1, 2], "metrics/mAP50(B)": [0.2, 0.3], "metrics/mAP50-95(B)": [0.1, 0.2]}
    pd.DataFrame(curves).to_csv(results, index=False)
    out = tmp_path / "curves.png"
    plot_learning_curves({"base": results}, out)
    key = drawn_from(out)
    plot_learning_curves({"yolov5n": results}, out)
    assert drawn_from(out) not in (None, key)
    assert drawn_from(tmp_path / "missing.png") is None
