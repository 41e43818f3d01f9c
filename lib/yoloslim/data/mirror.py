"""A data set as Ultralytics reads it, mirrored under our outputs: Ultralytics then writes nothing into the data set.

Ultralytics writes `*.cache` files beside the label folders it reads (`labels/train.cache`). The split stage
(`yoloslim.data.split`) and the single-model commands (`yoloslim finetune`, `yoloslim eval`, which take any
Ultralytics data YAML) therefore train and validate on a mirror:

    images/<split>/<path>      symlink to each image of the split (its path below the split's common folder)
    labels/<split>/<path>.txt  copy of its label file, where Ultralytics looks for it (none: a background image)
    train.txt, val.txt, test.txt   the mirror image paths of each split
    data.yaml                  the class names (and nc, channels, ...), the splits pointing at the lists

`mirror_dataset` reads a user's YAML the way Ultralytics does (`check_det_dataset`, never downloading, and
`img2label_paths`). A data set whose images all lie under the output root's runs/ (a study's own `data/`) is
ours already: its YAML is used as it is.

    data = mirror_dataset(Path("/data/codes/data.yaml"), data_mirror(Path("runs/eval/small_weights")))
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any

import yaml
from ultralytics.data.utils import IMG_FORMATS, check_det_dataset, img2label_paths

from yoloslim.atomic import write_text
from yoloslim.paths import IMAGES, LABELS, DataFiles, runs_root

SPLITS = ("train", "val", "test")
PATH_KEYS = ("path", "train", "val", "validation", "test", "minival", "download")  # not carried into the mirror


def mirror_dataset(data_yaml: Path, files: DataFiles) -> Path:
    """Mirror the data set of the Ultralytics YAML `data_yaml` into `files` (rebuilt each time); returns the YAML
    to train or validate on: `files.yaml`, or `data_yaml` itself when its images all lie under runs/ already.

    Raises FileNotFoundError naming the YAML (and the split and path) when a file or folder it names does not
    exist, ValueError when Ultralytics cannot use it, a split holds no images, or the data set lies inside the
    mirror's folder.
    """
    data_yaml = Path(data_yaml)
    written = _yaml_mapping(data_yaml)
    data = _ultralytics_reading(data_yaml)
    splits = {split: listed_images(data_yaml, split, _entries(data[split])) for split in SPLITS if data.get(split)}
    images = [image for found in splits.values() for image in found]
    if all(image.is_relative_to(runs_root().absolute()) for image in images):
        return data_yaml  # ours (a study's data/): Ultralytics' caches land under runs/ already
    files = DataFiles(files.dir.absolute())
    if any(_inside(path, files.dir) for path in (data_yaml, *images)):
        raise ValueError(f"{data_yaml}: the data set lies inside {files.dir}, which its mirror replaces")
    clear_mirror(files)
    lists = {split: _mirror_split(files.images(split), found) for split, found in splits.items()}
    keys = {k: v for k, v in written.items() if k not in (*PATH_KEYS, "names")}
    write_data_yaml(files, lists, data["names"], **keys)
    return files.yaml


def listed_images(data_yaml: Path, split: str, entries: list[Path]) -> list[Path]:
    """The images of one split of a data YAML as Ultralytics lists them (`get_img_files`).

    Args:
        data_yaml (Path): The data YAML, named in the errors.
        split (str): The split's key in the YAML, named in the errors.
        entries (list[Path]): The split's entries: folders, .txt lists or image files.

    Returns:
        (list[Path]): The images, absolute, sorted, each once.

    Raises:
        FileNotFoundError: When an entry does not exist (the message names the YAML, the split and the entry).
        ValueError: When the split holds no images (the message names the YAML).
    """
    images: set[Path] = set()
    for entry in entries:
        if not entry.exists():
            raise FileNotFoundError(f"{data_yaml}: '{split}' path {entry} does not exist")
        images.update(image.absolute() for image in _entry_images(entry))
    if not images:
        raise ValueError(f"{data_yaml}: '{split}' holds no images ({', '.join(sorted(IMG_FORMATS))})")
    return sorted(images)


def _entry_images(entry: Path) -> list[Path]:
    """The image files under a folder, or the image paths a .txt file lists (`./` lines relative to it); another
    file is one image."""
    if entry.is_dir():
        found = [Path(p) for p in glob.glob(str(Path(glob.escape(entry)) / "**" / "*.*"), recursive=True)]
    elif entry.suffix == ".txt":
        lines = [ln.strip() for ln in entry.read_text(encoding="utf-8-sig").splitlines()]
        found = [entry.parent / ln[2:] if ln.startswith("./") else Path(ln) for ln in lines if ln]
    else:
        return [entry]
    return sorted(p for p in found if p.suffix[1:].lower() in IMG_FORMATS)


def split_images(data_yaml: Path, split: str) -> list[Path]:
    """The image files of one split of an Ultralytics data.yaml (a folder, a list file, or a list of them)."""
    data_yaml = Path(data_yaml)
    data = yaml.safe_load(data_yaml.read_text()) or {}
    if not data.get(split):
        raise KeyError(f"{data_yaml}: no '{split}' split")
    root = data_root(data_yaml, data.get("path"))
    entries = data[split] if isinstance(data[split], list) else [data[split]]
    return listed_images(data_yaml, split, [Path(e) if Path(e).is_absolute() else root / e for e in entries])


def splits_with_images(files: DataFiles, splits: list[str]) -> list[str]:
    """Those of `splits` whose list in the data stage's `files` names images: a data set with its own splits may have
    no test split, and nothing is measured on it (the report says so)."""
    return [split for split in splits if files.split_list(split).is_file() and files.split_list(split).stat().st_size]


def data_root(data_yaml: Path, path: str | None) -> Path:
    """The folder a data YAML's split paths are relative to: its `path` (relative to the YAML's folder or, as
    Ultralytics reads it, to the working directory or Ultralytics' datasets folder), or the YAML's folder."""
    if not path:
        return data_yaml.parent
    if Path(path).is_absolute():
        return Path(path)
    from ultralytics.utils import DATASETS_DIR

    found = [root for root in (data_yaml.parent / path, Path.cwd() / path, DATASETS_DIR / path) if root.is_dir()]
    return found[0] if found else data_yaml.parent / path


def label_path(image: Path) -> Path:
    """Where Ultralytics looks for an image's label file (`img2label_paths`): the last `images` folder of its path
    replaced by `labels`, the suffix by `.txt`."""
    return Path(img2label_paths([str(image)])[0])


def link_image(image: Path, mirrored: Path, label: Path | None) -> None:
    """Symlink `image` at `mirrored` and copy its label file, if any, to the mirrored image's `label_path`.

    Args:
        image (Path): The image mirrored (the link points at its resolved path).
        mirrored (Path): The link to create (its folders are created).
        label (Path | None): The image's label file; None for a background image.
    """
    mirrored.parent.mkdir(parents=True, exist_ok=True)
    mirrored.symlink_to(image.resolve())
    if label is not None:
        copy = label_path(mirrored)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(label, copy)


def clear_mirror(files: DataFiles) -> None:
    """Remove an earlier mirror's image symlinks and label copies (and Ultralytics' caches among them)."""
    for sub in (IMAGES, LABELS):
        shutil.rmtree(files.dir / sub, ignore_errors=True)


def write_data_yaml(files: DataFiles, lists: dict[str, list[Path]], names: dict[int, str], **keys: Any) -> None:
    """Each split's image list (`<split>.txt`) and the Ultralytics data.yaml naming them.

    Args:
        files (DataFiles): The mirror's folder, where the lists and data.yaml are written.
        lists (dict[str, list[Path]]): Split -> its image paths, one a line of `<split>.txt`.
        names (dict[int, str]): The class names by class id.
        **keys (Any): Any other keys of data.yaml (nc, channels, ...), written after `names`.
    """
    for split, images in lists.items():
        write_text(files.split_list(split), "".join(f"{p}\n" for p in images))
    spec = {"path": str(files.dir), **{s: str(files.split_list(s)) for s in lists}, "names": names, **keys}
    write_text(files.yaml, yaml.safe_dump(spec, sort_keys=False))


def _yaml_mapping(data_yaml: Path) -> dict[str, Any]:
    """The YAML as written; errors name the file when it is missing or not a mapping."""
    if not data_yaml.is_file():
        raise FileNotFoundError(f"{data_yaml}: data YAML not found")
    written = yaml.safe_load(data_yaml.read_text())
    if not isinstance(written, dict):
        raise ValueError(f"{data_yaml}: not an Ultralytics data YAML (a mapping with train, val and names)")
    return written


def _ultralytics_reading(data_yaml: Path) -> dict[str, Any]:
    """`check_det_dataset` of the YAML without downloading: the class names, and each split as absolute paths."""
    try:
        return check_det_dataset(str(data_yaml), autodownload=False)
    except FileNotFoundError as err:  # the one split it checks, val: its first line names the missing path
        raise FileNotFoundError(f"{data_yaml}: 'val': {str(err).splitlines()[0]}") from err
    except (SyntaxError, TypeError) as err:  # a key missing or of the wrong type; the message names the YAML
        raise ValueError(str(err)) from err


def _entries(value: str | list[str]) -> list[Path]:
    """A split of the data YAML (one path or a list of them) as a list of paths."""
    return [Path(v) for v in (value if isinstance(value, list) else [value])]


def _mirror_split(folder: Path, images: list[Path]) -> list[Path]:
    """Link each image (and its label file) under `folder` at its path below the images' common folder."""
    common = Path(os.path.commonpath([image.parent for image in images]))
    mirrored = []
    for image in images:
        copy, label = folder / image.relative_to(common), label_path(image)
        link_image(image, copy, label if label.is_file() else None)
        mirrored.append(copy)
    return sorted(mirrored)


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path`, as given or with symlinks resolved, lies inside `folder`."""
    return path.absolute().is_relative_to(folder) or path.resolve().is_relative_to(folder.resolve())
