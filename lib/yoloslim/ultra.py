"""Ultralytics, set up for this project: offline, no AMP-check download, training output teed to a log.

- Offline: `yoloslim/__init__.py` sets `YOLO_OFFLINE=1`, which Ultralytics reads once, when it is first imported.
  Python runs the package's `__init__` before any of its modules, so importing any yoloslim module sets it before
  that module imports Ultralytics, which then skips its online checks (pip update, analytics, downloads).
- No AMP-check download: trainers take `OfflineAmpMixin` as their first base.
- Training output: `tee_output` sends it to a log file and the terminal.

    from yoloslim.ultra import OfflineAmpMixin, tee_output
    with tee_output(stage / "train.log"):
        trainer.train()   # full log in train.log and on the terminal, nothing in the notebook
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import torch
from ultralytics.utils import LOGGER

_CLEAR = "\r\033[K"  # what Ultralytics' TQDM writes before each redraw of a bar


class OfflineAmpMixin:
    """Trainer mixin: decide AMP without Ultralytics' `check_amp`, which loads (downloads) yolo26n.pt on CUDA.

    `_setup_train` runs the stock setup with AMP off (so the check is skipped), then turns fp16 AMP on with a
    fresh GradScaler when the config asked for it and the device is CUDA. bf16 and fp32 are left to the stock code.
    Put it first in the bases: `class MyTrainer(OfflineAmpMixin, DetectionTrainer)`.
    """

    def _setup_train(self) -> None:
        wanted = self.args.amp
        fp16 = wanted not in {False, "fp32", "bf16"} and self.device.type == "cuda"
        if fp16:
            self.args.amp = False  # the stock setup then skips check_amp and builds a disabled scaler
        try:
            super()._setup_train()
        finally:
            self.args.amp = wanted
        if fp16:
            self.amp = True
            self.scaler = torch.amp.GradScaler("cuda", enabled=True)


class _Tee(io.TextIOBase):
    """A text stream that writes to a log file and a terminal; Ultralytics progress bars redraw only on the terminal.

    Ultralytics' TQDM calls `progress(key, frame)` for each redraw and `progress(key, "")` when a bar closes; the
    log file gets each bar's last frame only, so it stays readable.
    """

    def __init__(self, log: IO[str], terminal: IO[str] | None) -> None:
        super().__init__()
        self._log, self._terminal = log, terminal
        self._frames: dict[int, str] = {}

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if text == _CLEAR:  # a bar clearing its line: nothing for the log
            self._write_terminal(text)
            return len(text)
        self._log.write(text.replace(_CLEAR, ""))
        self._write_terminal(text)
        return len(text)

    def progress(self, key: int, frame: str) -> None:
        """Ultralytics' TQDM hook: a redraw (frame) or the bar's end (empty frame: log its last frame)."""
        if frame:
            self._frames[key] = frame
            self._write_terminal(frame)
        else:
            self._log.write(self._frames.pop(key, "").replace(_CLEAR, ""))

    def flush(self) -> None:
        self._log.flush()
        if self._terminal is not None:
            self._terminal.flush()

    def _write_terminal(self, text: str) -> None:
        if self._terminal is not None:
            try:
                self._terminal.write(text)
            except (OSError, ValueError):  # a closed or broken terminal must not stop training
                self._terminal = None


@contextmanager
def tee_output(log_path: Path, terminal: IO[str] | None = None) -> Iterator[Path]:
    """Send everything printed or logged inside the block to `log_path` (appended) and to the terminal.

    The terminal is the process's original stderr. Inside a Jupyter kernel, fd 2 is a pipe into the notebook and
    `sys.stderr.fileno()` is ipykernel's copy of the original fd 2: papermill's own stderr, so the notebook gets none
    of it. Ultralytics' LOGGER handlers, `sys.stdout` and
    `sys.stderr` are all redirected for the duration and restored afterwards.
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log, _open_terminal() as own_terminal:
        tee = _Tee(log, terminal if terminal is not None else own_terminal)
        handlers = [h for h in LOGGER.handlers if type(h) is logging.StreamHandler]
        streams = [h.setStream(tee) for h in handlers]
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = tee
        try:
            yield log_path
        finally:
            sys.stdout, sys.stderr = old_out, old_err
            for handler, stream in zip(handlers, streams, strict=True):
                handler.setStream(stream)
            tee.flush()


@contextmanager
def _open_terminal() -> Iterator[IO[str] | None]:
    """A text stream on the process's original stderr (see `tee_output`), or None when there is none."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        yield sys.__stderr__
        return
    with open(fd, "w", encoding="utf-8", errors="replace", closefd=False) as stream:
        yield stream
