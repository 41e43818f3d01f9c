"""The report builder on a hand-made set of results files in the documented format (docs/outputs.md).

The numbers are chosen so the answers are known: `nas_0.01(large)` is the most accurate model within
the 50 ms budget, `nas_0.15(small)` loses class `qr` (a collapse), and GPU latency was not measured.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import unicodedata
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import THREE_TARGETS, write_params
from pypdf import PdfReader
from yoloslim.config import ROOT, Config, load_config
from yoloslim.paths import StudyPaths
from yoloslim.report.build import find_browser, network_loads
from yoloslim.report.data import pareto_front
from yoloslim.report.summary import _random_sentences
from yoloslim.report.text import TEXT
from yoloslim.study import prune_jobs, study_models

NAMES = ["dm", "qr", "bar"]
# model id -> (mAP50-95 of all classes, onnx_cpu ms, GFLOPs); per-class values derive from these
MODELS = {
    "base": (0.80, 60.0, 4.2),
    "sparse": (0.78, 60.0, 4.2),
    "large": (0.75, 30.0, 2.1),
    "middle": (0.70, 52.0, 1.5),
    "small": (0.55, 8.0, 0.9),
    "middle-random": (0.62, 52.0, 1.5),  # the random control of `middle`: 0.08 below it
    "half": (0.60, 10.0, 1.1),
    "half_lowres": (0.50, 4.0, 0.3),
}
PER_CLASS = {"dm": 0.0, "qr": 0.02, "bar": -0.02}  # offsets from the all-class value
COLLAPSE = ("small", "qr", 0.40)  # this model's qr mAP50-95 falls to this


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, np.linspace(0, 1, 64).reshape(8, 8))


def _curve(path: Path, final: float, epochs: int, speed: float) -> None:
    """results.csv whose mAP50-95 approaches `final` (higher speed: earlier)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = np.arange(1, epochs + 1)
    value = final * (1 - np.exp(-speed * epoch)) / (1 - np.exp(-speed * epochs))
    pd.DataFrame({"epoch": epoch, "train/box_loss": 1 / epoch, "metrics/mAP50(B)": value,
                  "metrics/mAP50-95(B)": value}).to_csv(path, index=False)  # fmt: skip


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """Real, tiny Ultralytics checkpoints at full and half width (the report counts their channels and params)."""
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load

    folder = tmp_path_factory.mktemp("checkpoints")
    paths = {}
    for width in (1.0, 0.5):
        spec = yaml_model_load("yolov5n.yaml")
        spec["scales"] = {"n": [0.33, 0.25 * width, 1024]}
        paths[width] = folder / f"w{width}.pt"
        torch.save({"model": DetectionModel(spec, nc=3, verbose=False)}, paths[width])
    return paths


def _accuracy(model: str, split: str) -> list[dict]:
    all_map = MODELS[model][0] - (0.01 if split == "test" else 0)
    rows = []
    for cls in [*NAMES, "all"]:
        value = all_map + PER_CLASS.get(cls, 0)
        if (model, cls) == COLLAPSE[:2]:
            value = COLLAPSE[2]
        recall = round(value + 0.15, 3)  # falls with mmAP: the collapsed class's recall collapses too
        rows.append({"model": model, "split": split, "class": cls, "conf": 0.5, "mAP50": round(value + 0.1, 3),
                     "mAP50-95": round(value, 3), "precision": 0.9, "recall": recall,
                     "f1": round(2 * 0.9 * recall / (0.9 + recall), 3), "mAP50_conf": round(value + 0.05, 3),
                     "mAP50-95_conf": round(value - 0.05, 3), "instances": 40})  # fmt: skip
        for metric in ("mAP50", "mAP50-95", "precision", "recall", "f1"):  # a 95 % interval of +-0.05
            rows[-1] |= {f"{metric}_lo": rows[-1][metric] - 0.05, f"{metric}_hi": rows[-1][metric] + 0.05}
        if (model, cls, split) == (*COLLAPSE[:2], "test"):  # no qr detection scored 0.5: no precision
            rows[-1] |= {"precision": np.nan, "precision_lo": np.nan, "precision_hi": np.nan}
    return rows


def write_results(cfg: Config, checkpoints: dict[float, Path]) -> None:
    """Every results file the report reads, for the smoke study's models."""
    p = StudyPaths.of(cfg)
    for folder in [p.data.dir, p.sparse.dir, p.eval_tables.dir, *[p.prune(t).dir for t in prune_jobs(cfg)]]:
        folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"category": "dmcode", "source": "custom", "total": 25, "train": 20, "val": 4, "test": 1},
                  {"category": "dmcode", "source": "dpm", "total": 10, "train": 8, "val": 2, "test": 0},
                  {"category": "AiFail", "source": None, "total": 5, "train": 4, "val": 1, "test": 0}]).to_csv(
        p.data.counts, index=False)  # fmt: skip
    p.data.summary.write_text(
        json.dumps(
            {"images": 40, "background": 3, "skipped": 0, "problems": 0, "instances": {"dm": 30, "qr": 0, "bar": 0}}
        )
    )
    for name in ("split", "samples"):
        _png(p.data.figure(name))
    for model, width, speed in [("base", 1.0, 0.5), ("half", 0.5, 1.0), ("half_lowres", 0.5, 1.0)]:
        p.train(model).dir.mkdir(parents=True)
        shutil.copy(checkpoints[width], p.train(model).weights)
        _curve(p.train(model).results, MODELS[model][0], 6, speed)
    _curve(p.sparse.results, MODELS["sparse"][0], 4, 1.0)
    p.sparse.metrics.write_text(json.dumps({"sl": 0.05, "l1": "after_clip", "sl_mloss": 0.004755,
                                                      "val": {"mAP50": 0.8, "mAP50-95": 0.5}}))  # fmt: skip
    pd.DataFrame({"epoch": [1, 2], "steps": [30, 60], "sl": [0.05, 0.05], "l1_budget": [0.01, 0.0234],
                  "sl_mloss": [0.01, 0.004755], "gamma_mean": [0.9, 0.5]}
                 ).to_csv(p.sparse.gamma_log, index=False)  # fmt: skip
    # epoch 2: 10 % of the gammas under large's 0.01, 40 % under middle's 0.10, 60 % under small's 0.15
    np.savez(p.sparse.gammas, epoch_1=np.full(10, 0.9, np.float32),
             epoch_2=np.array([0.005, 0.05, 0.05, 0.05, 0.12, 0.12, 0.5, 0.5, 0.5, 0.5], np.float32))  # fmt: skip
    for name in ("sl_loss", "gamma_epochs", "map"):
        _png(p.sparse.figure(name))
    for i, (prune_id, (target, selection)) in enumerate(prune_jobs(cfg).items()):
        value, folder = cfg.prune_targets()[target], p.prune(prune_id).dir
        _png(folder / "figures" / "sparsity.png")
        pd.DataFrame([{"part": part, "channels_before": 100, "channels_after": 100 - r, "channel_ratio": r / 100,
                       "params_before": 1000, "params_after": 1000 - 10 * r, "param_ratio": r / 100}
                      for part, r in [("backbone", 20 + i), ("head", 30 + i), ("overall", 25 + i)]]).to_csv(
            folder / "ratios.csv", index=False)  # fmt: skip
        pd.DataFrame([{"layer": "model.0.conv", "part": "backbone", "original": 16, "kept": 8, "pruned_threshold": 10,
                       "align_delta": 2, "note": ""}]).to_csv(folder / "layers.csv", index=False)  # fmt: skip
        (folder / "metrics.json").write_text(json.dumps({
            "target": target, "selection": selection, "policy": "threshold", "value": value, "round_to": 8,
            "round_dir": "up", "sparsity_warning": "The model is not sparse: planted." if target == "small" else None,
            "params_before": 1000, "params_after": 700, "gflops_before": 4.2, "gflops_after": 2.0,
            "val_fold": {"mAP50": 0.5, "mAP50-95": 0.3}, "val_nofold": {"mAP50": 0.4, "mAP50-95": 0.2},
            "unpruned_groups": []}))  # fmt: skip
        _curve(p.finetune(prune_id).results, MODELS[prune_id][0], 6, 0.3)
    acc = [row for m in MODELS for s in ("val", "test") for row in _accuracy(m, s)]
    labels = {m.id: m.label for m in study_models(cfg)}
    pd.DataFrame([{**r, "label": labels[r["model"]]} for r in acc]).to_csv(p.eval_tables.accuracy, index=False)
    pd.DataFrame([{"model": m, "label": labels[m], "kind": "", "imgsz": 64, "size_pt_mb": 1.5, "size_onnx_mb": 3.0,
                   "params_m": 1.2, "gflops": g, "torch_cpu_ms": ms * 1.5, "torch_cpu_p90_ms": ms * 1.6,
                   "onnx_cpu_ms": ms, "onnx_cpu_p90_ms": ms * 1.1, "torch_cuda_ms": None, "torch_cuda_p90_ms": None,
                   "target_engine": "onnx_cpu", "target_latency": "50ms", "target_latency_ms": 50.0,
                   "meets_budget": ms <= 50}
                  for m, (_, ms, g) in MODELS.items()]).to_csv(p.eval_tables.models, index=False)  # fmt: skip
    pd.DataFrame([{"model": m, "class": c, "gt_codes": 10, "decoded": 7, "decode_rate": 0.7, "gt_decodable": 8,
                   "decode_rate_vs_decodable": 0.875, "detections": 9,
                   "detections_decoded": 7, "detection_decode_fraction": 7 / 9}
                  for m in MODELS for c in NAMES]).to_csv(p.eval_tables.decode, index=False)  # fmt: skip
    pd.DataFrame([{"model": m, "label": labels[m], "operator": op, "ms": ms * share}
                  for m, (_, ms, _) in MODELS.items()
                  for op, share in (("Conv", 0.5), ("Concat", 0.1), ("Resize", 0.05), ("between operators", 0.3))]
                 ).to_csv(p.eval_tables.operators, index=False)  # fmt: skip
    pd.DataFrame([{"model": m, "label": labels[m], "median_ms": ms, "p90_ms": ms * 1.1, "lo_ms": ms * 0.9,
                   "hi_ms": ms * 1.1, "ratio": ms / 60, "ratio_lo": ms / 66, "ratio_hi": ms / 54, "runs": 5}
                  for m, (_, ms, _) in MODELS.items()]).to_csv(p.eval_tables.interleaved,
                                                               index=False)  # fmt: skip
    p.eval_tables.environment.write_text(
        json.dumps({"cpu": "Test CPU", "threads": 2, "cuda": None, "packages": {"torch": torch.__version__}})
    )
    _png(p.eval_tables.figure("compare"))


def build(cfg_path: Path, checkpoints: dict[float, Path]) -> tuple[str, Path]:
    """Run the report notebook and the HTML build as the workflow does; the HTML text and its path."""
    cfg = load_config(cfg_path)
    write_results(cfg, checkpoints)
    executed = StudyPaths.of(cfg).run / "notebooks" / "07_report.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([Path(sys.executable).parent / "papermill", "-k", "python3", "--cwd", ROOT / "notebooks",
                    ROOT / "notebooks" / "07_report.ipynb", executed, "-r", "config", str(cfg_path)],
                   check=True, capture_output=True)  # fmt: skip
    html = StudyPaths.of(cfg).report_html
    flags = ["--lang", cfg.report.lang] + ([] if cfg.report.pdf else ["--no-pdf"])
    subprocess.run([sys.executable, "-m", "yoloslim.report.build", executed, html, *flags], check=True)
    return html.read_text(encoding="utf-8"), html


def _section(html: str, start: str, end: str) -> str:
    """The HTML between two headings."""
    return html[html.index(f">{start}") : html.index(f">{end}")]


def _cell(html: str, row_label: str) -> list[str]:
    """The cells of the first table row whose header is `row_label`."""
    row = re.search(rf"<th>{re.escape(row_label)}</th>(.*?)</tr>", html, flags=re.S)
    assert row, f"no table row {row_label}"
    return re.findall(r"<td>(.*?)</td>", row.group(1))


def last_column_headers(html: str) -> list[str]:
    """The last header cell of each header row, for every table of the report."""
    headers = []
    for head in re.findall(r'<table[^>]*class="[^"]*yoloslim[^"]*".*?<thead>(.*?)</thead>', html, flags=re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", head, flags=re.S):
            cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", row, re.S)]
            headers += [c for c in cells[-1:] if c]
    return headers


def last_rows(html: str) -> list[str]:
    """The text of the last body row (its label and every cell, in order) of every table of the report."""
    rows = []
    for body in re.findall(r'<table[^>]*class="[^"]*yoloslim[^"]*".*?<tbody>(.*?)</tbody>', html, flags=re.S):
        last = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)[-1]
        rows.append(
            "".join(unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", last, re.S))
        )
    return rows


def _squeeze(text: str) -> str:
    """Text without any white space (a PDF breaks long headers over lines) or ligatures (ﬁ is fi)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_report_en(out_root: Path, checkpoints: dict[float, Path]) -> None:
    prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
    html, path = build(write_params(out_root, {"name": "rep", "prune": prune}), checkpoints)
    for heading in ["1 Preparation", "1.1 Environment", "1.2 Data set", "2.1 Sparse training",
                    "2.2.1 Sparsity distribution", "2.2.2 Pruning ratio", "2.3 Fine-tuning", "2.4.1 Test set",
                    "2.4.2 Size, parameters, speed and FLOPs", "3 Summary"]:  # fmt: skip
        assert f">{heading}" in html, heading
    # 2.2.2 ratios.csv as percentages; the 1/2 variant's ratio computed from its checkpoint against the base
    ratios = _section(html, "2.2.2 Pruning ratio", "2.3 Fine-tuning")
    assert _cell(ratios, "nas_0.15(small)")[:2] == ["22.0%", "22.0%"]
    half = [float(v.rstrip("%")) for v in _cell(ratios, "1/2")]
    assert half[0] == 50.0 and len(half) == 6 and all(40 < v < 90 for v in half)  # backbone channels: exactly half
    # 2.3 val table: dm, qr, bar, all x (mAP, mmAP); values equal accuracy.csv's
    val = _section(html, "2.3 Fine-tuning", "2.4 Results")
    assert _cell(val, "nas_0.15(small)")[:4] == ["0.650 ± 0.050", "0.550 ± 0.050", "0.500 ± 0.050", "0.400 ± 0.050"]
    assert _cell(val, "yolov5n")[-2:] == ["0.900 ± 0.050", "0.800 ± 0.050"]
    assert "± is half the width of the 95 % interval from 200 bootstrap resamples" in val
    # each split: the standard metric, the operating point and the original's metric, each saying its confidence
    assert "Accuracy over all detections (conf 0.001" in val and "At the deployment threshold conf 0.5" in val
    assert "original study&#x27;s metric, mAP at conf 0.5" in val or "original study's metric, mAP at conf 0.5" in val
    operating = _cell(val[val.index("At the deployment") :], "nas_0.15(small)")
    assert ">F1</th>" in val and operating[3:6] == ["0.900 ± 0.050", "0.550 ± 0.050", "0.683 ± 0.050"]  # qr
    test = _section(html, "2.4.1 Test set", "2.4.2 Size")
    assert _cell(test, "yolov5n")[-2:] == ["0.890 ± 0.050", "0.790 ± 0.050"]
    # a class without detections at conf has no precision: shown undefined, not 0, and said so under the table
    assert _cell(test[test.index("At the deployment") :], "nas_0.15(small)")[3] == "—"
    assert "— for P: no detection of that class scored at least 0.5" in test and "— for P" not in val
    # 2.4.2: the budget marks and the unmeasured GPU
    sizes = _section(html, "2.4.2 Size", "3 Summary")
    row = _cell(sizes, "nas_0.01(large)")
    assert row[-1] == "✓" and "30.00" in row and row[-3:-1] == ["0.50", "0.50"]  # GFLOPs and latency ÷ base
    assert "onnx_cpu ÷ base</th>" in sizes
    interleaved = sizes[sizes.index("interleaved: 5 rounds") :]  # median [interval], ratio to base [interval]
    assert _cell(interleaved, "nas_0.01(large)") == ["30.00 [27.00, 33.00]", "0.50 [0.45, 0.56]"]
    operators = sizes[sizes.index("Where ONNX Runtime") :]  # ms per inference by operator: Conv 0.5 of 30 ms
    assert _cell(operators, "nas_0.01(large)")[0] == "15.000" and "between operators</th>" in operators
    assert _cell(sizes, "yolov5n")[-1] == "✗"
    assert "Not measured on this machine: <code>torch_cuda</code>" in html
    assert _cell(sizes[sizes.index("Decode rate") :], "1/2")[:2] == ["70.0%", "87.5%"]  # dm: / gt, / decodable
    # 3: the summary names the best model within budget and the collapsed class
    summary = html[html.index(">3 Summary") :]
    assert "The most accurate of them is <strong>nas_0.01(large)</strong>" in summary
    assert "nas_0.15(small): qr (−0.410)" in summary  # its average recall fell by 0.25: only qr's collapsed
    assert "recall at conf 0.5" in summary
    assert "small): dm" not in summary and "1/2: " not in summary  # uniform losses are costs, not collapses
    assert "<strong>random_0.1(middle)</strong> 0.610 (+0.080): selection by gamma beat random selection" in summary
    assert "<strong>nas_0.15(small)</strong> — The model is not sparse: planted." in summary
    # the accuracy-latency Pareto front in words: who is on it, and who beats each compressed model off it
    assert "fastest first: <strong>1/2_32</strong>, <strong>nas_0.15(small)</strong>" in summary
    assert "Off it: nas_0.1(middle) (beaten by nas_0.01(large))" in summary
    # 2.1: the logged L1 budget, and the seed study's plan computed from params/seed.yaml
    sparse = _section(html, "2.1 Sparse training", "2.2 Pruning")
    assert "60 optimizer steps" in sparse and "Σ lr·sl = 0.0234" in sparse and "308,800 steps" in sparse
    assert _cell(sparse, "2") == ["60", "0.0234", "10.0%", "40.0%", "60.0%"]  # epoch 2: steps, budget, fractions
    assert "(62% of the sparse model's 0.800)" in html  # val mAP50 0.5 right after pruning, against 0.8
    assert "data set tree" in html.lower() and "dmcode 35" in html
    # self-contained: images inline, nothing fetched from the network
    assert html.count("data:image/png;base64") >= 10 and not network_loads(html)
    assert "<script src=" not in html and "cdnjs" not in html
    assert ">config = " not in html and "load_report_data" not in html  # code hidden
    if find_browser():  # on paper no table is cut at the page edge: every table's last column is in the text
        pdf_text = _squeeze(" ".join(page.extract_text() for page in PdfReader(path.with_suffix(".pdf")).pages))
        headers = last_column_headers(html)
        assert len(headers) >= 10 and "decodable" in " ".join(headers)
        assert [h for h in headers if _squeeze(h) not in pdf_text] == []
        # a cut table loses the glyphs past the edge: each table's last row is in the text whole, in order
        assert [row for row in last_rows(html) if _squeeze(row) not in pdf_text] == []
    # without Chromium: the HTML is still written, and the message says how to get the PDF
    offline = path.with_name("nobrowser.html")
    done = subprocess.run([sys.executable, "-m", "yoloslim.report.build", path.parents[2] / "runs" / "rep" /
                           "notebooks" / "07_report.ipynb", offline], env={"PATH": str(Path(sys.executable).parent)},
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and offline.is_file() and not offline.with_suffix(".pdf").exists()
    assert "report.pdf not written: Chromium is not installed" in done.stderr and "apt-get install" in done.stderr


def test_report_zh(out_root: Path, checkpoints: dict[float, Path]) -> None:
    prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
    params = {"name": "rep_zh", "report": {"lang": "zh", "pdf": False}, "prune": prune}
    html, path = build(write_params(out_root, params), checkpoints)
    for heading in ["1 准备工作", "2.1 稀疏训练", "2.2.2 剪枝比例", "3 总结"]:
        assert f">{heading}" in html, heading
    assert not path.with_suffix(".pdf").exists()  # report.pdf: false
    assert 'lang="zh-CN"' in html and "其中精度最高的是 <strong>nas_0.01(large)</strong>" in html


@pytest.mark.parametrize(
    ("x", "y", "front"),
    [([1, 2, 3], [0.1, 0.2, 0.3], [0, 1, 2]), ([1, 2, 3], [0.3, 0.2, 0.1], [0]), ([3, 1, 2], [0.5, 0.4, 0.1], [1, 0]),
     ([1, float("nan"), 1], [0.2, 0.9, 0.2], [0, 2])],
)  # fmt: skip
def test_pareto_front(x: list[float], y: list[float], front: list[int]) -> None:
    assert pareto_front(x, y) == front


@pytest.mark.parametrize(("scratch", "verdict"), [(0.60, "inheriting the pruned weights beat"), (0.75, "did **not**")])
def test_summary_says_whether_inherited_weights_beat_training_from_scratch(
    out_root: Path, scratch: float, verdict: str
) -> None:
    """With `finetune.init: [inherit, scratch]`, each structure re-initialized and trained for the base model's epochs
    is compared with the same structure fine-tuned from its pruned weights."""
    params = {"train": {"epochs": 4}, "finetune": {"init": ["inherit", "scratch"]}}
    cfg = load_config(write_params(out_root, {"name": "scratch", **params}))
    labels = {m.id: m.label for m in study_models(cfg)}
    points = pd.DataFrame([{"model": m, "label": labels[m], "mmAP": v}
                           for m, v in [("small", 0.70), ("small-scratch", scratch)]])  # fmt: skip
    data = SimpleNamespace(cfg=cfg, prune={}, replicates={})  # no bootstrap: the point difference decides
    (sentence,) = _random_sentences(points, data, "test", TEXT["en"])
    assert "**nas_0.15(small)** test mmAP 0.700, **nas_0.15(small) scratch**" in sentence
    assert "trained 4 epochs (the fine-tune: 1)" in sentence and verdict in sentence
