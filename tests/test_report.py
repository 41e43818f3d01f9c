"""The report builder on a hand-made set of results files in the documented format (docs/outputs.md).

The numbers are chosen so the answers are known (`helpers/results.py`): `nas_0.01(large)` is the most accurate
model within the 50 ms budget, `nas_0.15(small)` loses class `qr` (a collapse), and GPU latency was not measured.
"""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import THREE_TARGETS, built_once, english_runs, write_params
from helpers.results import MANY, write_results
from pypdf import PdfReader
from yoloslim.config import ROOT, load_config
from yoloslim.paths import StudyPaths
from yoloslim.report.build import find_browser, network_loads
from yoloslim.report.data import pareto_front
from yoloslim.report.summary import _longer_sentence, _random_sentences, _training_sentence
from yoloslim.study import study_models


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


def last_rows(html: str) -> list[list[str]]:
    """The cells of the last body row (its label and every cell, in order) of every table of the report."""
    rows = []
    for body in re.findall(r'<table[^>]*class="[^"]*yoloslim[^"]*".*?<tbody>(.*?)</tbody>', html, flags=re.S):
        last = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)[-1]
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", last, re.S)])
    return rows


def row_printed(cells: list[str], pdf_text: str) -> bool:
    """Whether a table row is in the PDF's (squeezed) text whole and in order: on one line, or with every value's
    interval (`0.61 [0.57,0.66]`) wrapped under it, so the values read in order on one line and the intervals on the
    next."""
    whole = _squeeze("".join(cells))
    values = _squeeze("".join(c.split(" [")[0] for c in cells))
    intervals = _squeeze("".join(c[c.index(" [") :] for c in cells if " [" in c))
    return whole in pdf_text or (values in pdf_text and intervals in pdf_text)


def _squeeze(text: str) -> str:
    """Text without any white space (a PDF breaks long headers over lines) or ligatures (ﬁ is fi)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def report_en(tmp_path_factory: pytest.TempPathFactory, checkpoints: dict[float, Path]) -> tuple[str, Path]:
    """The English report of the hand-made results (three thresholds, a random control), built once per session."""

    def build_en() -> tuple[str, Path]:
        out = tmp_path_factory.mktemp("report_en")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("YOLOSLIM_OUT", str(out))
            prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
            return build(write_params(out, {"name": "rep", "prune": prune}), checkpoints)

    return built_once(tmp_path_factory, "report_en", build_en)


def test_report_en(report_en: tuple[str, Path]) -> None:
    html, path = report_en
    for heading in ["1 Preparation", "1.1 Environment", "1.2 Data set", "2.1 Sparse training",
                    "2.2.1 Sparsity distribution", "2.2.2 Pruning ratio", "2.3 Fine-tuning", "2.4.1 Test set",
                    "2.4.2 Size, parameters, speed and FLOPs", "2.4.3 Engines and precision", "3 Summary"]:  # fmt: skip
        assert f">{heading}" in html, heading
    assert "Groups left unpruned: model.0 (not pruned: only 16 channels, not more than round_to=16)" in html
    # the answer page, before section 1: each model against the budget (met first, most accurate first), its latency
    # on the budget's engine, size and accuracy per class with intervals, and the verdicts
    answer = _section(html, "The answer", "1 Preparation")
    assert "The latency budget is 50 ms on <code>onnx_cpu</code>" in answer
    assert "The most accurate of them is <strong>nas_0.01(large)</strong>" in answer
    labels = re.findall(r"<tbody>.*?</tbody>", answer, flags=re.S)[0]
    order = re.findall(r"<th>(.*?)</th>", labels)
    assert order[0] == "nas_0.01(large)" and order.index("nas_0.1(middle)") > order.index("1/2_32")  # ≈ after ✓
    assert _cell(answer, "nas_0.01(large)")[:5] == ["✓ met", "30.00 [27.00,33.00]", "0.50× [0.45,0.56]", "1.20", "2.1"]
    assert _cell(answer, "nas_0.1(middle)")[0] == "≈ borderline" and _cell(answer, "yolov5n")[0] == "✗ not met"
    assert _cell(answer, "nas_0.01(large)")[5] == "0.74 [0.70,0.80]"  # all classes, test, with its interval
    # 2.4.3 every engine timed, with the precision read back, and each model's INT8 cost with its interval
    engines = _section(html, "2.4.3 Engines and precision", "3 Summary")
    assert "openvino_cpu_int8 (INT8)" in engines and "onnx_cpu (FP32)" in engines and "torch_cuda" not in engines
    small = ["12.00 (0.13×)", "8.00 (0.13×)", "4.00 (0.13×)", "7.20 (0.26×)"]  # torch, ONNX, OpenVINO FP32, INT8:
    assert _cell(engines, "nas_0.15(small)") == small  # OpenVINO INT8 0.4 × 8 + 4 ms against the base model's 28 ms
    int8 = engines[engines.index("INT8 on") :]  # FP32 and INT8 mmAP, the drop with its interval (test, all classes)
    assert _cell(int8, "yolov5n") == ["0.500", "0.488", "-0.012 [-0.022, -0.002]"]
    summary = html[html.index(">3 Summary") :]
    assert "After INT8 on <code>openvino_cpu_int8</code>: nas_0.01(large) 0.57× the base model (FP32 on ONNX" in summary
    # 2.2.2 ratios.csv as percentages; the 1/2 variant's ratio computed from its checkpoint against the base
    ratios = _section(html, "2.2.2 Pruning ratio", "2.3 Fine-tuning")
    assert _cell(ratios, "nas_0.15(small)")[:2] == ["22.0%", "22.0%"]
    half = [float(v.rstrip("%")) for v in _cell(ratios, "1/2")]
    assert half[0] == 50.0 and len(half) == 6 and all(40 < v < 90 for v in half)  # backbone channels: exactly half
    # 2.3 val table: dm, qr, bar, all x (mAP, mmAP); values equal accuracy.csv's
    val = _section(html, "2.3 Fine-tuning", "2.4 Results")
    small = ["0.650 [0.610,0.710]", "0.550 [0.510,0.610]", "0.500 [0.460,0.560]", "0.400 [0.360,0.460]"]
    assert _cell(val, "nas_0.15(small)")[:4] == small  # each value with its interval as measured, not v ± h
    all_classes = val.split("<table")[2]  # six columns a table: dm, qr, bar, then all
    assert _cell(all_classes, "yolov5n") == ["0.900 [0.860,0.960]", "0.800 [0.760,0.860]"]
    assert "[lo,hi] is the 95 % interval from 200 bootstrap resamples" in val
    # each split: the standard metric, the operating point and the original's metric, each saying its confidence
    assert "Accuracy over all detections (conf 0.001" in val and "At the deployment threshold conf 0.5" in val
    assert "original study&#x27;s metric, mAP at conf 0.5" in val or "original study's metric, mAP at conf 0.5" in val
    operating = _cell(val[val.index("At the deployment") :], "nas_0.15(small)")
    assert ">F1</th>" in val and operating[3:6] == ["0.900 [0.860,0.960]", "0.550 [0.510,0.610]", "0.683 [0.643,0.743]"]
    test = _section(html, "2.4.1 Test set", "2.4.2 Size")
    assert _cell(test.split("<table")[2], "yolov5n") == ["0.890 [0.850,0.950]", "0.790 [0.750,0.850]"]
    # a class without detections at conf has no precision: shown undefined, not 0, and said so under the table
    assert _cell(test[test.index("At the deployment") :], "nas_0.15(small)")[3] == "—"
    assert "— for P: no detection of that class scored at least 0.5" in test and "— for P" not in val
    # 2.4.2: the budget marks and the unmeasured GPU
    sizes = _section(html, "2.4.2 Size", "3 Summary")
    row = _cell(sizes, "nas_0.01(large)")
    assert row[-1] == "✓" and "30.00" in row and row[-3:-1] == ["0.50", "0.50"]  # GFLOPs and latency ÷ base
    assert "onnx_cpu ÷ base</th>" in sizes
    interleaved = sizes[sizes.index("interleaved: 5 rounds") :]  # median [interval], ratio to base [interval]
    assert _cell(interleaved, "nas_0.01(large)") == ["30.00 [27.00,33.00]", "0.50 [0.45,0.56]"]
    operators = sizes[sizes.index("Where ONNX Runtime") :]  # ms per inference by operator: Conv 0.5 of 30 ms
    assert _cell(operators, "nas_0.01(large)")[0] == "15.000" and "between operators</th>" in operators
    assert _cell(operators, "nas_0.01(large)")[-2:] == ["28.500", "30.000"]  # profiled total; unprofiled, interleaved
    assert "unprofiled (ms)</th>" in operators and "its share is an upper bound" in operators
    assert _cell(sizes, "yolov5n")[-1] == "✗" and _cell(sizes, "nas_0.1(middle)")[-1] == "≈"  # 52 ms: borderline
    assert "Not measured on this machine: <code>torch_cuda</code>" in html
    assert _cell(sizes[sizes.index("Decode rate") :], "1/2")[:2] == ["70.0%", "87.5%"]  # dm: / gt, / decodable
    # 3: the summary names the best model within budget and the collapsed class
    summary = html[html.index(">3 Summary") :]
    assert "The most accurate of them is <strong>nas_0.01(large)</strong>" in summary
    assert "nas_0.15(small): qr (−0.410)" in summary  # its average recall fell by 0.25: only qr's collapsed
    assert "recall at conf 0.5" in summary
    assert "Borderline against the budget (a re-measurement may fall on either side): nas_0.1(middle)," in summary
    assert "small): dm" not in summary and "1/2: " not in summary  # uniform losses are costs, not collapses
    assert "<strong>random_0.1(middle)</strong> 0.610 (+0.080): selection by gamma beat random selection" in summary
    assert "<strong>nas_0.15(small)</strong> — The model is not sparse: the cut at |gamma| 0.15 falls inside" in summary
    # the accuracy-latency Pareto front in words: who is on it, and who beats each compressed model off it
    assert "fastest first: <strong>1/2_32</strong>, <strong>nas_0.15(small)</strong>" in summary
    assert "Off it: nas_0.1(middle) (beaten by nas_0.01(large))" in summary
    # the front on every engine, an INT8 engine's with the INT8 models' accuracy (0.488 for all: the fastest alone)
    assert "<code>openvino_cpu_int8</code>: <strong>1/2_32</strong>." in summary
    assert "<code>onnx_cpu</code>: <strong>1/2_32</strong>, <strong>nas_0.15(small)</strong>" in summary
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
    # without Chromium: the HTML is still written, and the message says how to get the PDF
    offline = path.with_name("nobrowser.html")
    done = subprocess.run([sys.executable, "-m", "yoloslim.report.build", path.parents[2] / "runs" / "rep" /
                           "notebooks" / "07_report.ipynb", offline], env={"PATH": str(Path(sys.executable).parent)},
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and offline.is_file() and not offline.with_suffix(".pdf").exists()
    assert "report.pdf not written: Chromium is not installed" in done.stderr and "apt-get install" in done.stderr


@pytest.mark.skipif(not find_browser(), reason="chromium is not installed: the PDF report is not checked")
def test_report_pdf_cuts_no_table(report_en: tuple[str, Path]) -> None:
    """On paper no table is cut at the page edge: every table's last column and last row are in the PDF's text."""
    html, path = report_en
    pdf_text = _squeeze(" ".join(page.extract_text() for page in PdfReader(path.with_suffix(".pdf")).pages))
    headers = last_column_headers(html)
    assert len(headers) >= 10 and "decodable" in " ".join(headers)
    assert [h for h in headers if _squeeze(h) not in pdf_text] == []
    # a cut table loses the glyphs past the edge: each table's last row is in the text whole, in order
    assert [row for row in last_rows(html) if not row_printed(row, pdf_text)] == []
    # the answer first: the budget, every model against it and the verdicts on page 1, the study's sections after
    pages = [page.extract_text() for page in PdfReader(path.with_suffix(".pdf")).pages]
    assert "The answer" in pages[0] and "met" in pages[0] and "1 Preparation" not in pages[0]
    assert "1 Preparation" in pages[1]


def test_report_zh(out_root: Path, checkpoints: dict[float, Path]) -> None:
    """In Chinese, of a user's 80 classes that are not codes: every per-class table in parts of whole classes, and
    not a word about decoding (no decode rate was measured)."""
    prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
    params = {"name": "rep_zh", "data": {"names": MANY}, "report": {"lang": "zh", "pdf": False}, "prune": prune,
              "finetune": {"compare": ["small"]}}  # fmt: skip
    html, path = build(write_params(out_root, params), checkpoints)
    for heading in ["1 准备工作", "2.1 稀疏训练", "2.2.2 剪枝比例", "3 总结"]:
        assert f">{heading}" in html, heading
    assert not path.with_suffix(".pdf").exists()  # report.pdf: false
    assert 'lang="zh-CN"' in html and "其中精度最高的是 <strong>nas_0.01(large)</strong>" in html
    assert "模型不稀疏：|gamma| 0.15 处的切分" in html  # the prune stage's warning, recorded as a text id
    assert "未剪枝的组：model.0（未剪枝：仅有 16 个通道" in html  # why groups stayed whole, recorded as text ids too
    assert "解码率" not in html and "/ decodable" not in html  # no decode section, no sentence about it
    assert "80 个类别共" in html and "最少的是" in html  # 80 classes' boxes in one clause, not 80 listed
    # finetune.compare: the three fine-tunes of small at equal cost, in a table and the summary's verdict
    recipes = _section(html, "相同代价下的微调方案", "2.4 ")
    assert _cell(recipes, "nas_0.15(small) longer")[:5] == ["延长训练，无教师", "2", "200.000", "0.033", "0.560"]
    assert "由 sparse 模型蒸馏变化 +0.050" in html and "蒸馏 − 延长训练：+0.030（无置信区间" in html
    test = _section(html, "2.4.1 测试集", "2.4.2")  # 81 column groups x 2, 3, 2 metrics: 27 + 41 + 14
    assert test.count("<table") == 82 and ">stop sign</th>" in test and ">defect_67</th>" in test
    # nothing left in English: every run of three English words, names, units and code aside (conftest.py)
    assert english_runs(html, kept={word for name in MANY for word in name.split()}) == []


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
    (sentence,) = _random_sentences(points, data, "test", "en")
    assert "**nas_0.15(small)** test mmAP 0.700, **nas_0.15(small) scratch**" in sentence
    assert "trained 4 epochs (the fine-tune: 1)" in sentence and verdict in sentence


def test_the_most_accurate_model_within_the_budget_leads_the_others_only_as_far_as_its_intervals_say(
    out_root: Path,
) -> None:
    """`large` is the most accurate of three models within the budget: it leads `small` by 0.02 with draws that
    straddle 0 (within noise, named with its interval) and `half` by 0.20 (beaten); `half_lowres` misses the budget
    and is not compared. Each is a difference the summary judges, Holm-adjusted with the others."""
    import numpy as np
    from yoloslim.measure.bootstrap import INTERVAL_METRICS
    from yoloslim.report.summary import _rivals
    from yoloslim.report.verdicts import budget_rivals, judged_pairs

    cfg = load_config(write_params(out_root, {"name": "rivals"}))
    mmap = {"base": 0.80, "large": 0.70, "small": 0.68, "half": 0.50, "half_lowres": 0.75}
    meets = {"base": "no", "large": "yes", "small": "yes", "half": "yes", "half_lowres": "no"}
    rng = np.random.default_rng(0)
    reps = {}
    for model, value in mmap.items():
        draws = np.zeros((400, 4, len(INTERVAL_METRICS)))
        draws[:, -1, INTERVAL_METRICS.index("mAP50-95")] = value + rng.normal(0, 0.03, 400)
        reps[model] = draws
    models = [m for m in study_models(cfg) if m.id in mmap]
    data = SimpleNamespace(
        cfg=cfg, models=models, prune={}, replicates={"test": reps}, labels={m.id: m.label for m in models},
        accuracy=pd.DataFrame([{"split": "test", "class": "all", "model": m, "mAP50-95": v} for m, v in mmap.items()]),
        table=pd.DataFrame([{"model": m, "target_engine": "onnx_cpu", "onnx_cpu_ms": 10.0 - 5 * (m != "base"),
                             "gflops": 1.0, "meets_budget": meets[m]} for m in mmap]),
    )  # fmt: skip
    points = pd.DataFrame([{"model": m.id, "label": m.label, "mmAP": mmap[m.id], "meets_budget": meets[m.id] == "yes"}
                           for m in models])  # fmt: skip
    assert budget_rivals(points) == [("large", "small"), ("large", "half")]
    assert {("large", "small"), ("large", "half")} <= set(judged_pairs(data))
    said = _rivals(data, points, "test", "en")
    assert said.startswith(" It leads only **within noise**") and "nas_0.15(small) by +0.020 (95 % interval" in said
    assert "1/2" not in said  # half: beaten, so not named as a tie
    reps["small"] = reps["small"] - 0.3  # now far behind too
    data.accuracy.loc[data.accuracy["model"] == "small", "mAP50-95"] = 0.38
    points.loc[points["model"] == "small", "mmAP"] = 0.38
    assert (
        _rivals(data, points, "test", "en") == " It beat every other model within the budget (each difference's "
        "interval excludes 0)."
    )


def test_a_collapse_is_within_noise_when_its_interval_reaches_the_margin(out_root: Path) -> None:
    """qr's recall falls 0.5 while the model's average falls 0.1: the excess, 0.4, is a collapse beyond a 0.1 margin
    when the draws agree, and within noise when they spread so far that its interval reaches down to the margin."""
    import numpy as np
    from yoloslim.measure.bootstrap import INTERVAL_METRICS
    from yoloslim.report.data import collapse_interval

    cfg = load_config(write_params(out_root, {"name": "collapse"}))
    j, rng = INTERVAL_METRICS.index("recall"), np.random.default_rng(0)

    def draws(recalls: list[float], sd: float) -> np.ndarray:
        out = np.zeros((500, 4, len(INTERVAL_METRICS)))
        out[:, :, j] = np.array(recalls) + rng.normal(0, sd, (500, 4))
        return out

    base = draws([0.9, 0.9, 0.9, 0.9], 0.0)  # dm, qr, bar, all
    reps = {"base": base, "small": draws([0.9, 0.4, 0.9, 0.8], 0.02), "large": draws([0.9, 0.4, 0.9, 0.8], 0.25)}
    data = SimpleNamespace(cfg=cfg, labels={"base": "yolov5n", "small": "S", "large": "L"}, replicates={"test": reps})
    lo, hi = collapse_interval(data, "test", "S", "qr")
    assert 0.1 < lo < 0.4 < hi < 0.5  # decided: beyond the margin
    lo, hi = collapse_interval(data, "test", "L", "qr")
    assert lo <= 0.1 < 0.4 < hi  # within noise
    assert collapse_interval(data, "val", "S", "qr") is None  # no replicates on that split


def test_the_summary_names_the_targets_fine_tuned_longer(tmp_path: Path) -> None:
    """finetune.target_epochs: the summary names each such model with its epochs, against finetune.epochs; without
    it, nothing is said."""
    params = {"prune": {"thresholds": {"large": 0.01, "small": 0.15}}, "finetune": {"target_epochs": {"small": 60}}}
    cfg = load_config(write_params(tmp_path, params))
    labels = {"large": "nas_0.01(large)", "small": "nas_0.15(small)"}
    (sentence,) = _longer_sentence(SimpleNamespace(cfg=cfg, labels=labels), "en")
    assert "**nas_0.15(small)** 60 epochs" in sentence
    assert f"(the others: {cfg.finetune.epochs}; `finetune.target_epochs`)" in sentence
    assert "large" not in sentence
    assert "**nas_0.15(small)** 60 轮" in _longer_sentence(SimpleNamespace(cfg=cfg, labels=labels), "zh")[0]
    cfg.finetune.target_epochs = {}
    assert _longer_sentence(SimpleNamespace(cfg=cfg, labels=labels), "en") == []


def test_the_summary_says_a_pruned_model_above_the_base_model_trained_longer(tmp_path: Path) -> None:
    """A pruned model or random control above the base model is named with the epochs it trained beyond the base
    model's (sparse + its fine-tune); one below it, a width variant and a scratch fine-tune are not; nothing is said
    when no pruned model is above the base model. One whose interval against the base model holds 0 is marked within
    noise."""
    params = {"prune": {"thresholds": {"large": 0.01, "small": 0.15}, "random": ["small"]},
              "finetune": {"init": ["inherit", "scratch"], "target_epochs": {"small": 60}}}  # fmt: skip
    cfg = load_config(write_params(tmp_path, params))
    rows = [("base", "yolov5n", "base", 0.70), ("large", "L", "pruned", 0.65), ("small", "S", "pruned", 0.80),
            ("small-random", "R", "random", 0.72), ("small-scratch", "S scratch", "pruned", 0.90),
            ("half", "1/2", "variant", 0.75)]  # fmt: skip
    points = pd.DataFrame(rows, columns=["model", "label", "kind", "mmAP"])
    intervals = [("small", "test", "all", 0.05, 0.15), ("small-random", "test", "all", -0.01, 0.05),
                 ("small", "val", "all", -0.1, 0.2), ("small", "test", "dm", -0.1, 0.2)]  # fmt: skip
    accuracy = pd.DataFrame(intervals, columns=["model", "split", "class", "delta_mAP50-95_lo", "delta_mAP50-95_hi"])
    data = SimpleNamespace(cfg=cfg, accuracy=accuracy)
    (sentence,) = _training_sentence(data, points, "test", "en")
    extra = cfg.sparse.epochs + 60
    assert f"**S** +0.100 test mmAP after {extra} more epochs;" in sentence  # its interval excludes 0
    # the control fine-tunes as long as small; its interval holds 0
    assert f"**R** +0.020 test mmAP after {extra} more epochs (within noise)" in sentence
    assert "**L**" not in sentence and "scratch" not in sentence and "1/2" not in sentence
    assert f"base model's training ({cfg.train.epochs} epochs)" in sentence
    assert f"多训练 {extra} 轮" in _training_sentence(data, points, "test", "zh")[0]
    cfg.model.base = "weights"
    assert "(the checkpoint's own)" in _training_sentence(data, points, "test", "en")[0]
    below = points.assign(mmAP=[0.95, 0.65, 0.80, 0.72, 0.90, 0.75])
    assert _training_sentence(data, below, "test", "en") == []


def test_the_summary_names_the_fine_tunes_still_improving_when_they_ended() -> None:
    """A pruned model whose val mmAP rose over its last sixth of epochs by more than twice the standard error of that
    rise is named, with both windows' means; one that swings about a plateau, a random control and a fine-tune shorter
    than two windows are not; nothing is said when no fine-tune was still rising. `large`'s last 10 epochs are the
    demo's with a 100-epoch base model (2026-12-04)."""
    from yoloslim.report.data import MAP_COLUMN, still_rising
    from yoloslim.report.summary import _rising_sentence
    from yoloslim.study import StudyModel

    def curve(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"epoch": range(1, len(values) + 1), MAP_COLUMN: values})

    large = [0.5 + 0.01 * i for i in range(20)] + [0.807, 0.818, 0.824, 0.811, 0.836, 0.840, 0.837, 0.849, 0.846, 0.851]
    plateau = [0.80, 0.83, 0.81, 0.82, 0.80, 0.83, 0.81, 0.82, 0.80, 0.83, 0.81, 0.82]
    assert still_rising(curve(large)) == (5, pytest.approx(0.8192), pytest.approx(0.8446))
    assert still_rising(curve(plateau)) is None
    assert still_rising(curve([0.1, 0.2, 0.3, 0.4, 0.5])) is None  # fewer than two windows of 3
    models = [StudyModel(mid, label, kind, Path("w.pt"), 160) for mid, label, kind in
              [("large", "L", "pruned"), ("small", "S", "pruned"), ("large-random", "R", "random")]]  # fmt: skip
    data = SimpleNamespace(models=models, curves={"large": curve(large), "small": curve(plateau),
                                                  "large-random": curve(large)})  # fmt: skip
    (sentence,) = _rising_sentence(data, "en")
    assert "**L** 0.819 → 0.845 (windows of 5 epochs)" in sentence and "`finetune.epochs`" in sentence
    assert "**S**" not in sentence and "**R**" not in sentence
    assert "**L** 0.819 → 0.845（每段 5 轮）" in _rising_sentence(data, "zh")[0]
    data.curves["large"] = curve(plateau)
    assert _rising_sentence(data, "en") == []
