"""The split stage: check the data set, split every source train:val:test, write Ultralytics inputs.

Every (category, source) group is shuffled with a seeded generator and split by the configured ratios
(default 20:4:1): train and val counts are rounded half up, test gets the rest. The user's data set is
only read. Ultralytics writes `*.cache` files beside the label folders it reads, so the split stage
builds a mirror under `runs/<config>/data/` (`yoloslim.data.mirror`):

    data/images/<split>/<category>/<source>/<name>   symlink to the original image
    data/labels/<split>/<category>/<source>/<stem>.txt  copy of the checked label file
    data/train.txt, val.txt, test.txt                the mirror image paths of each split
    data/data.yaml, counts.csv, problems.csv, summary.json, figures/

The synthetic set may add test-only images (`data.synth.test_images`), rendered with a seed of their own
and mirrored under `test_only/`: they join test.txt, and counts.csv counts them in a `test_only` column,
so the train:val:test split of the main set stays as configured.

    result = run_split(load_config("params/demo.yaml"))
    result.counts  # one row per source: category, source, total, train, val, test
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from yoloslim.atomic import atomic_path, write_json
from yoloslim.config import Config, data_source, job_threads
from yoloslim.data.check import CheckReport, Sample, check_dataset
from yoloslim.data.given import data_set_name, given_digest, read_given
from yoloslim.data.mirror import SPLITS, clear_mirror, link_image, write_data_yaml
from yoloslim.data.synth import SOURCES, synthesize
from yoloslim.paths import DataFiles, StudyPaths
from yoloslim.shared import TEST_ONLY
from yoloslim.stages import stage_key
from yoloslim.uptodate import recording, stage_record, tree_digest, up_to_date

_STAMP = "synth.json"  # in the synthetic data set's root: the parameters it was rendered with
SPLIT_SUMMARY = ("root", "splits", "split_instances")  # summary.json's keys beside the data checks' summary


@dataclass
class SplitResult:
    """What the split stage wrote and found."""

    root: Path  # the data set that was split (the user's, or the synthetic one)
    files: DataFiles  # runs/<config>/data: the lists, the Ultralytics data file, the tables
    lists: dict[str, list[Path]]  # split -> mirror image paths
    counts: pd.DataFrame  # category, source, total, train, val, test
    checks: dict[str, Any]  # what the data checks found: images, background, skipped, problems, instances


def split_counts(n: int, ratios: list[float]) -> tuple[int, int, int]:
    """(train, val, test) of `n` images: train and val are n * ratio / sum rounded half up, test the rest."""
    total = sum(Fraction(r) for r in ratios)
    train = min(n, _round_half_up(n * Fraction(ratios[0]) / total))
    val = min(n - train, _round_half_up(n * Fraction(ratios[1]) / total))
    return train, val, n - train - val


def run_split(cfg: Config) -> SplitResult:
    """Check the configured data set (synthesizing the embedded one if needed), split it, write `data/`.

    Skipped when up to date: `data/params.json` holds the data stage's key, the mirror's folder and a fingerprint
    of the data set's files (names, sizes, modification times), and every output is there; the result is then
    read back from the written files (`yoloslim.uptodate`).

    Raises ValueError listing every problem (file:line) unless `cfg.data.lenient`, which skips bad files
    and lists them in problems.csv.
    """
    paths = StudyPaths.of(cfg)
    source = data_source(cfg)
    root = ensure_synthetic(cfg) if source == "synth" else Path(cfg.data.yaml or cfg.data.root)
    files = paths.data
    settings = {**stage_key(cfg, "data"), "mirror": str(files.dir.absolute())}
    if source == "yaml":
        inputs = {"data_set": given_digest(root)}
    else:
        sets = {"data_set": root, **({TEST_ONLY: paths.synth_test} if source == "synth" else {})}
        inputs = {name: tree_digest(path) for name, path in sets.items() if path.is_dir()}
    key = stage_record(settings, inputs)
    outputs = [files.yaml, *map(files.split_list, SPLITS), files.counts, files.problems, files.summary]
    if up_to_date(files.record, key, [*outputs, files.figure("split"), files.figure("samples")]):
        return _written(root, files)
    with recording(files.record, key):
        return _split(cfg, root)


def _written(root: Path, files: DataFiles) -> SplitResult:
    """The result of an up-to-date split, read back from the files it wrote."""
    lists = {split: [Path(line) for line in files.split_list(split).read_text().splitlines()] for split in SPLITS}
    counts = pd.read_csv(files.counts, keep_default_na=False)
    summary = json.loads(files.summary.read_text())
    checks = {k: v for k, v in summary.items() if k not in SPLIT_SUMMARY}
    return SplitResult(root, files, lists, counts, checks)


def _split(cfg: Config, root: Path) -> SplitResult:
    """Check the data set at `root`, split it (unless it brings its own splits) and write `data/` (see
    `run_split`)."""
    paths = StudyPaths.of(cfg)
    if data_source(cfg) in ("synth", "tree"):
        report = _checked(root, cfg)
        keys = sorted(report.sources, key=_display_order)
        assigned = {key: _split_source(key, report.sources[key], cfg) for key in keys}
    else:
        report, assigned = _given_splits(cfg, root, paths.data.converted())
    if data_source(cfg) == "synth" and cfg.data.synth.test_images:
        test_only = _checked(paths.synth_test, cfg).sources
        for key in assigned:
            assigned[key][TEST_ONLY] = test_only.get(key, [])
    extra = [TEST_ONLY] if any(TEST_ONLY in parts for parts in assigned.values()) else []
    files = paths.data
    lists = _write_mirror(files, assigned)
    lists["test"] = sorted(lists["test"] + lists.pop(TEST_ONLY, []))
    counts = pd.DataFrame(
        [
            {"category": c, "source": s, "total": sum(len(v) for v in parts.values()), **_sizes(parts)}
            for (c, s), parts in assigned.items()
        ],
        columns=["category", "source", "total", *SPLITS, *extra],
    )
    instances = _split_instances(assigned, cfg.data.names)
    _write_tables(files, counts, report, lists, instances)
    from yoloslim.data.figures import plot_samples, plot_split

    plot_split(counts, files.figure("split"))
    plot_samples(_sample_images(assigned), cfg.data.names, files.figure("samples"))
    return SplitResult(root, files, lists, counts, report.summary())


def _checked(root: Path, cfg: Config) -> CheckReport:
    """`check_dataset` of `root`; raises ValueError listing every problem (file:line) unless `data.lenient`."""
    return _usable(check_dataset(root, cfg.data.names), cfg)


def _usable(report: CheckReport, cfg: Config) -> CheckReport:
    """`report` when it found no problems or `data.lenient` skips them; else ValueError listing every problem."""
    if report.problems and not cfg.data.lenient:
        listing = "\n".join(str(p) for p in report.problems)
        raise ValueError(
            f"data set {report.root} has {len(report.problems)} problem(s) (set data.lenient: true to skip bad "
            f"files):\n{listing}"
        )
    return report


def _given_splits(
    cfg: Config, root: Path, converted: Path
) -> tuple[CheckReport, dict[tuple[str, str], dict[str, list[Sample]]]]:
    """A data set's own splits (`yoloslim.data.given`), checked, as one group named after the data set: no re-split,
    and a split it does not have stays empty."""
    given = read_given(cfg, converted)
    name = data_set_name(root)
    samples = [s for split in SPLITS for s in given.splits.get(split, [])]
    report = CheckReport(root, list(cfg.data.names), given.problems, {(name, ""): samples}, given.skipped)
    _usable(report, cfg)
    return report, {(name, ""): {split: given.splits.get(split, []) for split in SPLITS}}


def ensure_synthetic(cfg: Config) -> Path:
    """The embedded synthetic data set under runs/<config>/synth (and its test-only images under synth_test),
    rendered unless already there as configured."""
    paths, synth = StudyPaths.of(cfg), cfg.data.synth
    key = stage_key(cfg, "data")  # the renderer's part of the data stage's key: its settings and version
    stamp = {**key["data"]["synth"], "version": key["synth_version"]}
    stamp_file = paths.synth / _STAMP
    if stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp:
        return paths.synth
    for out in (paths.synth, paths.synth_test):
        if out.exists():
            shutil.rmtree(out)  # ours: rendered by an earlier run with other parameters
    sets = [(paths.synth, synth.images, synth.seed)]
    if synth.test_images:
        sets.append((paths.synth_test, synth.test_images, synth.test_seed))
    workers = job_threads() or os.cpu_count() or 1  # nothing else runs beside the data stage
    for out, images, seed in sets:
        synthesize(out, images, imgsz=synth.imgsz, seed=seed, detect_imgsz=synth.detect_imgsz, workers=workers)
    write_json(stamp_file, stamp, indent=1)
    return paths.synth


def _display_order(key: tuple[str, str]) -> tuple[int, tuple[str, str]]:
    """The original study's order for its own categories and sources, then the rest alphabetically."""
    order = list(SOURCES)
    return (order.index(key) if key in order else len(order), key)


def _round_half_up(value: Fraction) -> int:
    """Nearest integer, halves rounded up (exact, no float error)."""
    return int((value + Fraction(1, 2)) // 1)


def _split_source(key: tuple[str, str], samples: list[Sample], cfg: Config) -> dict[str, list[Sample]]:
    """Shuffle one source's images with a seed of its own and cut them by the configured ratios."""
    order = sorted(samples, key=lambda s: str(s.inner))
    random.Random(f"{cfg.data.split_seed}/{key[0]}/{key[1]}").shuffle(order)
    train, val, _ = split_counts(len(order), cfg.data.split)
    return {"train": order[:train], "val": order[train : train + val], "test": order[train + val :]}


def _sizes(parts: dict[str, list[Sample]]) -> dict[str, int]:
    """Images per split (and test-only images, when the synthetic set has them)."""
    return {split: len(samples) for split, samples in parts.items()}


def _write_mirror(files: DataFiles, assigned: dict[tuple[str, str], dict[str, list[Sample]]]) -> dict[str, list[Path]]:
    """Symlink images and copy labels under data/{images,labels}/<split>/<category>/<source>/...; return each
    split's image paths. The previous run's mirror (and Ultralytics' caches in it) is removed first."""
    clear_mirror(files)
    lists: dict[str, list[Path]] = {split: [] for split in (*SPLITS, TEST_ONLY)}
    for (category, source), parts in assigned.items():
        group = Path(category, source) if source else Path(category)
        for split, samples in parts.items():
            for sample in samples:
                image = files.images(split) / group / sample.inner
                link_image(sample.image, image, sample.label)
                lists[split].append(image)
    return {split: sorted(paths) for split, paths in lists.items()}


def _split_instances(assigned: dict[tuple[str, str], dict[str, list[Sample]]], names: list[str]) -> dict:
    """Boxes per class name in each split (test-only images counted in `test` and on their own)."""
    counts: dict[str, dict[str, int]] = {}
    for parts in assigned.values():
        for split, samples in parts.items():
            for key in {split, "test"} if split == TEST_ONLY else {split}:
                row = counts.setdefault(key, dict.fromkeys(names, 0))
                for sample in samples:
                    for cls in sample.classes:
                        row[names[cls]] += 1
    return counts


def _write_tables(
    files: DataFiles, counts: pd.DataFrame, report: CheckReport, lists: dict[str, list[Path]], instances: dict
) -> None:
    """Split lists, data.yaml, counts.csv, problems.csv and summary.json (with each split's boxes per class)."""
    write_data_yaml(files, lists, dict(enumerate(report.names)))
    problems = pd.DataFrame(report.problems, columns=["file", "line", "message"]).rename(columns={"message": "problem"})
    for path, table in ((files.counts, counts), (files.problems, problems)):
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    splits = (str(report.root), {s: len(v) for s, v in lists.items()}, instances)
    summary = {**report.summary(), **dict(zip(SPLIT_SUMMARY, splits, strict=True))}
    write_json(files.summary, summary, indent=1)


def _sample_images(
    assigned: dict[tuple[str, str], dict[str, list[Sample]]], count: int = 12
) -> list[tuple[str, Sample]]:
    """Up to `count` (category/source, training image): one per category first, then one per source."""
    firsts = [(f"{c}/{s}".rstrip("/"), parts["train"][0]) for (c, s), parts in assigned.items() if parts["train"]]
    chosen: list[tuple[str, Sample]] = []
    for title, sample in firsts:
        if title.split("/")[0] not in {t.split("/")[0] for t, _ in chosen}:
            chosen.append((title, sample))
    chosen += [item for item in firsts if item not in chosen]
    more = [(t, s) for (c, src), parts in assigned.items() for t, s in zip([f"{c}/{src}".rstrip("/")] * count,
            parts["train"][1:count], strict=False)]  # fmt: skip
    return (chosen + more)[:count]  # a data set with its own splits is one group: more of its images
