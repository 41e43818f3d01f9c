"""Shared test fixtures: tiny, offline, seeded. Outputs go to temporary folders via $YOLOSLIM_OUT."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Collection
from html import unescape
from pathlib import Path
from typing import TypeVar

import pytest
import yaml
from helpers.annotations import ann, coco_json, image, voc_splits, voc_xml
from yoloslim.config import ROOT, Config, load_config

os.environ.setdefault("MPLBACKEND", "Agg")
# the original study's three thresholds (the smoke study has two): for tests of a random control of `middle`
THREE_TARGETS = {"large": 0.01, "middle": 0.10, "small": 0.15}
T = TypeVar("T")


@pytest.fixture(autouse=True)
def unsimplified_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """ONNX exports in the test processes skip onnxslim (about 1.5 s each, some 30 in the suite): the checks read the
    same convolutions, channels and outputs. The end-to-end study's jobs (processes of their own) export as users'
    do, simplified."""
    monkeypatch.setattr("yoloslim.measure.onnx.SIMPLIFY", False)


@pytest.fixture()
def out_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Send runs/ and reports/ of the test to a temporary folder."""
    monkeypatch.setenv("YOLOSLIM_OUT", str(tmp_path))
    return tmp_path


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[], T]) -> T:
    """`build()`'s value, built by one pytest-xdist worker of the session and loaded by the others (the pattern of
    pytest-xdist's docs: a file in the session's shared temporary folder, behind a lock); without xdist, built."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build()
    import torch
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent / f"{name}.pt"
    with FileLock(f"{shared}.lock"):
        if shared.is_file():
            return torch.load(shared, weights_only=False)
        value = build()
        torch.save(value, shared)
    return value


def write_params(folder: Path, overrides: dict, base: str = "smoke") -> Path:
    """A params file: params/<base>.yaml with `overrides` merged in (one level deep per section)."""
    data = yaml.safe_load((ROOT / "params" / f"{base}.yaml").read_text())
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path = folder / f"{data.get('name', base)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def smoke_data_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output root holding the smoke study's synthetic data set, rendered and split once per session.

    Stages that need data (training, pruning, evaluation) start from this through `smoke_cfg`.
    """
    from yoloslim.data.split import run_split

    out = tmp_path_factory.mktemp("smoke_data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("YOLOSLIM_OUT", str(out))
        run_split(load_config(ROOT / "params" / "smoke.yaml"))
    return out


@pytest.fixture()
def smoke_cfg(smoke_data_out: Path, out_root: Path) -> Config:
    """The smoke configuration with outputs in this test's temp folder, the split data already there.

    data.yaml still points at the session's split lists; Ultralytics may write its label caches beside
    them (under the session's runs/, never into a data set).
    """
    shutil.copytree(smoke_data_out / "runs", out_root / "runs", symlinks=True)
    return load_config(ROOT / "params" / "smoke.yaml")


def file_listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `root`: relative name -> (mtime in ns, size), to show that nothing wrote there."""
    return {str(p.relative_to(root)): (p.lstat().st_mtime_ns, p.lstat().st_size) for p in root.rglob("*")}


def tree_hash(root: Path) -> str:
    """A hash of every path, file content and link under root."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """Real, tiny Ultralytics checkpoints at full and half width, for the report's hand-made results files."""
    from helpers.results import write_checkpoints

    return write_checkpoints(tmp_path_factory.mktemp("checkpoints"))


# words a Chinese report keeps in English: metrics, units, formats, tools and libraries, split names
KEPT_ENGLISH = set(
    "mAP mmAP FLOPs GFLOPs ONNX Runtime CPU GPU CUDA IoU P R BN BatchNorm SGD gamma beta lr sl conf ms px MB M "
    "Ultralytics Torch-Pruning zxing-cpp bootstrap Detect PyTorch torch train val test".split()
)
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"  # CJK punctuation, ideographs and full-width forms
_BREAKS = r"p|li|h[1-6]|td|th|tr|thead|tbody|table|div|br|caption|figcaption"  # elements that end a run of words


def english_runs(html: str, kept: Collection[str] = ()) -> list[str]:
    """Each run of three or more English words a reader of the HTML page `html` sees, code and names aside.

    Taken out first: <head>, styles, scripts, comments, code and preformatted blocks (configuration, the data
    tree); tokens with a digit, `_`, `/`, `.`, `|`, `=` or `<` inside (model names, numbers, paths, config keys);
    and the words of `KEPT_ENGLISH` and `kept` (e.g. class names), which end a run. Chinese characters and
    punctuation, paragraphs and table cells end a run too.
    """
    body = re.sub(r"<(head|style|script|code|pre)\b.*?</\1>|<!--.*?-->", "\n", html, flags=re.S | re.I)
    body = unescape(re.sub(r"<[^>]+>", "", re.sub(rf"</?(?:{_BREAKS})\b[^>]*>", "\n", body, flags=re.I)))
    runs, allowed = [], KEPT_ENGLISH | set(kept)
    for line in re.split(rf"[\n{_CJK}]+", body):
        run: list[str] = []
        for token in [*line.split(), ""]:  # the empty token ends the last run
            word = token.strip("()[]{},.;:!?\"'*`“”‘’—–-")
            if re.fullmatch(r"[A-Za-z]+(?:['’-][A-Za-z]+)*", word) and word not in allowed:
                run.append(word)
                continue
            if len(run) >= 3:
                runs.append(" ".join(run))
            run = []
    return runs


@pytest.fixture()
def user_data(smoke_data_out: Path, tmp_path: Path) -> Path:
    """The smoke data set copied as a user's Ultralytics data set in tmp_path; returns its data.yaml.

    images/<split>/<category>/<source>/ and labels/<split>/... for every split; train and val are named by folder,
    test by a list file of `./images/test/...` lines.
    """
    from ultralytics.data.utils import img2label_paths

    mirror, root = smoke_data_out / "runs" / "smoke" / "data", tmp_path / "user_data"
    for split in ("train", "val", "test"):
        for line in (mirror / f"{split}.txt").read_text().splitlines():
            rel = Path(split, Path(line).relative_to(mirror / "images" / split))
            label = Path(img2label_paths([line])[0])
            for source, copy in (
                (Path(line), root / "images" / rel),
                (label, root / "labels" / rel.with_suffix(".txt")),
            ):
                if source.is_file():  # a background image has no label file
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, copy)
    listed = sorted((root / "images" / "test").rglob("*.jpg"))
    (root / "test.txt").write_text("".join(f"./{p.relative_to(root)}\n" for p in listed))
    names = yaml.safe_load((mirror / "data.yaml").read_text())["names"]
    spec = {"path": str(root), "train": "images/train", "val": "images/val", "test": "test.txt", "names": names}
    (root / "data.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root / "data.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the smoke study end to end (the longest test) first; parallel workers (`make test`) share the rest."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


# tiny COCO and VOC data sets (tests/helpers/annotations.py), for test_convert and test_given
@pytest.fixture()
def coco(tmp_path: Path) -> Path:
    """A COCO 2017 set: train in train2017/ (a subfolder too), val in images/val2017/, test in test2017/."""
    root = tmp_path / "coco"
    for name in ("a.jpg", "b.jpg", "sub/c.jpg"):
        image(root / "train2017" / name)
    image(root / "images" / "val2017" / "v.jpg")
    image(root / "test2017" / "t.jpg")
    train = [
        ann(1, 1, 7, [4, 6, 8, 12]),
        ann(2, 1, 3, [0, 0, 32, 24]),
        ann(3, 1, 3, [0, 0, 5, 5], iscrowd=1),
        ann(4, 3, 7, [-0.5, 2, 10.5, 22.5]),  # within 1 pixel of the image: clipped
    ]
    coco_json(root / "annotations" / "instances_train2017.json", [(1, "a.jpg"), (2, "b.jpg"), (3, "sub/c.jpg")], train)
    coco_json(root / "annotations" / "instances_val2017.json", [(1, "v.jpg")], [ann(1, 1, 3, [8, 0, 16, 24])])
    coco_json(root / "annotations" / "instances_test2017.json", [(5, "t.jpg")], [ann(9, 5, 7, [0, 12, 16, 12])])
    return root


@pytest.fixture()
def voc(tmp_path: Path) -> Path:
    """A VOC set: 000001 (a dog, a difficult cat, a cat), 000002 (no objects), 000003 in val."""
    root = tmp_path / "VOC"
    for ident in ("000001", "000002", "000003"):
        image(root / "JPEGImages" / f"{ident}.jpg")
    voc_xml(
        root / "Annotations" / "000001.xml",
        "000001.jpg",
        [("dog", 0, 5, 7, 13, 19), ("cat", 1, 1, 1, 4, 4), ("cat", 0, 1, 1, 32, 24)],
    )
    voc_xml(root / "Annotations" / "000002.xml", None, [])
    voc_xml(root / "Annotations" / "000003.xml", "000003.jpg", [("person", 0, 17, 1, 32, 12)])
    voc_splits(root, train=["000001", "000002"], val=["000003"], trainval=["000001", "000002", "000003", "000004"])
    return root


@pytest.fixture()
def pruned(smoke_cfg: Config) -> dict[str, int]:
    """A quarter of the tiny base model's channels pruned (width 0.125), saved as the `small` prune target; its conv
    channels."""
    from helpers.training import write_pruned
    from yoloslim.models.build import build_model, conv_channels

    smoke_cfg.model.width = 0.125
    channels = write_pruned(smoke_cfg)
    assert channels != conv_channels(build_model(smoke_cfg, nc=3))  # really pruned
    return channels
