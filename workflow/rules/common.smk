# Loads the study's configuration once, writes each stage's params file (the cache keys) and names
# every path and fan-out the rules use. Notebooks run from the venv's papermill, so nothing needs
# a registered kernel.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from yoloslim.config import ROOT, ConfigError, load_config, output_root, package_file
from yoloslim.paths import StudyPaths
from yoloslim.stages import write_stage_params
from yoloslim.study import finetune_jobs, job_priorities, prune_jobs, seed_runs, study_models, teacher_weights

try:
    CFG = load_config(Path(config.get("params", ROOT / "params" / "demo.yaml")).resolve())
except ConfigError as err:
    raise WorkflowError(str(err)) from None

P = StudyPaths.of(CFG)  # every output path the rules name
T = P.eval_tables
PRUNED = P.prune("{target}")  # a prune job's files, its target as the wildcard
STAGE = {stage: str(path) for stage, path in write_stage_params(CFG).items()}
CONFIG_FILE = str(P.config)
NOTEBOOKS = ROOT / "notebooks"
BIN = Path(sys.executable).parent

VARIANTS = [v.name for v in CFG.trained_variants]  # an eval-only variant (same_as) has no training job
TARGETS = list(prune_jobs(CFG))  # pruned-structure ids: each target, and its `-random` control
LATENCY = [i for i, (target, _) in prune_jobs(CFG).items() if target in CFG.latency_targets()]  # searched, timed
FINETUNED = finetune_jobs(CFG, replicas=True)  # model id (or its run of another seed) -> (pruned-structure id, init)
PRUNE_PRIORITY, FINETUNE_PRIORITY = job_priorities(CFG)  # the longest fine-tune first, and its prune job
MODELS = {m.id: m for m in study_models(CFG)}
REPORT_HTML = str(P.report_html)

# GPUs a training job holds: `--resources gpu=N` then runs up to N single-GPU fine-tunes side by side.
_DEVICES = [d for d in CFG.train.device.split(",") if d.strip()]
TRAIN_GPUS = 0 if CFG.train.device.lower() in ("cpu", "mps", "") else len(_DEVICES)

workdir: str(output_root())  # .snakemake/ (metadata, locks) goes next to runs/


def notebook(stem, gpus=0, **parameters):
    """Shell command: run notebooks/<stem>.ipynb for this study into the rule's log (the executed copy).

    `parameters` (a fan-out stage's `model`, `target` or `finetuned`) are passed as raw strings. Cell outputs
    stream to the terminal (--log-output), so training bars and a failing cell's traceback show.
    A job that needs `gpus` GPUs claims free ones first (yoloslim.jobs.gpu_slots), so jobs run side by side.
    """
    command = (
        f"{BIN}/papermill --log-output --no-progress-bar -k python3 "
        f"--cwd {NOTEBOOKS} {NOTEBOOKS}/{stem}.ipynb {{log}} -r config {CONFIG_FILE}"
    )
    for name, value in parameters.items():
        command += f" -r {name} '{value}'"
    if gpus:
        command = f"{BIN}/python -m yoloslim.jobs.gpu_slots {gpus} -- {command}"
    return f"OMP_NUM_THREADS={{threads}} {command}"


# CPU threads of a training job (its OMP_NUM_THREADS, which yoloslim's trainers honour): half the cores, up to
# 8 (Ultralytics' own cap), so two independent trainings (the baselines beside sparse training, the fine-tunes)
# overlap: each is slower, but two together do more work (measured: docs/calibration.md, "Jobs side by side").
TRAIN_THREADS = min(max(1, workflow.cores // 2), 8)
# The base model heads the long chain (base -> sparse -> prune -> fine-tune -> eval), and nothing else can run
# before it but the baselines: it takes twice a training's share and goes first, and the baselines train beside
# sparse training (measured: docs/calibration.md, "The demo").
BASE_THREADS = min(workflow.cores, 2 * TRAIN_THREADS)
# CPU threads of a job that times models (the study's tables, a latency search): eval.latency.threads when set,
# else every core, so latency is measured with nothing else running. A model's evaluation times nothing and takes
# a training's share (TRAIN_THREADS): it runs beside the fine-tunes still training.
TIMING_THREADS = CFG.eval.latency.threads or workflow.cores
