"""The split stage: the rounding rule, the original study's totals, outputs, and Ultralytics reading them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import tree_hash, write_params
from yoloslim.config import ROOT, load_config
from yoloslim.data.split import SPLITS, run_split, split_counts
from yoloslim.data.synth import SOURCES, synthesize
from yoloslim.paths import StudyPaths

# the original study's sources and image counts, as its own write-up gives them (outside this repository)
ORIGINAL = {
    "dmcode": [819, 512, 694, 643, 4261],
    "qrcode": [1836, 82, 905, 26, 2751],
    "barcode": [811, 989, 2528, 299, 618, 336, 333, 3827],
    "multicode": [689, 7373],
    "AiFail": [521],
}


def test_split_counts_rule() -> None:
    assert split_counts(25, [20, 4, 1]) == (20, 4, 1)
    assert split_counts(13, [20, 4, 1]) == (10, 2, 1)  # 10.4 -> 10, 2.08 -> 2
    assert split_counts(10, [1, 1, 2]) == (3, 3, 4)  # 2.5 rounds half up, not to even
    assert split_counts(1, [20, 4, 1]) == (1, 0, 0)
    assert split_counts(1, [1, 1, 0]) == (1, 0, 0)  # val never takes more than is left
    assert split_counts(0, [20, 4, 1]) == (0, 0, 0)


def test_original_counts_give_the_stated_totals() -> None:
    counts = [n for sources in ORIGINAL.values() for n in sources]
    assert sum(counts) == 30853
    assert sorted(counts) == sorted(spec[0] for spec in SOURCES.values())  # the synthetic set's proportions
    totals = [sum(split_counts(n, [20, 4, 1])[i] for n in counts) for i in range(3)]
    assert totals == [24682, 4936, 1235]


def test_run_split_outputs(smoke_data_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLOSLIM_OUT", str(smoke_data_out))
    cfg = load_config(ROOT / "params" / "smoke.yaml")
    data, synth = StudyPaths.of(cfg).run / "data", StudyPaths.of(cfg).run / "synth"
    counts = pd.read_csv(data / "counts.csv", keep_default_na=False)
    assert list(counts.columns) == ["category", "source", "total", *SPLITS]
    assert counts["total"].sum() == cfg.data.synth.images
    assert (counts["total"] == counts[list(SPLITS)].sum(axis=1)).all()
    assert counts.loc[counts.category == "AiFail", "source"].tolist() == [""]
    lists = {s: (data / f"{s}.txt").read_text().splitlines() for s in SPLITS}
    assert [len(lists[s]) for s in SPLITS] == [counts[s].sum() for s in SPLITS]
    everything = [p for s in SPLITS for p in lists[s]]
    assert len(set(everything)) == len(everything) == cfg.data.synth.images
    originals = {Path(p).resolve() for p in everything}
    assert originals == {p.resolve() for p in synth.rglob("images/*.jpg")}
    assert all(Path(p).is_symlink() and str(Path(p)).startswith(str(data)) for p in everything)
    assert pd.read_csv(data / "problems.csv").columns.tolist() == ["file", "line", "problem"]
    summary = json.loads((data / "summary.json").read_text())
    assert {"images", "background", "skipped", "problems", "instances"} <= set(summary)
    assert summary["images"] == cfg.data.synth.images and summary["problems"] == 0
    assert (data / "figures" / "split.png").stat().st_size > 1000
    assert (data / "figures" / "samples.png").stat().st_size > 1000


def test_rerun_is_deterministic_and_skips_rendering(smoke_data_out: Path, out_root: Path) -> None:
    shutil.copytree(smoke_data_out / "runs", out_root / "runs", symlinks=True)
    cfg = load_config(ROOT / "params" / "smoke.yaml")
    stamp = StudyPaths.of(cfg).run / "synth" / "synth.json"
    mtime = stamp.stat().st_mtime_ns
    result = run_split(cfg)
    assert stamp.stat().st_mtime_ns == mtime, "the synthetic set was rendered again"
    for split in SPLITS:
        ours = (StudyPaths.of(cfg).run / "data" / f"{split}.txt").read_text().replace(str(out_root), "")
        theirs = (smoke_data_out / "runs" / "smoke" / "data" / f"{split}.txt").read_text()
        assert ours == theirs.replace(str(smoke_data_out), "")
        assert len(result.lists[split]) == len(ours.splitlines())


def test_ultralytics_reads_the_mirror(smoke_cfg, out_root: Path) -> None:
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset, img2label_paths

    result = run_split(smoke_cfg)  # this test's own copy, so Ultralytics' cache lands in this tmp folder
    data = check_det_dataset(str(result.files.yaml), autodownload=False)
    assert data["names"] == dict(enumerate(smoke_cfg.data.names))
    images = result.lists["train"]
    labels = [Path(p) for p in img2label_paths([str(p) for p in images])]
    for image, label in zip(images, labels, strict=True):
        original = image.resolve().parent.parent / "labels" / f"{image.stem}.txt"
        assert label.read_bytes() == original.read_bytes() and str(label).startswith(str(result.files.dir))
    dataset = build_yolo_dataset(get_cfg(overrides={"imgsz": 64}), data["train"], 4, data, mode="val")
    boxes = sum(len(label.read_text().splitlines()) for label in labels)
    assert len(dataset) == len(images) and sum(len(lb["cls"]) for lb in dataset.labels) == boxes > 0
    caches = list(out_root.rglob("*.cache")) + list(result.root.rglob("*.cache"))
    assert caches and all(str(c).startswith(str(result.files.dir)) for c in caches)


def test_user_data_set_strict_and_lenient(tmp_path: Path, out_root: Path) -> None:
    root = synthesize(tmp_path / "user", images=21, imgsz=48, seed=5)
    label = sorted(root.glob("dmcode/*/labels/*.txt"))[0]
    label.write_text(label.read_text() + "7 0.5 0.5 0.1 0.1\n")
    before = tree_hash(root)
    strict = load_config(write_params(tmp_path, {"name": "user", "data": {"root": str(root)}}))
    with pytest.raises(ValueError, match=f"{label}:2: class id 7"):
        run_split(strict)
    lenient = load_config(write_params(tmp_path, {"name": "user", "data": {"root": str(root), "lenient": True}}))
    result = run_split(lenient)
    assert tree_hash(root) == before, "the split stage wrote into the user's data set"
    problems = pd.read_csv(result.files.problems)
    assert problems.to_dict("records") == [
        {"file": str(label), "line": 2, "problem": "class id 7 outside 0..2 (dm, qr, bar)"}
    ]
    assert sum(len(v) for v in result.lists.values()) == 20
    assert yaml.safe_load(result.files.yaml.read_text())["train"].startswith(str(out_root))


def test_unchanged_split_writes_nothing(tmp_path: Path, out_root: Path) -> None:
    root = synthesize(tmp_path / "user", images=21, imgsz=48, seed=5)
    cfg = load_config(write_params(tmp_path, {"name": "user", "data": {"root": str(root)}}))
    first = run_split(cfg)

    def written() -> dict[Path, tuple[bytes, int]]:  # every file of data/ (links and label copies too), its mtime
        files = [p for p in first.files.dir.rglob("*") if p.is_file() or p.is_symlink()]
        return {p: (p.read_bytes(), p.lstat().st_mtime_ns) for p in files}

    before = written()
    again = run_split(cfg)  # up to date: read back from the files, nothing written
    assert written() == before
    assert again.lists == first.lists and again.checks == first.checks and again.counts.equals(first.counts)
    image = sorted(root.rglob("images/*.jpg"))[0]
    image.unlink()  # the data set changed: split again
    (image.parent.parent / "labels" / f"{image.stem}.txt").unlink(missing_ok=True)
    assert sum(map(len, run_split(cfg).lists.values())) == sum(map(len, first.lists.values())) - 1
