"""Whether a stage's outputs are up to date: made from the same key, and all still there.

A stage records what its outputs were made from beside them: its key, the stage key (`yoloslim.stages.stage_key`, the
settings Snakemake's key files hold) and the digests of its input files. Run again, from Snakemake or from a notebook
opened by hand, a stage whose record holds the current key and whose outputs all exist writes nothing, so a finished
study run by hand leaves every file as it was and Snakemake plans nothing after it. The records:

    train/<model>/, sparse/, finetune/<model>/   params.json (`yoloslim.train.runner`, which also resumes)
    data/, prune/<target>/, eval/                params.json, written by `recording` once the outputs are
    eval/<model>/                                metrics.json's `eval_params` (`yoloslim.eval.stage`)

    key = stage_record(stage_key(cfg, "prune", "small"), {"sparse": file_digest(sparse_weights)})
    if not up_to_date(files.record, key, outputs):
        with recording(files.record, key):
            ...  # write the outputs
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yoloslim.atomic import write_json


def stage_record(settings: Any, inputs: dict[str, str]) -> dict[str, Any]:
    """A stage's key as its record holds it: its `settings` and its input files' digests (name -> digest), as plain
    JSON data (tuples become lists, paths strings), so a key read back from a record compares equal."""
    return json.loads(json.dumps({"stage": settings, "inputs": inputs}, sort_keys=True, default=str))


def tree_digest(root: Path) -> str:
    """Fingerprint of every file under `root`: relative paths, sizes and modification times (first 16 hex digits).

    A data set's files are too many to read at every run; one added, removed, replaced or edited changes it.
    """
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            stat = path.stat() if path.exists() else path.lstat()  # a broken link counts as itself
            h.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def recorded(record: Path, field: str = "key") -> Any:
    """The value `field` of the JSON file `record`; None when the file is missing, unreadable or lacks it."""
    try:
        return json.loads(Path(record).read_text()).get(field)
    except (OSError, ValueError, AttributeError):
        return None


def up_to_date(record: Path, key: dict[str, Any], outputs: Iterable[Path] = (), field: str = "key") -> bool:
    """True when `record` holds `key` (under `field`) and every one of `outputs` exists.

    Args:
        record (Path): The stage's record, a JSON file.
        key (dict[str, Any]): The current key (`stage_record`).
        outputs (Iterable[Path]): The stage's output files.
        field (str): The record's field holding the key.

    Returns:
        (bool): Whether the outputs are up to date.
    """
    return recorded(record, field) == key and all(Path(path).is_file() for path in outputs)


@contextmanager
def recording(record: Path, key: dict[str, Any]) -> Iterator[None]:
    """Around a stage's writes: the old record goes first (outputs half rewritten are never taken for up to date),
    and `record` holds `key` once the block has finished without an error."""
    Path(record).unlink(missing_ok=True)
    yield
    write_json(record, {"key": key})
