"""A full disk on demand: every Python write under a folder fails with ENOSPC once a chosen file is written.

A real full disk (a small tmpfs, `yoloslim.jobs.reliability`) needs root to mount. This hook needs nothing: set
the environment of a run and every Python process it starts (Snakemake, papermill, the notebook's kernel,
Ultralytics' checkpoint writes) sees the same full disk:

    YOLOSLIM_FAULT_DISK=/path/to/outputs        the "disk": writes to files under it are the ones that can fail
    YOLOSLIM_FAULT_AFTER='runs/smoke/sparse/*'  the disk fills at the first write of a file matching this
                                                pattern (fnmatch, relative to the disk); from then on every write
                                                under the disk fails, in every process, until space is freed
    YOLOSLIM_FAULT_SKIP=1                       optional: let this many matching writes of each process through
    PYTHONPATH=<FAULT_SITE>                     installs the hook at start-up (`sitecustomize`)

The disk stays full while the marker file `<disk>.full` exists (beside the disk, not on it); "freeing space" is
removing that marker (`free_space`) and running without the variables. Writes outside Python's `open` (OpenCV's
image writer, torch's C++ zip writer when given a file name, Chromium) are not intercepted: the hook covers the
project's own write path and the Python libraries it calls, which is what `make test` checks on tiny data.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import sys
import threading
from pathlib import Path

FAULT_SITE = Path(__file__).with_name("fault_site")  # holds the sitecustomize.py that calls `install`
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_guard = threading.local()


def fault_env(disk: Path, after: str, skip: int = 0) -> dict[str, str]:
    """The environment variables that make the disk `disk` fill at the first write of a file matching `after`.

    Args:
        disk (Path): The folder playing the disk (resolved).
        after (str): The fnmatch pattern, relative to the disk, of the file whose first write fills it.
        skip (int): Matching writes let through in each process before it fills.

    Returns:
        (dict[str, str]): The `YOLOSLIM_FAULT_*` variables and a PYTHONPATH that puts `FAULT_SITE` before the current
            one.
    """
    path = os.environ.get("PYTHONPATH", "")
    return {
        "YOLOSLIM_FAULT_DISK": str(Path(disk).resolve()),
        "YOLOSLIM_FAULT_AFTER": after,
        "YOLOSLIM_FAULT_SKIP": str(skip),
        "PYTHONPATH": os.pathsep.join(p for p in (str(FAULT_SITE), path) if p),
    }


def full_marker(disk: Path) -> Path:
    """The file whose presence says the simulated disk `disk` is full (beside it, so writing it uses no space)."""
    disk = Path(disk).resolve()
    return disk.with_name(f"{disk.name}.full")


def free_space(disk: Path) -> None:
    """Free the simulated disk: the next run without the fault variables writes as usual."""
    full_marker(disk).unlink(missing_ok=True)


def install() -> None:
    """Install the audit hook when `YOLOSLIM_FAULT_DISK` and `YOLOSLIM_FAULT_AFTER` are set (else nothing)."""
    disk, after = os.environ.get("YOLOSLIM_FAULT_DISK"), os.environ.get("YOLOSLIM_FAULT_AFTER")
    if disk and after:
        sys.addaudithook(_Hook(Path(disk), after, int(os.environ.get("YOLOSLIM_FAULT_SKIP") or 0)))


class _Hook:
    """The audit hook: on an `open` for writing under the disk, raise ENOSPC when the disk is (or becomes) full."""

    def __init__(self, disk: Path, after: str, skip: int) -> None:
        self.disk = str(Path(disk).resolve())
        self.after = after
        self.skip = skip  # matching writes still let through
        self.marker = full_marker(Path(disk))

    def __call__(self, event: str, args: tuple) -> None:
        if event != "open" or getattr(_guard, "busy", False):
            return
        path, _, flags = args
        if isinstance(path, int) or path is None or not (flags or 0) & _WRITE_FLAGS:
            return
        _guard.busy = True
        try:
            self._check(os.path.abspath(os.fsdecode(os.fspath(path))))
        finally:
            _guard.busy = False

    def _check(self, path: str) -> None:
        if not path.startswith(self.disk + os.sep):
            return
        if not self.marker.exists():
            if not fnmatch.fnmatch(os.path.relpath(path, self.disk), self.after):
                return
            if self.skip > 0:
                self.skip -= 1
                return
            self.marker.touch()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
