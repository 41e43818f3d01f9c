"""Data checks: every kind of bad input is reported with its file and line, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import tree_hash
from yoloslim.cli import main
from yoloslim.data.check import check_dataset
from yoloslim.data.synth import synthesize

NAMES = ["dm", "qr", "bar"]


@pytest.fixture(scope="module")
def clean_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.mktemp("clean"), images=21, imgsz=48, seed=0)


@pytest.fixture()
def bad_root(clean_root: Path, tmp_path: Path) -> tuple[Path, dict[str, tuple[str, int]]]:
    """A copy of the clean set with one problem of each kind; returns the root and problem -> (file, line)."""
    root = shutil.copytree(clean_root, tmp_path / "bad")
    labels = sorted(root.glob("*/*/labels/*.txt"))
    labels = [p for p in labels if p.read_text().strip()]
    expected = {}

    def corrupt(label: Path, line: str, key: str) -> None:
        label.write_text(label.read_text() + line + "\n")
        expected[key] = (str(label), len(label.read_text().splitlines()))

    corrupt(labels[0], "0 0.5 0.5 0.1", "expected 5 fields")
    corrupt(labels[1], "1 0.5 abc 0.1 0.1", "not a number")
    corrupt(labels[2], "2 0.5 1.5 0.1 0.1", "outside [0, 1]")
    corrupt(labels[3], "3 0.5 0.5 0.1 0.1", "class id 3 outside")
    image = sorted(root.glob("qrcode/*/images/*.jpg"))[0]
    image.write_bytes(image.read_bytes()[:40])
    expected["corrupt or unreadable image"] = (str(image), 0)
    orphan = labels[4].with_name("orphan.txt")
    orphan.write_text("0 0.5 0.5 0.1 0.1\n")
    expected["label file without an image"] = (str(orphan), 0)
    background = sorted(root.glob("barcode/*/labels/*.txt"))[-1]
    background.unlink()
    return root, expected


def test_clean_set_has_no_problems(clean_root: Path) -> None:
    before = tree_hash(clean_root)
    report = check_dataset(clean_root, NAMES)
    assert report.problems == [] and report.images == 21
    assert report.background == 1  # AiFail's empty label file
    assert sum(report.instances.values()) > 0
    assert ("AiFail", "") in report.sources and ("qrcode", "rotate") in report.sources
    assert tree_hash(clean_root) == before


def test_each_problem_has_file_and_line(bad_root: tuple[Path, dict]) -> None:
    root, expected = bad_root
    before = tree_hash(root)
    report = check_dataset(root, NAMES)
    assert tree_hash(root) == before, "the check wrote into the data set"
    found = {(p.file, p.line): p.message for p in report.problems}
    for key, (file, line) in expected.items():
        assert key in found.get((file, line), ""), f"{key}: not reported at {file}:{line}; got {found}"
    assert len(report.problems) == len(expected)
    assert len(report.skipped) == 5  # four bad label files and the corrupt image
    assert report.images == 21 - 5 and report.background == 2  # AiFail and the image whose label was removed


def test_plain_images_labels_folder(clean_root: Path, tmp_path: Path) -> None:
    source = clean_root / "dmcode" / "custom"
    root = tmp_path / "plain"
    shutil.copytree(source / "images", root / "images")
    shutil.copytree(source / "labels", root / "labels")
    report = check_dataset(root, NAMES)
    assert report.problems == [] and report.images == len(list(root.glob("images/*.jpg")))
    assert list(report.sources) == [("plain", "")]
    assert report.instances["dm"] >= report.images


def test_cli_check_exit_codes(bad_root: tuple[Path, dict], capsys: pytest.CaptureFixture) -> None:
    root, expected = bad_root
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    file, line = expected["not a number"]
    assert f"{file}:{line}: not a number" in out
    assert main(["check", str(root), "--lenient"]) == 0
    assert "16 usable images" in capsys.readouterr().out
