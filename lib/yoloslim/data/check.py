"""Check a detection data set without writing to it: images readable, labels well formed, pairs matched.

Two layouts are understood, and any mix of them: the study's tree
`ROOT/<category>/<source>/images/*.jpg` with `labels/*.txt` beside `images/` (a category without
sources, like AiFail, has `ROOT/<category>/images/`), and a plain `ROOT/images/` + `ROOT/labels/`. An
image's label is found as Ultralytics does: the last `images` folder of its path replaced by `labels`,
the suffix by `.txt`. An image with no label file is a background image, counted and accepted.

    report = check_dataset(Path("data/codes"), ["dm", "qr", "bar"])
    for problem in report.problems:
        print(problem)  # data/codes/qrcode/argos/labels/a.txt:3: class id 7 outside 0..2 (dm, qr, bar)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class Problem(NamedTuple):
    """One problem in a data set; `line` is 0 when it concerns the whole file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class Sample:
    """A usable image: its path, its label file (None for a background image) and its instances per class id."""

    image: Path
    label: Path | None
    inner: Path  # path below its `images` folder (the file name, or subfolders and file name)
    classes: tuple[int, ...] = ()


@dataclass
class CheckReport:
    """What `check_dataset` found."""

    root: Path
    names: list[str]
    problems: list[Problem] = field(default_factory=list)  # every problem, as (file, line, message) rows
    sources: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)  # (category, source) -> usable images
    skipped: list[str] = field(default_factory=list)  # images left out because of a problem

    @property
    def images(self) -> int:
        """Usable images (background included)."""
        return sum(len(samples) for samples in self.sources.values())

    @property
    def background(self) -> int:
        """Usable images without any box."""
        return sum(not s.classes for samples in self.sources.values() for s in samples)

    @property
    def instances(self) -> dict[str, int]:
        """Boxes per class name over the usable images."""
        counts = dict.fromkeys(self.names, 0)
        for samples in self.sources.values():
            for sample in samples:
                for cls in sample.classes:
                    counts[self.names[cls]] += 1
        return counts

    def summary(self) -> dict:
        """images, background, skipped, problems and instances per class, as plain data."""
        return {
            "images": self.images,
            "background": self.background,
            "skipped": len(self.skipped),
            "problems": len(self.problems),
            "instances": self.instances,
        }


def check_dataset(root: Path, names: list[str]) -> CheckReport:
    """Check every image and label under `root` against the class `names`; reads only, never writes."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: data set folder not found")
    images, labels = _find_files(root)
    if not images:
        raise ValueError(f"{root}: no images found in an 'images' folder ({', '.join(sorted(IMAGE_SUFFIXES))})")
    report = CheckReport(root=root, names=list(names))
    used = set()
    for image, (category, source, inner) in images.items():
        label = _label_of(image)
        used.add(label)
        problems = check_image(root / image)
        classes: tuple[int, ...] = ()
        if label in labels:
            line_problems, classes = check_label(root / label, len(names), names)
            problems += line_problems
        report.problems += problems
        if problems:
            report.skipped.append(str(root / image))
            continue
        sample = Sample(root / image, root / label if label in labels else None, inner, classes)
        report.sources.setdefault((category, source), []).append(sample)
    for label in sorted(set(labels) - used):
        report.problems.append(Problem(str(root / label), 0, "label file without an image"))
    report.sources = dict(sorted(report.sources.items()))
    return report


def _find_files(root: Path) -> tuple[dict[Path, tuple[str, str, Path]], set[Path]]:
    """Images (relative path -> category, source, inner path) and label files (relative paths) under root."""
    images, labels = {}, set()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel_folder = Path(folder).relative_to(root)
        for name in sorted(files):
            rel = rel_folder / name
            parts = rel.parts[:-1]
            suffix = Path(name).suffix.lower()
            if suffix in IMAGE_SUFFIXES and "images" in parts:
                at = len(parts) - 1 - parts[::-1].index("images")
                prefix = parts[:at]
                category = prefix[0] if prefix else root.resolve().name
                images[rel] = (category, "/".join(prefix[1:]), Path(*rel.parts[at + 1 :]))
            elif suffix == ".txt" and "labels" in parts:
                labels.add(rel)
    return images, labels


def _label_of(image: Path) -> Path:
    """The label path of an image (relative): last `images` folder -> `labels`, suffix -> `.txt`."""
    parts = list(image.parts)
    at = len(parts) - 1 - parts[::-1].index("images")
    parts[at] = "labels"
    return Path(*parts).with_suffix(".txt")


def check_image(path: Path) -> list[Problem]:
    """A problem when the image cannot be opened and fully decoded."""
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            img.load()
            if min(img.size) < 1:
                raise OSError(f"empty image {img.size}")
    except Exception as err:  # PIL raises many kinds for corrupt files
        return [Problem(str(path), 0, f"corrupt or unreadable image: {err}")]
    return []


def check_label(path: Path, nc: int, names: list[str]) -> tuple[list[Problem], tuple[int, ...]]:
    """Problems of a YOLO label file (one `class x y w h` line per box) and the class ids of its boxes."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        return [Problem(str(path), 0, f"unreadable label file: {err}")], ()
    problems, classes = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        message = _check_fields(fields, nc, names)
        if message:
            problems.append(Problem(str(path), number, message))
        else:
            classes.append(int(float(fields[0])))
    return problems, tuple(classes)


def _check_fields(fields: list[str], nc: int, names: list[str]) -> str | None:
    """What is wrong with one label line's fields, or None."""
    if len(fields) != 5:
        return f"expected 5 fields (class x_center y_center width height), got {len(fields)}"
    try:
        values = [float(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not _is_number(f))
        return f"not a number: {bad!r}"
    cls = values[0]
    if not cls.is_integer() or not 0 <= cls < nc:
        return f"class id {fields[0]} outside 0..{nc - 1} ({', '.join(names)})"
    outside = [f"{axis}={v:g}" for axis, v in zip(("x", "y", "w", "h"), values[1:], strict=True) if not 0 <= v <= 1]
    if outside:
        return f"coordinates outside [0, 1]: {', '.join(outside)}"
    return None


def _is_number(text: str) -> bool:
    """True when `text` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True
