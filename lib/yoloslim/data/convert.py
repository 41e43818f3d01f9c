"""Read a data set that comes with its own splits, COCO JSON or Pascal VOC XML, into YOLO label files.

The user's data set is only read: one YOLO label file per image (`cls xc yc w h`, normalised, 6 decimals) is
written under an output folder of ours, `out/<split>/<inner>.txt`, where `<inner>` is the image's path below its
split's image folder. The folder is cleared first, so a rerun leaves no stale file. Every bad annotation is
named (file, line, message) and its image left out; an image without boxes is a background image.

COCO: `annotations/instances_<split>*.json` (COCO 2017: images in `<token>/` or `images/<token>/`, `<token>`
the JSON name's split token such as `train2017`) or Roboflow's `<split>/_annotations.coco.json` (images beside
it), `<split>` one of train, val (valid, validation), test. A category's class id is its name's index in the
study's class list. Annotations marked `iscrowd` are left out, as COCO evaluation ignores them.

VOC: `Annotations/<id>.xml`, `JPEGImages/<filename>`, the splits listed in `ImageSets/Main/{train,val,test}.txt`
(`trainval.txt` is not a split). Box corners are used as pixel coordinates, xc = (xmin + xmax) / 2 / width;
objects marked difficult are left out, as Ultralytics' VOC.yaml does.

A box reaching at most 1 pixel beyond its image is clipped to it; one reaching further is a problem.

    names = coco_names(Path("/data/coco"))
    converted = read_coco(Path("/data/coco"), names, Path("runs/study/data/converted"))
    for problem in converted.problems:
        print(problem)  # /data/coco/annotations/instances_val2017.json: annotation 123: unknown category id 7
    converted.splits["val"][0]  # Sample(image=/data/coco/val2017/000000000139.jpg, label=.../val/000000000139.txt, ...)
"""

from __future__ import annotations

import json
import math
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image

from yoloslim.atomic import write_text
from yoloslim.data.check import Problem, Sample, check_image
from yoloslim.data.mirror import SPLITS

SPLIT_WORDS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
COCO_2017 = re.compile(r"instances_(train|val|valid|validation|test)[-_]?\d*\.json")
ROBOFLOW = "_annotations.coco.json"
COCO_KEYS = ("images", "annotations", "categories")
COCO_CORNERS = ("x", "y", "x+w", "y+h")  # how a box's corners are named in the problems
VOC_CORNERS = ("xmin", "ymin", "xmax", "ymax")
BOX_TOLERANCE = 1.0  # pixels a box may reach beyond its image: clipped, not a problem
EXIF_ROTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height (Ultralytics' `exif_size`)
NOTES = {
    "crowd": "{} COCO annotations marked iscrowd left out (COCO evaluation ignores crowd regions)",
    "difficult": "{} VOC objects marked difficult left out (as Ultralytics' VOC.yaml does)",
    "clipped": "{} boxes reaching at most 1 pixel beyond their image clipped to it",
}

Corners = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass
class Converted:
    """A data set with its own splits, read into YOLO label files under an output folder."""

    names: list[str]  # class names by class id
    splits: dict[str, list[Sample]]  # "train"/"val"/"test" -> usable images
    problems: list[Problem]  # every problem found (file, line, message)
    skipped: list[str]  # images left out because of a problem
    notes: list[str]  # plain facts worth stating (difficult objects, crowd annotations, clipped boxes)


@dataclass
class _Entry:
    """One listed image while it is read: its boxes as label lines, and its problems."""

    split: str
    image: Path
    inner: Path
    where: str  # where the data set lists it (named when it is listed twice)
    size: tuple[float, float] | None  # width and height the annotations state, None when not usable
    lines: list[str] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Reading:
    """What a reader found before anything is written."""

    splits: list[str]
    entries: list[_Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # problems of no listed image
    tally: Counter[str] = field(default_factory=Counter)  # crowd, difficult, clipped


class _CocoFile(NamedTuple):
    """The annotation JSON of one split and the split token naming its image folder (`train2017`, `valid`)."""

    split: str
    path: Path
    token: str


class _Listed(NamedTuple):
    """One id of a VOC split file."""

    split: str
    file: Path
    line: int
    ident: str


def coco_names(root: Path) -> list[str]:
    """The category names of a COCO data set by category id, over all its splits; a category no annotation uses
    (such as the data set's own name that Roboflow exports as category 0) is left out.

    Raises FileNotFoundError when no split's JSON is found, ValueError when a JSON is unusable, two splits name
    one category id differently, or two category ids share a name.
    """
    root = Path(root).absolute()
    named: dict[int, tuple[str, Path]] = {}
    used: set[Any] = set()
    for source in _coco_files(root):
        data = _load_coco(source.path)
        for cid, name in _categories(source.path, data).items():
            first, where = named.setdefault(cid, (name, source.path))
            if first != name:
                raise ValueError(f"{source.path}: category id {cid} is '{name}', but '{first}' in {where}")
        used |= {_hashable(ann.get("category_id")) for ann in data["annotations"]}
    names = [named[cid][0] for cid in sorted(named) if cid in used]
    twice = sorted(name for name, n in Counter(names).items() if n > 1)
    if twice:
        raise ValueError(f"{root}: category names used by more than one category id: {', '.join(twice)}")
    return names


def voc_names(root: Path) -> list[str]:
    """The sorted object names of the VOC annotation files the split files list (unreadable files are passed
    over: `read_voc` names them). Raises FileNotFoundError when no split file is found."""
    root = Path(root).absolute()
    names: set[str] = set()
    for listed in _voc_ids(root, []):
        try:
            tree = ET.parse(root / "Annotations" / f"{listed.ident}.xml").getroot()
        except (ET.ParseError, OSError):
            continue
        names |= {(obj.findtext("name") or "").strip() for obj in tree.findall("object")}
    return sorted(names - {""})


def read_coco(root: Path, names: list[str], out: Path) -> Converted:
    """Read a COCO data set's splits into YOLO label files under `out` (cleared first); `root` is only read.

    Args:
        root (Path): The data set: `annotations/instances_<split>*.json` or `<split>/_annotations.coco.json`.
        names (list[str]): The study's class names; a category's class id is the index of its name.
        out (Path): The folder the label files are written to, outside `root`.

    Returns:
        (Converted): The usable images per split, every problem, the images left out and the notes.

    Raises:
        FileNotFoundError: When no split's JSON is found (the message names `root` and the layouts looked for).
        ValueError: When a JSON is not valid JSON or not a COCO annotation file (the message names it), or
            when `out` and `root` overlap.
    """
    root, out = _folders(root, out)
    sources = _coco_files(root)
    reading = _Reading([source.split for source in sources])
    for source in sources:
        _read_coco_split(reading, source, root, names)
    return _finish(reading, names, out)


def read_voc(root: Path, names: list[str], out: Path) -> Converted:
    """Read a Pascal VOC data set's splits into YOLO label files under `out` (cleared first); `root` is only read.

    Args:
        root (Path): The data set: `Annotations/`, `JPEGImages/` and `ImageSets/Main/{train,val,test}.txt`.
        names (list[str]): The study's class names; an object's class id is the index of its name.
        out (Path): The folder the label files are written to, outside `root`.

    Returns:
        (Converted): The usable images per split, every problem, the images left out and the notes.

    Raises:
        FileNotFoundError: When `ImageSets/Main` holds no split file (the message names the folder).
        ValueError: When `out` and `root` overlap.
    """
    root, out = _folders(root, out)
    problems: list[Problem] = []
    listed = _voc_ids(root, problems)
    reading = _Reading(list(dict.fromkeys(item.split for item in listed)), problems=problems)
    for item in listed:
        reading.entries.append(_voc_entry(root, item, names, reading.tally))
    return _finish(reading, names, out)


def _folders(root: Path, out: Path) -> tuple[Path, Path]:
    """`root` and `out` as absolute paths; ValueError when one lies inside the other (clearing `out` would
    delete the data set, or the labels would be written into it)."""
    root, out = Path(root).absolute(), Path(out).absolute()
    if out.resolve().is_relative_to(root.resolve()) or root.resolve().is_relative_to(out.resolve()):
        raise ValueError(f"{out}: the label folder must lie outside the data set {root}, and not hold it")
    return root, out


def _coco_files(root: Path) -> list[_CocoFile]:
    """The annotation JSON of each split found, in the order train, val, test."""
    found = [
        _CocoFile(SPLIT_WORDS[match[1]], path, path.stem.removeprefix("instances_"))
        for path in sorted((root / "annotations").glob("instances_*.json"))
        if (match := COCO_2017.fullmatch(path.name))
    ]
    found += [_CocoFile(split, root / word / ROBOFLOW, word) for word, split in SPLIT_WORDS.items()]
    found = [source for source in found if source.path.is_file()]
    if not found:
        raise FileNotFoundError(
            f"{root}: no COCO annotation file found; looked for annotations/instances_<split>*.json (COCO 2017) and "
            f"<split>/{ROBOFLOW} (Roboflow), <split> one of {', '.join(SPLIT_WORDS)}"
        )
    for split in SPLITS:
        paths = [str(source.path) for source in found if source.split == split]
        if len(paths) > 1:
            raise ValueError(f"{root}: more than one annotation file for the {split} split: {', '.join(paths)}")
    return sorted(found, key=lambda source: SPLITS.index(source.split))


def _load_coco(path: Path) -> dict[str, Any]:
    """A COCO annotation file: a mapping with lists of objects under images, annotations and categories, each
    image with an id; ValueError naming the file otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from err
    missing = [key for key in COCO_KEYS if not isinstance(data, dict) or not _objects(data.get(key))]
    if missing:
        raise ValueError(f"{path}: not a COCO annotation file: no list of objects under {', '.join(missing)}")
    no_id = [image for image in data["images"] if not isinstance(image.get("id"), int | str)]
    if no_id:
        raise ValueError(f"{path}: image without an id: {no_id[0]}")
    return data


def _objects(value: Any) -> bool:
    """Whether `value` is a list of JSON objects."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _categories(path: Path, data: dict[str, Any]) -> dict[int, str]:
    """Category id -> name of a COCO annotation file; ValueError naming the file for a malformed or repeated id."""
    categories: dict[int, str] = {}
    for category in data["categories"]:
        cid, name = category.get("id"), category.get("name")
        if not isinstance(cid, int) or not isinstance(name, str):
            raise ValueError(f"{path}: category {category} needs an integer id and a name")
        if categories.setdefault(cid, name) != name:
            raise ValueError(f"{path}: category id {cid} named twice: '{categories[cid]}' and '{name}'")
    return categories


def _read_coco_split(reading: _Reading, source: _CocoFile, root: Path, names: list[str]) -> None:
    """Add one split's images, with their boxes and problems, to `reading`.

    Args:
        reading (_Reading): Where the images, the problems of no image and the tallies go.
        source (_CocoFile): The split's annotation JSON.
        root (Path): The data set, where the image folders are looked for.
        names (list[str]): The study's class names.
    """
    data = _load_coco(source.path)
    categories = _categories(source.path, data)
    folders = [root / source.token, root / "images" / source.token, root / "images", source.path.parent, root]
    folders = list(dict.fromkeys(folders))
    repeated = {ident for ident, n in Counter(image["id"] for image in data["images"]).items() if n > 1}
    entries = {}
    for image in data["images"]:
        entry = _coco_image(source, image, folders, image["id"] in repeated)
        entries[image["id"]] = entry
        reading.entries.append(entry)
    for ann in data["annotations"]:
        if ann.get("iscrowd"):
            reading.tally["crowd"] += 1
            continue
        problem = _problem_at(source.path, 0, f"annotation {ann.get('id')}")
        entry = entries.get(_hashable(ann.get("image_id")))
        if entry is None:
            reading.problems.append(problem(f"image id {ann.get('image_id')} not in 'images'"))
            continue
        found = _coco_box(ann, categories, names)
        if isinstance(found, str):
            entry.problems.append(problem(found))
        else:
            _add_box(entry, found, COCO_CORNERS, problem, reading.tally)


def _coco_image(source: _CocoFile, image: dict[str, Any], folders: list[Path], repeated: bool) -> _Entry:
    """One image of a COCO file, found in the first folder that holds its `file_name`, with its problems.

    Args:
        source (_CocoFile): The split's annotation JSON.
        image (dict[str, Any]): The image's entry in `images`.
        folders (list[Path]): The folders its file is looked for in, in order.
        repeated (bool): Whether its id is listed more than once in `images`.

    Returns:
        (_Entry): The image, without boxes yet.
    """
    name = image.get("file_name")
    inner = _relative(name)
    found = next((folder / inner for folder in folders if (folder / inner).is_file()), None) if inner else None
    stated = (_number(image.get("width")), _number(image.get("height")))
    where = f"{source.path} image {image['id']}"
    entry = _Entry(source.split, found or folders[0] / str(name), inner or Path(str(name)), where, _usable(stated))
    if repeated:
        message = f"id {image['id']} listed more than once in 'images'"
    elif inner is None:
        message = f"file_name {name!r} is not a relative path"
    elif found is None:
        message = f"image file not found in {', '.join(str(folder) for folder in folders)}"
    else:
        message = _image_problem(found, stated)
    if message:
        entry.problems.append(Problem(str(source.path), 0, f"image {image['id']} {name!r}: {message}"))
    return entry


def _coco_box(ann: dict[str, Any], categories: dict[int, str], names: list[str]) -> tuple[int, Corners] | str:
    """The class id and corners of a COCO annotation's box, or what is wrong with its category or bbox."""
    cid = _hashable(ann.get("category_id"))
    if cid not in categories:
        return f"unknown category id {cid}"
    if categories[cid] not in names:
        return f"category id {cid} '{categories[cid]}' is not one of the study's classes"
    bbox = ann.get("bbox")
    values = [_number(v) for v in bbox] if isinstance(bbox, list) else []
    if len(values) != 4 or None in values:
        return f"bbox {bbox!r} is not [x, y, width, height]"
    x, y, w, h = values
    return names.index(categories[cid]), (x, y, x + w, y + h)


def _voc_ids(root: Path, problems: list[Problem]) -> list[_Listed]:
    """The ids the VOC split files list, each once per split (an id listed again is a problem in `problems`);
    FileNotFoundError naming the folder when it holds no split file."""
    folder = root / "ImageSets" / "Main"
    files = {split: folder / f"{split}.txt" for split in SPLITS if (folder / f"{split}.txt").is_file()}
    if not files:
        raise FileNotFoundError(f"{folder}: no split file train.txt, val.txt or test.txt (trainval.txt is no split)")
    listed = []
    for split, path in files.items():
        first: dict[str, int] = {}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            ident = (line.split() or [""])[0]
            if ident in first:
                problems.append(Problem(str(path), number, f"id {ident} listed again (line {first[ident]}): kept once"))
            elif ident:
                first[ident] = number
                listed.append(_Listed(split, path, number, ident))
    return listed


def _voc_entry(root: Path, listed: _Listed, names: list[str], tally: Counter[str]) -> _Entry:
    """One image of a VOC split, with its boxes (difficult objects left out and counted) and its problems.

    Args:
        root (Path): The data set.
        listed (_Listed): The id and where its split file lists it.
        names (list[str]): The study's class names.
        tally (Counter[str]): Counts of difficult objects and clipped boxes, added to.

    Returns:
        (_Entry): The image, its label lines and its problems.
    """
    xml, where = root / "Annotations" / f"{listed.ident}.xml", f"{listed.file}:{listed.line}"
    tree = _read_xml(xml, listed)
    if isinstance(tree, Problem):
        image = Path(f"{listed.ident}.jpg")
        return _Entry(listed.split, root / "JPEGImages" / image, image, where, None, problems=[tree])
    name = (tree.findtext("filename") or "").strip() or f"{listed.ident}.jpg"
    inner = _relative(name)
    stated = (_number(tree.findtext("size/width")), _number(tree.findtext("size/height")))
    entry = _Entry(listed.split, root / "JPEGImages" / name, inner or Path(name), where, _usable(stated))
    message = _image_problem(entry.image, stated) if inner else f"filename {name!r} is not a relative path"
    if message:
        entry.problems.append(Problem(str(xml), 0, message))
    for number, obj in enumerate(tree.findall("object"), start=1):
        if (obj.findtext("difficult") or "").strip() == "1":
            tally["difficult"] += 1
            continue
        problem = _problem_at(xml, number, f"object {number} '{(obj.findtext('name') or '').strip()}'")
        found = _voc_box(obj, names)
        if isinstance(found, str):
            entry.problems.append(problem(found))
        else:
            _add_box(entry, found, VOC_CORNERS, problem, tally)
    return entry


def _read_xml(xml: Path, listed: _Listed) -> ET.Element | Problem:
    """The root element of an image's VOC annotation file, or its problem: missing (named at the split file's
    line that lists the id) or unparsable."""
    if not xml.is_file():
        return Problem(str(listed.file), listed.line, f"id {listed.ident}: annotation file {xml} not found")
    try:
        return ET.parse(xml).getroot()
    except (ET.ParseError, OSError) as err:
        return Problem(str(xml), 0, f"unparsable XML: {err}")


def _voc_box(obj: ET.Element, names: list[str]) -> tuple[int, Corners] | str:
    """The class id and corners of a VOC object's box, or what is wrong with its name or bndbox."""
    name = (obj.findtext("name") or "").strip()
    if name not in names:
        return f"unknown class name {name!r} (not one of the study's classes)"
    xmin, ymin, xmax, ymax = (_number(obj.findtext(f"bndbox/{corner}")) for corner in VOC_CORNERS)
    if xmin is None or ymin is None or xmax is None or ymax is None:
        return f"bndbox without numbers for all of {', '.join(VOC_CORNERS)}"
    return names.index(name), (xmin, ymin, xmax, ymax)


def _add_box(
    entry: _Entry,
    box: tuple[int, Corners],
    labels: tuple[str, ...],
    problem: Callable[[str], Problem],
    tally: Counter[str],
) -> None:
    """Check a box against the image size its annotations state, then add it as a label line (clipped when it
    reaches at most `BOX_TOLERANCE` beyond the image) or add its problem.

    Args:
        entry (_Entry): The image; a box of an image without a usable stated size is passed over (that is named).
        box (tuple[int, Corners]): The class id and the box's corners in pixels.
        labels (tuple[str, ...]): How the four corners are named in a problem.
        problem (Callable[[str], Problem]): The problem naming this annotation, from its message.
        tally (Counter[str]): Its count of clipped boxes is added to.
    """
    if entry.size is None:
        return
    cls, corners = box
    message = _box_problem(corners, entry.size, labels)
    if message:
        entry.problems.append(problem(message))
        return
    width, height = entry.size
    x0, y0, x1, y1 = corners
    clipped = (max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height))
    tally["clipped"] += clipped != corners
    x0, y0, x1, y1 = clipped
    xc, yc, w, h = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height
    entry.lines.append(f"{cls} {xc:.6f} {yc:.6f} {w:.6f} {h:.6f}")
    entry.classes.append(cls)


def _box_problem(corners: Corners, size: tuple[float, float], labels: tuple[str, ...]) -> str | None:
    """What is wrong with a box of an image of `size` (width, height), its corners named by `labels`, or None."""
    x0, y0, x1, y1 = corners
    if x1 <= x0 or y1 <= y0:
        return f"empty box (width {x1 - x0:g}, height {y1 - y0:g})"
    width, height = size
    beyond = [
        (x0 < -BOX_TOLERANCE, f"{labels[0]} {x0:g} < 0"),
        (y0 < -BOX_TOLERANCE, f"{labels[1]} {y0:g} < 0"),
        (x1 > width + BOX_TOLERANCE, f"{labels[2]} {x1:g} > width {width:g}"),
        (y1 > height + BOX_TOLERANCE, f"{labels[3]} {y1:g} > height {height:g}"),
        (x0 >= width, f"{labels[0]} {x0:g} >= width {width:g}"),
        (y0 >= height, f"{labels[1]} {y0:g} >= height {height:g}"),
        (x1 <= 0, f"{labels[2]} {x1:g} <= 0"),
        (y1 <= 0, f"{labels[3]} {y1:g} <= 0"),
    ]
    found = [text for outside, text in beyond if outside]
    return f"box outside the image ({', '.join(found)})" if found else None


def _image_problem(path: Path, stated: tuple[float | None, float | None]) -> str | None:
    """What is wrong with an image file: missing, unreadable, or of another size than its annotations state."""
    if not path.is_file():
        return f"image file {path} not found"
    unreadable = check_image(path)
    if unreadable:
        return f"{path}: {unreadable[0].message}"
    with Image.open(path) as img:
        rotated = _exif_rotated(img)
        real = img.size[::-1] if rotated else img.size
    if stated == real:
        return None
    said = "x".join("?" if v is None else f"{v:g}" for v in stated)
    turned = " (after its EXIF rotation, as Ultralytics reads it)" if rotated else ""
    return f"size {said} in the annotations, {real[0]}x{real[1]} in the image file{turned}"


def _exif_rotated(img: Image.Image) -> bool:
    """Whether the image's EXIF orientation swaps its width and height (an unreadable EXIF does not)."""
    try:
        return img.getexif().get(274) in EXIF_ROTATIONS
    except Exception:  # PIL raises many kinds for a malformed EXIF block
        return False


def _finish(reading: _Reading, names: list[str], out: Path) -> Converted:
    """Clear `out`, leave out the images with problems or listed twice, write the others' label files."""
    if out.exists():
        shutil.rmtree(out)
    clashes, clashing = _clashes(reading.entries, out)
    converted = Converted(list(names), {split: [] for split in reading.splits}, list(reading.problems), [], [])
    for index, entry in enumerate(reading.entries):
        converted.problems += entry.problems
        if entry.problems or index in clashing:
            converted.skipped.append(str(entry.image))
        else:
            converted.splits[entry.split].append(_write(entry, out))
    converted.problems += clashes
    converted.skipped = list(dict.fromkeys(converted.skipped))
    converted.notes = [text.format(reading.tally[key]) for key, text in NOTES.items() if reading.tally[key]]
    return converted


def _clashes(entries: list[_Entry], out: Path) -> tuple[list[Problem], set[int]]:
    """Images listed more than once (in one split or in two), and images of one split whose label files would be
    one file: a problem for each, and the indices of the entries left out."""
    problems = []
    twice = _groups(range(len(entries)), lambda i: entries[i].image)
    for image, group in twice.items():
        where = "; ".join(entries[i].where for i in group)
        problems.append(Problem(str(image), 0, f"image listed {len(group)} times ({where}): left out"))
    clashing = {i for group in twice.values() for i in group}
    rest = [i for i in range(len(entries)) if i not in clashing]
    shared = _groups(rest, lambda i: out / entries[i].split / entries[i].inner.with_suffix(".txt"))
    for label, group in shared.items():
        images = ", ".join(str(entries[i].image) for i in group)
        problems.append(Problem(str(label), 0, f"one label file for {len(group)} images ({images}): left out"))
    return problems, clashing | {i for group in shared.values() for i in group}


def _groups(indices: Iterable[int], key: Callable[[int], Hashable]) -> dict[Hashable, list[int]]:
    """The indices sharing a key, for each key shared by more than one."""
    groups: dict[Hashable, list[int]] = {}
    for index in indices:
        groups.setdefault(key(index), []).append(index)
    return {k: group for k, group in groups.items() if len(group) > 1}


def _write(entry: _Entry, out: Path) -> Sample:
    """Write an image's label file, `out/<split>/<inner>.txt` (none for a background image); its Sample."""
    label = None
    if entry.lines:
        label = write_text(
            out / entry.split / entry.inner.with_suffix(".txt"), "".join(f"{ln}\n" for ln in entry.lines)
        )
    return Sample(entry.image, label, entry.inner, tuple(entry.classes))


def _problem_at(file: Path, line: int, prefix: str) -> Callable[[str], Problem]:
    """A maker of the problems of one annotation: `file`, `line` and its message after `prefix`."""
    return lambda message: Problem(str(file), line, f"{prefix}: {message}")


def _relative(name: Any) -> Path | None:
    """`name` as a relative path inside its folder, or None (not a string, absolute, or climbing out)."""
    if not isinstance(name, str) or not name.strip():
        return None
    path = Path(name)
    return None if path.is_absolute() or ".." in path.parts else path


def _number(value: Any) -> float | None:
    """`value` (a JSON number or an XML text) as a finite float, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _usable(stated: tuple[float | None, float | None]) -> tuple[float, float] | None:
    """A stated (width, height) when both are positive numbers, else None."""
    width, height = stated
    return (width, height) if width and height and width > 0 and height > 0 else None


def _hashable(value: Any) -> Hashable:
    """`value` when it can be a dictionary key, else None (a malformed id looked up)."""
    return value if isinstance(value, Hashable) else None
