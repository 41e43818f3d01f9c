"""Every output file of a study, named in one place: the lib's writers, the Snakemake rules, the notebooks and the
report reader all take their paths from here, and `docs/outputs.md` is checked against it (tests/test_paths.py).

    runs/<config>/
        config.yaml                   the resolved configuration
        params/<job>.yaml             each job's stage key (yoloslim.stages)
        synth/, synth_test/           the synthetic data set, when data.root is not set
        data/                         split lists, data.yaml, counts.csv, problems.csv, summary.json
        train/<model>/                base model and uniform-width variants
        sparse/                       the sparse-trained model and its gamma logs
        prune/<target>/               one pruned model per threshold, fraction or latency target
        finetune/<model>/             the pruned models retrained
        eval/<model>/                 one model's measurements; eval/*.csv the study's tables
        notebooks/                    executed stage notebooks
    runs/finetune/<folder>_<stem>/    `yoloslim finetune` of a checkpoint (default folder), its data mirror in data/
    runs/eval/<folder>_<stem>/data/   the data mirror `yoloslim eval` of a checkpoint reads
    reports/<config>/report.html, report.pdf

    paths = StudyPaths.of(cfg)
    paths.sparse.weights              runs/<config>/sparse/weights.pt
    paths.prune("small").layers       runs/<config>/prune/small/layers.csv
    paths.eval_tables.accuracy        runs/<config>/eval/accuracy.csv
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yoloslim.config import COMMAND_FOLDERS, Config, output_root

WEIGHTS = "weights.pt"  # a stage's model, loadable with plain ultralytics.YOLO(path)
METRICS = "metrics.json"  # a stage's numbers
RESULTS = "results.csv"  # per-epoch training log (Ultralytics' columns, plus ours)
IMAGES, LABELS = "images", "labels"  # a data mirror's image symlinks and label copies (Ultralytics' folder names)


@dataclass(frozen=True)
class Folder:
    """A stage folder: `dir`, and `figure(name)` for its `figures/<name>.png`."""

    dir: Path

    def figure(self, name: str) -> Path:
        """`figures/<name>.png` of this folder."""
        return self.dir / "figures" / f"{name}.png"


@dataclass(frozen=True)
class Recorded(Folder):
    """A stage folder that records what its outputs were made from (`yoloslim.uptodate`)."""

    @property
    def record(self) -> Path:
        """params.json: the key (stage key and input digests) the outputs were made from; a stage run again with the
        same key writes nothing."""
        return self.dir / "params.json"


@dataclass(frozen=True)
class DataFiles(Recorded):
    """`data/`: what the data stage writes (the split lists, Ultralytics' data.yaml, the tables)."""

    @property
    def yaml(self) -> Path:
        """The Ultralytics data.yaml every training and validation uses."""
        return self.dir / "data.yaml"

    def split_list(self, split: str) -> Path:
        """`train.txt`, `val.txt` or `test.txt`: one image path per line."""
        return self.dir / f"{split}.txt"

    def images(self, split: str) -> Path:
        """`images/<split>/`: a symlink to each image of the split; their label files are copied under `labels/`,
        where Ultralytics looks for them (`yoloslim.data.mirror.label_path`), and its caches land beside them."""
        return self.dir / IMAGES / split

    def converted(self) -> Path:
        """`converted/<split>/`: the YOLO label files read from a COCO or VOC data set's annotations
        (`yoloslim.data.convert`), copied into the mirror with the rest."""
        return self.dir / "converted"

    @property
    def counts(self) -> Path:
        """counts.csv: images per category/source and split."""
        return self.dir / "counts.csv"

    @property
    def problems(self) -> Path:
        """problems.csv: `file, line, problem` of the checked data set."""
        return self.dir / "problems.csv"

    @property
    def summary(self) -> Path:
        """summary.json: images, background, instances and split counts."""
        return self.dir / "summary.json"


@dataclass(frozen=True)
class ModelFiles(Folder):
    """A folder holding one model: its checkpoint and its numbers."""

    @property
    def weights(self) -> Path:
        """weights.pt: the model, loadable with plain ultralytics.YOLO(path)."""
        return self.dir / WEIGHTS

    @property
    def metrics(self) -> Path:
        """metrics.json: the stage's numbers."""
        return self.dir / METRICS


@dataclass(frozen=True)
class TrainFiles(ModelFiles, Recorded):
    """A training stage's folder (`train/<model>/`, `sparse/`, `finetune/<model>/`), written by the runner."""

    @property
    def results(self) -> Path:
        """results.csv: Ultralytics' per-epoch log."""
        return self.dir / RESULTS

    @property
    def log(self) -> Path:
        """train.log: the full training output."""
        return self.dir / "train.log"

    @property
    def ultra(self) -> Path:
        """Ultralytics' own run folder inside the stage folder."""
        return self.dir / "ultra"

    @property
    def cost(self) -> Path:
        """cost.json (a `-longer` fine-tune): seconds of a training step with and without the teacher, measured alone,
        and the epochs they give it (`yoloslim.train.recipes`)."""
        return self.dir / "cost.json"


@dataclass(frozen=True)
class SparseFiles(TrainFiles):
    """`sparse/`: a training stage's files and the gamma logs."""

    @property
    def gamma_log(self) -> Path:
        """gamma_log.csv: steps, sl and the L1 budget per epoch."""
        return self.dir / "gamma_log.csv"

    @property
    def gamma_hist(self) -> Path:
        """gamma_hist.csv: the |gamma| histogram per epoch."""
        return self.dir / "gamma_hist.csv"

    @property
    def gammas(self) -> Path:
        """gammas.npz: every penalized |gamma| after each epoch."""
        return self.dir / "gammas.npz"


@dataclass(frozen=True)
class PruneFiles(ModelFiles, Recorded):
    """`prune/<target>/`: one pruned model; its metrics.json says what pruning did, its checks and validation."""

    @property
    def onnx(self) -> Path:
        """weights.onnx: its ONNX export, the file the ONNX check read."""
        return self.dir / "weights.onnx"

    @property
    def layers(self) -> Path:
        """layers.csv: one row per layer."""
        return self.dir / "layers.csv"

    @property
    def ratios(self) -> Path:
        """ratios.csv: the pruned fraction per part."""
        return self.dir / "ratios.csv"

    @property
    def search(self) -> Path:
        """search.csv: the structures a latency search timed."""
        return self.dir / "search.csv"


@dataclass(frozen=True)
class EvalModelFiles(Folder):
    """`eval/<model>/`: one model's measurements."""

    @property
    def metrics(self) -> Path:
        """metrics.json: accuracy, size, cost, latency and decode rate of the model."""
        return self.dir / METRICS

    def detections(self, split: str, run: str = "") -> Path:
        """detections_<split>.npz: every detection matched to the ground truth; with `run` (`small-seed1`, another
        fine-tune of the model: finetune.seeds), detections_<split>_<run>.npz."""
        return self.dir / (f"detections_{split}_{run}.npz" if run else f"detections_{split}.npz")

    def detections_int8(self, split: str, engine: str) -> Path:
        """detections_<split>_<engine>.npz: the same, of the model's INT8 export on an INT8 engine."""
        return self.dir / f"detections_{split}_{engine}.npz"

    @property
    def onnx(self) -> Path:
        """model.onnx: the export every ONNX latency of the model is timed on."""
        return self.dir / "model.onnx"

    def artifact(self, engine: str) -> Path:
        """The export a deployment engine runs, kept for the interleaved timing of every model: model.onnx (onnx_cpu,
        openvino_cpu), model_int8.onnx (onnx_cpu_int8), model_int8_openvino_model/ (openvino_cpu_int8)."""
        kept = {"onnx_cpu_int8": "model_int8.onnx", "openvino_cpu_int8": "model_int8_openvino_model"}
        return self.dir / kept[engine] if engine in kept else self.onnx

    @property
    def log(self) -> Path:
        """eval.log: the full Ultralytics output."""
        return self.dir / "eval.log"


@dataclass(frozen=True)
class EvalTables(Recorded):
    """`eval/`: the study's tables, built from every model's measurements."""

    @property
    def accuracy(self) -> Path:
        """accuracy.csv: one row per model, split and class."""
        return self.dir / "accuracy.csv"

    @property
    def accuracy_json(self) -> Path:
        """accuracy.json: the same rows as JSON."""
        return self.dir / "accuracy.json"

    @property
    def accuracy_int8(self) -> Path:
        """accuracy_int8.csv: each model's INT8 export, per engine, split and class, against its FP32 accuracy."""
        return self.dir / "accuracy_int8.csv"

    @property
    def models(self) -> Path:
        """models.csv: one row per model: size, cost, latency and precision per engine, budget."""
        return self.dir / "models.csv"

    @property
    def decode(self) -> Path:
        """decode.csv: decode rate per model and class."""
        return self.dir / "decode.csv"

    @property
    def operators(self) -> Path:
        """onnx_operators.csv: ONNX Runtime time per operator type."""
        return self.dir / "onnx_operators.csv"

    @property
    def interleaved(self) -> Path:
        """latency_interleaved.csv: every model timed in one process."""
        return self.dir / "latency_interleaved.csv"

    @property
    def environment(self) -> Path:
        """environment.json: CPU, threads, CUDA device, package versions."""
        return self.dir / "environment.json"

    @property
    def gt_decodable(self) -> Path:
        """gt_decodable.json: the decode-rate ceiling, shared by every model."""
        return self.dir / "gt_decodable.json"

    def bootstrap(self, split: str) -> Path:
        """bootstrap_<split>.npz: the resampled accuracy of every model (its runs chosen at random when it was
        fine-tuned more than once, finetune.seeds)."""
        return self.dir / f"bootstrap_{split}.npz"

    @property
    def seeds(self) -> Path:
        """seeds.json: the runs of each seeded model, their accuracy, and the spread between them that the intervals
        include (yoloslim.measure.seeds)."""
        return self.dir / "seeds.json"


@dataclass(frozen=True)
class StudyPaths:
    """Paths of one study's outputs; `StudyPaths.of(cfg)` is the only way stages find files."""

    run: Path
    report_dir: Path

    @classmethod
    def of(cls, cfg: Config) -> StudyPaths:
        """The paths of a study: `runs/<name>/` and `reports/<name>/` under the output root."""
        return cls(run=runs_root() / cfg.name, report_dir=output_root() / "reports" / cfg.name)

    @property
    def config(self) -> Path:
        """config.yaml: the resolved configuration every stage notebook loads."""
        return self.run / "config.yaml"

    def stage_params(self, job: str) -> Path:
        """A job's stage key (`yoloslim.stages`), rewritten only when it changes."""
        return self.run / "params" / f"{job}.yaml"

    @property
    def notebooks(self) -> Path:
        """notebooks/: the executed stage notebooks."""
        return self.run / "notebooks"

    def notebook(self, stem: str) -> Path:
        """Where an executed stage notebook is kept."""
        return self.notebooks / f"{stem}.ipynb"

    @property
    def synth(self) -> Path:
        """Root of the synthetic data set (category/source tree)."""
        return self.run / "synth"

    @property
    def synth_test(self) -> Path:
        """Root of the synthetic test-only images (data.synth.test_images), the same tree as `synth`."""
        return self.run / "synth_test"

    @property
    def data(self) -> DataFiles:
        """The data stage's outputs."""
        return DataFiles(self.run / "data")

    def train(self, model: str = "base") -> TrainFiles:
        """The base model (`base`) or a uniform-width variant (its name)."""
        return TrainFiles(self.run / "train" / model)

    @property
    def sparse(self) -> SparseFiles:
        """The sparse-trained model."""
        return SparseFiles(self.run / "sparse")

    def prune(self, target: str) -> PruneFiles:
        """One pruned model (`large`, `middle`, `small`, `small-random`, ...)."""
        return PruneFiles(self.run / "prune" / target)

    def finetune(self, target: str, init: str = "inherit") -> TrainFiles:
        """A fine-tuned pruned model; `-<init>` is appended to the target but for `inherit` (`small-scratch`,
        `small-distill`, `small-longer`)."""
        return TrainFiles(self.run / "finetune" / (target if init == "inherit" else f"{target}-{init}"))

    def eval(self, model: str) -> EvalModelFiles:
        """One model's measurements."""
        return EvalModelFiles(self.run / "eval" / model)

    @property
    def eval_tables(self) -> EvalTables:
        """The study's evaluation tables."""
        return EvalTables(self.run / "eval")

    @property
    def bench_table(self) -> Path:
        """`make bench`'s table: runs/bench/<config>.csv."""
        return self.run.parent / "bench" / f"{self.run.name}.csv"

    @property
    def bench_summary(self) -> Path:
        """`make bench`'s settings and timings: runs/bench/<config>.json."""
        return self.run.parent / "bench" / f"{self.run.name}.json"

    @property
    def report_html(self) -> Path:
        """The report: one self-contained offline HTML file."""
        return self.report_dir / "report.html"

    @property
    def report_pdf(self) -> Path:
        """The report printed to PDF by headless Chromium."""
        return self.report_dir / "report.pdf"


def runs_root() -> Path:
    """`runs/` under the output root: every study's folder, and the single-model commands' folders."""
    return output_root() / "runs"


def command_folder(command: str, weights: Path) -> Path:
    """`runs/<command>/<folder>_<stem>/`: where a single-model command (`finetune`, `eval`) writes for a checkpoint
    by default (`runs/finetune/small_weights/` for `prune/small/weights.pt`)."""
    if command not in COMMAND_FOLDERS:
        raise ValueError(f"no command folder '{command}': {', '.join(COMMAND_FOLDERS)}")
    weights = Path(weights)
    return runs_root() / command / f"{weights.resolve().parent.name}_{weights.stem}"


def data_mirror(folder: Path) -> DataFiles:
    """`<folder>/data/`: the mirror of a user's data YAML that `yoloslim finetune` and `yoloslim eval` read
    (`yoloslim.data.mirror`), the same files as a study's `data/`."""
    return DataFiles(Path(folder).absolute() / "data")
