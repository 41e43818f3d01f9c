"""Outputs written whole or not at all, and a clear message when the disk is full.

A stage killed mid-write (SIGKILL, an OOM kill, a lost session) must never leave a file that looks complete:
every output is written to a temporary name beside it and renamed onto its own name only once written
(`os.replace`, atomic on POSIX). A full disk stops the stage with a message naming the file and the
folder, and leaves the previous file, if any, as it was: free space and run the same command again.

    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(text)
    write_text(out / "metrics.json", text)       # the same, in one call
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# How a full disk reads in an error's text: the OS's wording, torch.save's, and ours (`disk_full`)
DISK_FULL_WORDS = ("No space left on device", "file write failed", "no space left on the device")


class DiskFullError(OSError):
    """No space left while writing an output; the message names the file and says what to do."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix, so writers that go by it still work); when the block
    ends without an error, rename it onto `path`; on any error (a full disk included), remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if is_disk_full(err):
            raise disk_full(path) from err
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any, **options: Any) -> Path:
    """Write `data` as JSON (indent 2, then `options`) to `path` atomically, ending with a newline."""
    return write_text(path, json.dumps(data, **{"indent": 2, **options}) + "\n")


def is_disk_full(err: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the device has no space left."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(err) for words in DISK_FULL_WORDS):
            return True
        err = err.__cause__ or err.__context__
    return False


def disk_full(path: str | Path) -> DiskFullError:
    """The error to raise when writing `path` ran out of space."""
    path = Path(path)
    return DiskFullError(
        errno.ENOSPC,
        f"no space left on the device while writing {path}. Nothing half-written was kept; free space on the "
        f"file system of {path.parent} and run the same command again: finished stages are kept",
        str(path),
    )
