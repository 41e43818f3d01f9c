"""`make report`: run a study through Snakemake, and end a run that a full disk stopped with one clear message.

A full disk can strike anywhere: in our writers, in Ultralytics' checkpoint saves, in papermill's save of the
executed notebook, in Snakemake's own metadata. Each prints its own traceback, and Snakemake's error comes after
them. So the run's output is passed through as it comes and watched; when the run fails and the disk is the
cause, one message is printed last: the folder, the free space left there, about how much the failed stage
needs, and "free space and run the same command again". Finished stages are kept (every output is written whole
or not at all, `yoloslim.atomic`), and a training stage resumes from its last complete checkpoint
(`yoloslim.train.runner`).

    python -m yoloslim.jobs.run params/demo.yaml --cores 2 [--gpus N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from yoloslim.atomic import DISK_FULL_WORDS
from yoloslim.config import ROOT, Config, ConfigError, data_source, load_config
from yoloslim.jobs.locks import StudyRunning, check_lock
from yoloslim.paths import StudyPaths

# How a full disk shows in the output of Python, torch, Snakemake and our own writers (yoloslim.atomic).
DISK_FULL = re.compile("|".join(map(re.escape, (*DISK_FULL_WORDS, "[Errno 28]", "ENOSPC"))))
_PATH = re.compile(r"No space left on device: '([^']+)'|while writing (\S+?)\.? Nothing")
_RULE = re.compile(r"Error in rule (\w+):")
TRAINING_RULES = ("train", "train_variant", "sparse", "finetune")
DISK_FULL_HEADLINE = "yoloslim: the disk is full."  # the first line of the message
MIB = 1 << 20


@dataclass(frozen=True)
class DiskFull:
    """What a run that a full disk stopped tells the user: where, how much is free, about how much is needed."""

    folder: Path
    free: int
    rule: str | None
    needed: int
    needed_how: str
    command: str

    def message(self) -> str:
        """The message printed last: the folder, the free space, the estimate and what to do."""
        stage = f"in the {self.rule} stage " if self.rule else ""
        return (
            f"{DISK_FULL_HEADLINE} The study stopped {stage}while writing under {self.folder}, which has "
            f"{_size(self.free)} free; that stage needs about {_size(self.needed)} in all ({self.needed_how}).\n"
            "Nothing half-written was kept, and every finished stage is kept (a training resumes from its last "
            f"complete checkpoint): free space and run the same command again:\n    {self.command}"
        )


def run_study(config: Path, cores: int, gpus: int | None = None) -> int:
    """Run the study of `config` through Snakemake (clearing a stale lock first).

    Prints the report's paths when it succeeds, and `DiskFull.message` last when a full disk stopped it.

    Args:
        config (Path): The study's params file.
        cores (int): Snakemake's `--cores`.
        gpus (int | None): Snakemake's `--resources gpu=N`; None or 0: not limited.

    Returns:
        (int): Snakemake's exit code; 2 when the config is invalid, 1 when another run holds the study's lock.
    """
    try:
        cfg = load_config(config)
    except ConfigError as err:  # a clear message naming the file and the key, no traceback
        print(f"yoloslim: {err}", file=sys.stderr)
        return 2
    try:
        said = check_lock(config)
    except StudyRunning as err:
        print(f"yoloslim: {err}", file=sys.stderr)
        return 1
    if said:
        print(said)
    command = [
        str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--cores", str(cores),
        *(["--resources", f"gpu={gpus}"] if gpus else []), "--config", f"params={config}", "--printshellcmds",
        "--rerun-incomplete",
    ]  # fmt: skip
    print(" ".join(command), flush=True)
    code, tail, seen_full = _stream(command)
    paths = StudyPaths.of(cfg)
    if code == 0:
        for kind, path in (("HTML", paths.report_html), ("PDF", paths.report_pdf)):
            print(f"{kind:4} {path if path.exists() else f'{path} (not written)'}")
        return 0
    full = disk_full(cfg, config, "\n".join(tail), seen_full)
    if full is not None:
        print(f"\n{full.message()}", file=sys.stderr, flush=True)
    return code


def disk_full(cfg: Config, config: Path, output: str, seen_full: bool = False) -> DiskFull | None:
    """The full-disk diagnosis of a failed run's `output`, or None when the disk was not the cause.

    The disk is the cause when the output says so or the study's folder has less than 1 MiB free.

    Args:
        cfg (Config): The study (its folders, and what its stages write).
        config (Path): The params file, as the command to run again names it.
        output (str): The run's last lines of output.
        seen_full (bool): Whether any line of the whole output said the disk was full.

    Returns:
        (DiskFull | None): The folder (the first one a disk-full error names, else the study's), its free space, the
            failed rule and its estimate; None when the disk was not the cause.
    """
    paths = StudyPaths.of(cfg)
    named = [next(p for p in m.groups() if p) for m in _PATH.finditer(output)]
    folder = Path(named[0]).parent if named else paths.run
    free = shutil.disk_usage(_existing(folder)).free
    if not (seen_full or DISK_FULL.search(output) or free < MIB):
        return None
    rules = _RULE.findall(output)
    rule = rules[0] if rules else None
    needed, how = space_needed(cfg, rule)
    command = f"make report CONFIG={_shown(config)}"
    return DiskFull(folder=folder, free=free, rule=rule, needed=needed, needed_how=how, command=command)


def space_needed(cfg: Config, rule: str | None) -> tuple[int, str]:
    """About how many bytes the stage of Snakemake rule `rule` writes, and how that was estimated.

    A training stage writes last.pt and best.pt every epoch, keeps the previous ones until the new ones are whole,
    and ends with weights.pt: about five checkpoints, a checkpoint's size read from the study's largest one. Other
    stages are estimated from the study's own files (an ONNX export is about twice the fp16 weights.pt).
    """
    paths = StudyPaths.of(cfg)
    checkpoints = [p.stat().st_size for p in paths.run.glob("**/*.pt") if p.is_file()] if paths.run.is_dir() else []
    largest = max(checkpoints, default=0)
    if rule in TRAINING_RULES and largest:
        each = _size(largest)
        return 5 * largest, f"last.pt, best.pt, the two kept while they are rewritten and weights.pt, {each} each"
    if rule in ("eval_model", "prune") and largest:
        return 3 * largest, "an ONNX export of the model, about twice its weights.pt, and its tables"
    if rule == "data" and data_source(cfg) == "synth":
        images = cfg.data.synth.images + cfg.data.synth.test_images
        return images * (cfg.data.synth.imgsz**2 // 8 + 4096), f"{images} rendered JPEG images with their labels"
    if rule == "report":
        return 20 * MIB, "the HTML report with its figures, and its PDF"
    return 50 * MIB, "a rough allowance: this stage's outputs are not known in advance"


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m yoloslim.jobs.run CONFIG --cores N [--gpus N]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--gpus", type=int, default=None)
    args = parser.parse_args(argv)
    return run_study(args.config.resolve(), args.cores, args.gpus)


def _stream(command: list[str]) -> tuple[int, deque[str], bool]:
    """Run `command`, passing its output through line by line; returns its exit code, its last lines, and whether
    any line said the disk was full."""
    tail: deque[str] = deque(maxlen=400)
    seen_full = False
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", bufsize=1) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line.rstrip("\n"))
            seen_full = seen_full or bool(DISK_FULL.search(line))
    return proc.returncode, tail, seen_full


def _existing(path: Path) -> Path:
    """`path`, or its nearest existing parent (a folder the failed stage had not created yet)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _shown(config: Path) -> str:
    """The params file as the user would type it: relative to the repository when it is inside it."""
    try:
        return str(Path(config).resolve().relative_to(ROOT))
    except ValueError:
        return str(config)


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n < 1 << 30 else f"{n / (1 << 30):.1f} GiB"


if __name__ == "__main__":
    raise SystemExit(main())
