"""The shared runner of every training stage (train, sparse, finetune) on stock Ultralytics.

Every training stage goes through `run_training`: one stage folder holds Ultralytics' own run (`ultra/`),
the final checkpoint copied to `weights.pt`, `results.csv`, `metrics.json`, `train.log` and `params.json`
(the parameters and input fingerprints it was trained with).

- A finished stage whose `params.json` holds the same key returns at once. The key is the job's `key` (for a
  study's stage its `yoloslim.stages.stage_key`, the definition Snakemake's cache files hold too) and the digests
  of its input files: the data set's image lists and the job's `inputs` (a starting or pruned checkpoint).
- An interrupted one resumes from `ultra/weights/last.pt` (Ultralytics `resume`), or from the previous epoch's
  checkpoint when last.pt was cut off mid-write (a kill or a full disk: `YoloTrainer.save_model` keeps it until
  the new one is written whole).
- Anything else starts over.

A stage is done only when all its outputs are: `params.json` says "finished" only after `weights.pt`,
`results.csv`, `metrics.json` and the job's own logs are written. Logs that callbacks write during training
(`TrainJob.logs`, such as the sparse stage's gamma log) are kept in `ultra/` and copied up at the end, so an output
lost after training (Snakemake removes the outputs of a job that failed, for example when a full disk stopped the
save of its notebook) is copied again by the next run instead of being trained again.

    from yoloslim.train.runner import TrainJob, run_training
    run_training(TrainJob(stage=folder, name="base", trainer=YoloTrainer, build=build, args=train_args(cfg)))
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import strip_optimizer

from yoloslim.atomic import atomic_path, disk_full, is_disk_full, write_json
from yoloslim.config import Config, job_threads
from yoloslim.paths import RESULTS, StudyPaths, TrainFiles
from yoloslim.stages import data_digest, file_digest
from yoloslim.train.precise_bn import PreciseBN
from yoloslim.ultra import OfflineAmpMixin, tee_output
from yoloslim.uptodate import stage_record

UNKEYED_ARGS = ("device", "workers", "data")  # arguments that do not change the trained model (data: by digest)


class YoloTrainer(OfflineAmpMixin, DetectionTrainer):
    """Ultralytics' DetectionTrainer without the AMP check's download (see `OfflineAmpMixin`), whose checkpoints
    survive an interrupted write.

    On the CPU it trains with the threads it was given: `OMP_NUM_THREADS` when set (a Snakemake job's share),
    where the stock trainer always takes all cores but one. Ultralytics writes last.pt and best.pt in place, so a
    kill or a full disk in the middle of a write would leave neither the old checkpoint nor the new one: here the
    previous ones are kept until the new ones are written whole.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        threads = job_threads()
        if self.device.type == "cpu" and threads > 0:
            torch.set_num_threads(threads)

    def setup_model(self) -> Any:
        """Ultralytics' model setup, then the weights in NHWC (channels-last) memory on the CPU.

        Ultralytics turns channels-last on for CUDA only (`args.channels_last`); on the CPU, with the images
        converted too (`preprocess_batch`), oneDNN's NHWC convolutions train faster (docs/calibration.md,
        "Channels-last training on the CPU"). `channels_last=False` in the arguments keeps the stock layout.
        """
        ckpt = super().setup_model()
        if self._channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        return ckpt

    def preprocess_batch(self, batch: dict) -> dict:
        """Ultralytics' batch preprocessing, with the images in the model's memory layout (`setup_model`)."""
        batch = super().preprocess_batch(batch)
        if self._channels_last:
            batch["img"] = batch["img"].contiguous(memory_format=torch.channels_last)
        return batch

    @property
    def _channels_last(self) -> bool:
        """Whether this trainer converts the model and images itself: on the CPU, unless the arguments say False."""
        return self.device.type == "cpu" and self.args.channels_last is not False

    def save_model(self) -> bool:
        """Ultralytics' checkpoint save, with the previous last.pt and best.pt kept (renamed, no copy) until the
        new ones are written; restored when the write fails."""
        with kept_until_written([self.last, self.best], copy=False):
            return super().save_model()

    def final_eval(self) -> None:
        """Ultralytics' final evaluation, whose optimizer strip rewrites last.pt and best.pt in place: copies are
        kept until it succeeds, and put back when it fails, so a full disk at the end loses no training."""
        with kept_until_written([self.last, self.best], copy=True):
            super().final_eval()


@contextmanager
def kept_until_written(paths: list[Path], copy: bool) -> Iterator[None]:
    """Keep each existing file of `paths` as `<name>.prev<suffix>` while the block rewrites it; on an error, put
    the kept files back; when the block ends well, drop them (or put back those the block did not rewrite).

    `copy=False` renames (no space needed; for a block that writes new files), `copy=True` copies (for a block
    that reads the files it rewrites). A failed copy stops with the disk-full message and leaves the files as they
    were.
    """
    kept: dict[Path, Path] = {}
    try:
        for path in (p for p in paths if p.is_file()):
            if copy:
                with atomic_path(previous(path)) as tmp:
                    shutil.copyfile(path, tmp)
            else:
                os.replace(path, previous(path))
            kept[path] = previous(path)
        yield
    except BaseException:
        for path, prev in kept.items():
            os.replace(prev, path)
        raise
    for path, prev in kept.items():
        if path.is_file():
            prev.unlink()
        else:
            os.replace(prev, path)


def previous(checkpoint: Path) -> Path:
    """Where `kept_until_written` keeps the previous version of a checkpoint while it is rewritten."""
    return checkpoint.with_name(f"{checkpoint.stem}.prev{checkpoint.suffix}")


@dataclass
class TrainJob:
    """One training stage: where it goes, how the model starts, and the Ultralytics arguments.

    `build` makes the starting model (not called when resuming). `key` holds every setting that defines the result
    (a study stage's `stage_key`; None: the arguments themselves, `args_key(args)`), `inputs` the files it
    starts from, whose digests complete the key. `extra_metrics(stage)` adds stage-specific entries to
    `metrics.json`. `keep` picks the checkpoint copied to `weights.pt`. `precise_bn` training images recompute
    the BatchNorm statistics at each epoch end (see `yoloslim.train.precise_bn`; 0: off). `logs` names the files
    the callbacks write into Ultralytics' run folder (`files.ultra`); they are copied into the stage folder with
    the weights, and the stage is not done without them.
    """

    stage: Path
    name: str
    trainer: type[DetectionTrainer]
    build: Callable[[], nn.Module]
    args: dict[str, Any]
    key: dict[str, Any] | None = None
    inputs: dict[str, Path] = field(default_factory=dict)
    callbacks: list[tuple[str, Callable]] = field(default_factory=list)
    keep: Literal["best", "last"] = "best"
    precise_bn: int = 0
    extra_metrics: Callable[[Path], dict[str, Any]] | None = None
    logs: tuple[str, ...] = ()  # files the callbacks write in `ultra/`, copied into the stage folder at the end

    @property
    def files(self) -> TrainFiles:
        """The stage folder's named files (`yoloslim.paths.TrainFiles`)."""
        return TrainFiles(self.stage)


def train_args(cfg: Config, imgsz: int | None = None, **changes: Any) -> dict[str, Any]:
    """Ultralytics training arguments from the config's `train` section (plots off: they download a font)."""
    t = cfg.train
    args = dict(
        data=str(StudyPaths.of(cfg).data.yaml),
        model=cfg.model.cfg,
        imgsz=imgsz or t.imgsz,
        epochs=t.epochs,
        batch=t.batch,
        nbs=t.nbs,
        optimizer=t.optimizer,
        lr0=t.lr0,
        warmup_epochs=t.warmup_epochs,
        mosaic=t.mosaic,
        close_mosaic=t.close_mosaic,
        device=t.device,
        workers=t.workers,
        amp=t.amp,
        cache=t.cache,
        seed=t.seed,
        deterministic=True,
        plots=False,
        exist_ok=True,
    )
    args.update(changes)
    return args


def run_training(job: TrainJob) -> Path:
    """Run (or resume, or skip) one training stage; returns its folder. See the module docstring."""
    stage = job.stage
    stage.mkdir(parents=True, exist_ok=True)
    digests = {"data": data_digest(Path(job.args["data"])), **{k: file_digest(v) for k, v in job.inputs.items()}}
    settings = args_key(job.args) if job.key is None else job.key
    key = stage_record(settings, digests)
    record = _read_json(job.files.record)
    same = record.get("key") == key
    if same and record.get("finished") and all(p.is_file() for p in _outputs(job)):
        LOGGER.info(f"{stage}: trained with these parameters already, not run again")
        return stage
    last = job.files.ultra / "weights" / "last.pt"
    state = _checkpoint_state(last, job.args["epochs"]) if same else "none"
    if state == "done" and not all((job.files.ultra / name).is_file() for name in job.logs):
        LOGGER.warning(f"{stage}: training finished but its logs are gone from {job.files.ultra}; training again")
        state = "none"
    if state == "none":
        _clear(job)
        record = {"key": key, "finished": False, "seconds": 0.0}
        _write_json(job.files.record, record)
    if state != "done":
        _train(job, resume=last if state == "resume" else None, record=record)
    _finish(job)
    record["finished"] = True
    _write_json(job.files.record, record)
    return stage


def args_key(args: dict[str, Any]) -> dict[str, Any]:
    """The key of a job defined by its Ultralytics arguments alone (no study config): all but UNKEYED_ARGS."""
    return {k: v for k, v in args.items() if k not in UNKEYED_ARGS}


def read_metrics(stage: Path) -> dict[str, Any]:
    """A training stage's `metrics.json` (`stage`: its folder)."""
    return json.loads(TrainFiles(stage).metrics.read_text())


def make_trainer(job: TrainJob, resume: Path | None = None) -> DetectionTrainer:
    """The job's Ultralytics trainer, ready to `train()`: its arguments, precise BN and the job's callbacks
    registered, and the built model handed in (unless resuming from `resume`, a last.pt).

    Everything a DDP worker needs travels in the trainer's class, arguments, model and callbacks, which
    Ultralytics pickles for its workers (`ultralytics.utils.dist.generate_ddp_file`).
    """
    args = {**job.args, "save_dir": str(job.files.ultra)}
    if resume:
        args["resume"] = str(resume)
    trainer = job.trainer(overrides=args)
    callbacks = [("on_train_epoch_end", PreciseBN(job.precise_bn, job.args.get("seed", 0))), *job.callbacks]
    for event, callback in callbacks:
        trainer.add_callback(event, callback)
    if not resume:
        trainer.model = job.build()
    return trainer


def _train(job: TrainJob, resume: Path | None, record: dict[str, Any]) -> None:
    """Run Ultralytics training for the job (resuming from `resume` when given), output teed to train.log."""
    start = time.time()
    with tee_output(job.files.log):
        try:
            make_trainer(job, resume).train()
        except Exception as err:
            if is_disk_full(err):  # Ultralytics' own checkpoint writes: name the stage, say what to do
                raise disk_full(job.files.ultra / "weights") from err
            raise
        finally:
            record["seconds"] = record.get("seconds", 0.0) + time.time() - start
            _write_json(job.files.record, record)


def _finish(job: TrainJob) -> None:
    """Copy the kept checkpoint to weights.pt and results.csv up; write metrics.json."""
    wdir = job.files.ultra / "weights"
    src = wdir / "best.pt" if job.keep == "best" and (wdir / "best.pt").is_file() else wdir / "last.pt"
    with tee_output(job.files.log), atomic_path(job.files.weights) as tmp:
        ckpt = strip_optimizer(src, s=str(tmp))  # {} when src cannot be read
        if not ckpt and src.name == "best.pt":  # cut off mid-write by a kill: the finished run's last epoch
            LOGGER.warning(f"{src} cannot be read (cut off by an interruption?); keeping last.pt instead")
            src = wdir / "last.pt"
            ckpt = strip_optimizer(src, s=str(tmp))
        if not ckpt:
            raise RuntimeError(f"{src}: not a readable checkpoint; remove {job.stage} to train this stage again")
    if (job.files.ultra / RESULTS).is_file():
        with atomic_path(job.files.results) as tmp:
            tmp.write_text(_last_row_per_epoch(job.files.ultra / RESULTS))
    for name in job.logs:
        with atomic_path(job.files.dir / name) as tmp:
            shutil.copyfile(job.files.ultra / name, tmp)
    train_metrics = ckpt.get("train_metrics") or {}
    metrics = {
        "model": job.name,
        "imgsz": job.args["imgsz"],
        "epochs": job.args["epochs"],
        "params": sum(p.numel() for p in ckpt["model"].parameters()),
        "train_seconds": round(_read_json(job.files.record).get("seconds", 0.0), 1),
        "val": {k: float(train_metrics.get(f"metrics/{k}(B)", float("nan"))) for k in ("mAP50", "mAP50-95")},
    }
    if job.extra_metrics:
        metrics.update(job.extra_metrics(job.stage))
    _write_json(job.files.metrics, metrics)


def _last_row_per_epoch(results: Path) -> str:
    """Ultralytics' results.csv with one row per epoch: the last one. Ultralytics appends an epoch's row before it
    saves the epoch's checkpoint, so a run stopped in between (a kill, a full disk) logs that epoch again when it
    resumes."""
    header, *rows = results.read_text().splitlines(keepends=True)
    last = {row.split(",", 1)[0].strip(): row for row in rows if row.strip()}
    return header + "".join(last.values())


def _outputs(job: TrainJob) -> list[Path]:
    """The files a finished stage has: weights.pt, metrics.json and its logs (results.csv when Ultralytics wrote
    one)."""
    logs = [job.files.dir / name for name in job.logs]
    results = [job.files.results] if (job.files.ultra / RESULTS).is_file() else []
    return [job.files.weights, job.files.metrics, *results, *logs]


def _checkpoint_state(last: Path, epochs: int) -> Literal["none", "resume", "done"]:
    """What an existing last.pt allows: resume it, finish from it (training ended), or nothing. A last.pt cut off
    mid-write is replaced by the previous epoch's, kept by `YoloTrainer.save_model` (see `kept_until_written`)."""
    ckpt = _load_checkpoint(last)
    if ckpt is None and _load_checkpoint(previous(last)) is not None:
        LOGGER.warning(f"{last} cannot be read (cut off mid-write?); resuming from the checkpoint before it")
        os.replace(previous(last), last)
        ckpt = _load_checkpoint(last)
    if ckpt is None:
        return "none"
    epoch = ckpt.get("epoch", -1)
    if epoch == -1 or epoch + 1 >= epochs:
        return "done"
    return "resume" if ckpt.get("optimizer") is not None else "none"


def _load_checkpoint(path: Path) -> dict[str, Any] | None:
    """A checkpoint's contents, or None when it is missing or cannot be read."""
    if not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # cut off mid-write
        return None


def _clear(job: TrainJob) -> None:
    """Remove a stage's previous outputs before it starts over."""
    files = job.files
    shutil.rmtree(files.ultra, ignore_errors=True)
    for path in (files.weights, files.results, files.metrics, files.log, files.record):
        path.unlink(missing_ok=True)
    for name in job.logs:
        (files.dir / name).unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_json(path, data, default=str)
