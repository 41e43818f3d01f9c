"""Give each concurrent GPU job of a workflow its own GPUs on one multi-GPU server.

    python -m yoloslim.jobs.gpu_slots 1 -- papermill notebooks/05_finetune.ipynb ...

Snakemake's `--resources gpu=N` limits how many GPUs the running jobs hold in total, but does not say
which. This wrapper claims free GPUs by locking one file per device (released when the job ends, even
when it crashes), exports CUDA_VISIBLE_DEVICES, and runs the command; `train.device: 0` then means
"the first GPU this job holds". Under SLURM (which assigns devices itself) or with 0 GPUs it runs the
command as it is.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO


def visible_gpus() -> list[str]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES when set, else every CUDA device."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "").strip():
        return [d.strip() for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def claim_gpus(count: int, devices: list[str], stack: ExitStack, lock_dir: Path, poll_s: float = 2.0) -> list[str]:
    """Block until `count` of `devices` are free, lock them for the life of `stack`, return them.

    Args:
        count (int): The GPUs needed (at most as many as `devices`).
        devices (list[str]): The device ids to choose from, in order of preference.
        stack (ExitStack): Holds the locks: they are released when it closes.
        lock_dir (Path): The folder of the lock files (`gpu<device>.lock`; created if missing).
        poll_s (float): The seconds between tries while too few are free.

    Returns:
        (list[str]): The device ids claimed.
    """
    if count > len(devices):
        raise ValueError(f"a job needs {count} GPUs but only {len(devices)} are visible: {devices}")
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        held: list[tuple[str, IO]] = []
        for device in devices:
            handle = open(lock_dir / f"gpu{device}.lock", "w")  # noqa: SIM115 (closed below or by the stack)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append((device, handle))
            except BlockingIOError:
                handle.close()
            if len(held) == count:
                for _, h in held:
                    stack.callback(h.close)
                return [d for d, _ in held]
        for _, h in held:
            h.close()
        time.sleep(poll_s)


def run_on_gpus(count: int, command: list[str], lock_dir: Path | None = None) -> int:
    """Run `command` holding `count` free GPUs (see the module doc).

    Args:
        count (int): The GPUs the command needs; 0 (or under SLURM): it runs as it is, no GPU claimed.
        command (list[str]): The command and its arguments.
        lock_dir (Path | None): The folder of the lock files; None: `yoloslim-gpu-locks-<uid>` in the temporary folder.

    Returns:
        (int): The command's exit status.
    """
    if count <= 0 or "SLURM_JOB_ID" in os.environ:
        return subprocess.call(command)
    lock_dir = lock_dir or Path(tempfile.gettempdir()) / f"yoloslim-gpu-locks-{os.getuid()}"
    with ExitStack() as stack:
        gpus = ",".join(claim_gpus(count, visible_gpus(), stack, lock_dir))
        print(f"gpu_slots: running on GPU {gpus}", file=sys.stderr)
        return subprocess.call(command, env={**os.environ, "CUDA_VISIBLE_DEVICES": gpus})


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m yoloslim.jobs.gpu_slots N -- command ...`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m yoloslim.jobs.gpu_slots N -- command ...", file=sys.stderr)
        return 2
    return run_on_gpus(int(args[0]), args[2:])


if __name__ == "__main__":
    sys.exit(main())
