"""The study's configuration: every default in one place, one loader, one validator.

A params YAML overrides only what differs from the defaults below. `load_config` validates it once
(unknown keys, wrong types and bad values are errors naming the file and the key) and returns a
`Config` that every stage receives unchanged. Each dataclass field is written as
`name: type = default  # meaning`, grouped by stage, like Ultralytics' `cfg/default.yaml`.

    from yoloslim.config import load_config
    cfg = load_config("params/demo.yaml")
    cfg.prune.thresholds  # {'large': 0.01, 'middle': 0.1, 'small': 0.15}
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

PACKAGE = Path(__file__).resolve().parent  # lib/yoloslim in a checkout; site-packages/yoloslim when installed
ROOT = PACKAGE.parents[1]  # the repository when running from a checkout (lib/yoloslim -> repo)
ULTRALYTICS_IMGSZ = 640  # Ultralytics' default image size: a checkpoint's when it does not say, the FLOPs count's
COMMAND_FOLDERS = ("finetune", "eval")  # runs/<command>/: the single-model commands' folders, not study names

# The values of the options that code elsewhere offers or checks too (the command line's choices, prune_model):
# spelled once, here; `typing.get_args(RoundDir)` is ("up", "nearest", "down").
RoundDir = Literal["up", "nearest", "down"]
Importance = Literal["max", "mean", "sum"]
C2fHalves = Literal["equal", "free"]
AttentionMode = Literal["intact", "heads"]
Split = Literal["val", "test"]
# the engines a model can be timed on (yoloslim.measure.latency; the deployment engines: yoloslim.measure.engines)
Engine = Literal[
    "torch_cpu", "onnx_cpu", "onnx_cpu_int8", "openvino_cpu", "openvino_cpu_bf16", "openvino_cpu_int8", "torch_cuda"
]
Lang = Literal["en", "zh"]
ENGINES: tuple[str, ...] = typing.get_args(Engine)


def output_root() -> Path:
    """Where `runs/` and `reports/` go: $YOLOSLIM_OUT when set (tests point it at a temp dir), else the repository
    when running from a checkout, else (an installed package) the current directory."""
    if "YOLOSLIM_OUT" in os.environ:
        return Path(os.environ["YOLOSLIM_OUT"])
    return ROOT if in_checkout() else Path.cwd()


def in_checkout() -> bool:
    """Whether the package runs from a checkout of the repository (lib/yoloslim beside the Snakefile), not from an
    installed copy."""
    return PACKAGE == ROOT / "lib" / "yoloslim" and (ROOT / "Snakefile").is_file()


def package_file(name: str) -> Path:
    """A file shipped inside the package (`[tool.setuptools.package-data]` in pyproject.toml), e.g. "seed.yaml"."""
    return PACKAGE / name


def job_threads() -> int:
    """The CPU threads this process was given (`OMP_NUM_THREADS`: a Snakemake job's share), or 0 when unset."""
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() else 0


class ConfigError(ValueError):
    """A params file that cannot be used: the message names the file, the key and what was expected."""


@dataclass
class SynthConfig:
    images: int = 1000  # total images rendered, split over categories in the original study's proportions
    imgsz: int = 256  # side of each square synthetic image, in pixels (codes are decoded at this resolution)
    detect_imgsz: int | None = None  # the side the detector sees the images at (train.imgsz); no code is drawn
    # smaller than readable there. Rendering larger (imgsz 640, detect_imgsz 160) keeps the scenes and gives the
    # decoder full-resolution crops, as a scanner detects on a downscaled frame. None: imgsz
    seed: int = 0  # rendering seed; the same seed gives byte-identical labels
    test_images: int = 0  # extra test-only images (same sources and proportions, seed test_seed), added to the test
    # split so every class has enough test instances; the train:val:test split of the `images` is unchanged
    test_seed: int = 1  # rendering seed of the test-only images


SYNTH_NAMES = ["dm", "qr", "bar"]  # the embedded synthetic set's classes: DataMatrix, QR code, 1-D barcode
DataFormat = Literal["tree", "coco", "voc"]


@dataclass
class DataConfig:
    yaml: str | None = None  # an Ultralytics data YAML: its train/val/test splits are used as they are (no
    # re-split) and its class names are the study's; set this or root, not both
    root: str | None = None  # data set root, read as `format`; None (and no yaml): synthesize the embedded set.
    # Relative paths (here and in yaml) are relative to the params file; $VARIABLES and ~ are expanded.
    format: DataFormat = "tree"  # how root is laid out: tree (a category/source tree or images/ + labels/ with YOLO
    # labels, split train:val:test by `split`), coco (annotations/instances_<split>.json) or voc
    # (Annotations/, JPEGImages/, ImageSets/Main/<split>.txt); coco and voc keep their own splits
    names: list[str] = field(default_factory=lambda: list(SYNTH_NAMES))  # class names, by class id; with `yaml`,
    # unset means the YAML's names (set, they must agree); coco and voc need them (`yoloslim init` writes them)
    split: list[float] = field(default_factory=lambda: [20, 4, 1])  # train:val:test ratio per source
    split_seed: int = 0  # seed of the per-source shuffle before splitting
    lenient: bool = False  # True: skip bad files (listed in the split output); False: stop on any
    synth: SynthConfig = field(default_factory=SynthConfig)  # the embedded synthetic set (root: None)


@dataclass
class ModelConfig:
    cfg: str = "yolov5n.yaml"  # Ultralytics model YAML (yolov5n/s, yolov8n/s, ...) or a path to one
    width: float | None = None  # width_multiple override; None keeps the YAML's scale
    depth: float | None = None  # depth_multiple override; None keeps the YAML's scale
    weights: str | None = None  # local weights to start from; None trains from scratch (nothing downloaded)
    base: Literal["train", "weights"] = "train"  # train: the base model is trained here (from `weights` when set);
    # weights: `weights` is the trained base model (a checkpoint such as best.pt): evaluated, not retrained, its
    # architecture taken from it (not from `cfg`), its image size and classes checked against train.imgsz and the data


@dataclass
class VariantConfig:
    name: str = "half"  # folder name under runs/<config>/train/ (no slashes)
    label: str = "1/2"  # name shown in the report, as in the original study; "{imgsz}" in it is replaced by the
    # image size the variant is evaluated at ("1/2_{imgsz}": 1/2_320 at 320 px), and a label ending in "_<number>"
    # must name that size
    width_scale: float = 0.5  # width relative to the base model, channels aligned to prune.round_to
    imgsz: int | None = None  # None: the base model's train.imgsz
    same_as: str | None = None  # another variant's name (or `base`, with width_scale 1.0): not trained, its weights
    # evaluated at this imgsz (the original study's `1/2_320`: "the same at 320 px"); None: trained at imgsz

    @property
    def weights_of(self) -> str:
        """The variant whose trained weights this one evaluates: `same_as`, or itself."""
        return self.same_as or self.name


@dataclass
class TrainConfig:
    imgsz: int = 256  # training and evaluation image size of the base model
    epochs: int = 30  # base-model epochs (the original: 1,050)
    batch: int = 16  # images per batch, over all devices
    nbs: int = 64  # nominal batch size: Ultralytics steps the optimizer once per max(batch, nbs) images
    optimizer: str = "SGD"  # Ultralytics optimizer name; SGD keeps network slimming's meaning of sl
    lr0: float = 0.01  # initial learning rate
    warmup_epochs: float = 1.0  # Ultralytics' warm-up, in epochs
    mosaic: float = 1.0  # mosaic augmentation probability
    close_mosaic: int = 0  # epochs at the end without mosaic
    device: str = "cpu"  # "cpu", "0", or "0,1,2,3" for Ultralytics' DDP over several GPUs
    workers: int = 2  # data-loader workers per device
    amp: bool = True  # mixed precision on CUDA (ignored on the CPU)
    cache: Literal[False, "ram", "disk"] = False  # Ultralytics' image cache: "ram" keeps the images resized to imgsz,
    # so large originals (data.synth.imgsz 640) are decoded once per training, not every epoch
    seed: int = 0  # training seed (deterministic)
    precise_bn: int = 0  # training images over which BatchNorm statistics are recomputed at each epoch end, before
    # validation, in every training stage (0: Ultralytics' running statistics); see yoloslim.train.precise_bn
    variants: list[VariantConfig] = field(  # the uniform-width baselines, trained with this recipe
        default_factory=lambda: [
            VariantConfig(),
            VariantConfig(name="half_lowres", label="1/2_{imgsz}", imgsz=160, same_as="half"),
        ]
    )


@dataclass
class SparseConfig:
    sl: float = 6e-4  # L1 factor on BatchNorm gammas (the original study: 6e-4)
    l1: Literal["after_clip", "before_clip", "proximal"] = "after_clip"  # where the L1 term acts: added to the
    # gradient after unscale and clipping, before clipping (diluted by it), or a soft-threshold after each
    # optimizer step (exact zeros); see yoloslim.train.sparse
    schedule: Literal["constant", "linear", "cosine"] = "constant"  # sl over the penalized epochs: fixed or decaying
    epochs: int = 30  # sparse-training epochs (the original: 800)
    recover_epochs: int = 0  # last epochs of `epochs` with sl = 0: the detector recovers, collapsed gammas stay small
    stop_fraction: float | None = None  # turn the L1 term off for the rest of the run once this fraction of the
    # penalized gammas is under `stop_under` (a sparsity target; the remaining epochs recover); None: never
    stop_under: float = 0.01  # |gamma| threshold of the sparsity target
    lr0: float = 0.01  # initial learning rate
    nbs: int | None = None  # nominal batch size of sparse training (None: train.nbs); one optimizer step, and one
    # L1 step, per max(batch, nbs) images
    start: Literal["base", "scratch"] = "base"  # start from the trained base model or from scratch
    exclude_head: bool = False  # True: leave the Detect head's inner branch BatchNorms unpenalized (so kept);
    # its output convolutions and DFL have no BatchNorm and are never penalized nor pruned


@dataclass
class PruneConfig:
    policy: Literal["threshold", "fraction"] = "threshold"  # absolute |gamma| thresholds or global fractions
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"large": 0.01, "middle": 0.10, "small": 0.15}
    )  # model name -> |gamma| threshold (policy: threshold)
    fractions: dict[str, float] = field(
        default_factory=lambda: {"large": 0.3, "middle": 0.5, "small": 0.7}
    )  # model name -> global fraction of channels pruned (policy: fraction)
    targets: dict[str, dict[str, str | float]] = field(default_factory=dict)  # model name -> {latency: budget}:
    # "20ms" (or 20) or "0.5x" of the base model's latency on `engine`; the prune stage searches the sparse model's
    # |gamma| thresholds for the largest structure that meets it (yoloslim.prune.search), beside the thresholds.
    # Or {flops: budget}: "0.1x" of the base model's GFLOPs, or GFLOPs ("0.5G" or 0.5): the lowest |gamma| threshold
    # whose aligned structure is within it (yoloslim.prune.flops); nothing is timed
    margin: float = 0.05  # the search aims this fraction under a latency budget: ONNX Runtime timings of the same
    # model in separate processes differ (docs/results.md, "Pruning to a latency budget")
    engine: str = "onnx_cpu"  # latency engine of the search (also onnx_cpu_int8, openvino_cpu, openvino_cpu_bf16,
    # openvino_cpu_int8, each timed on its own export: yoloslim.measure.engines): onnx_cpu (ONNX Runtime, CPU,
    # interleaved with the base model), onnx_cuda / onnx_tensorrt (the same on a GPU, with onnxruntime-gpu; not
    # measured on our CPU machines), or "package.module:function", a function (onnx_path, imgsz) -> milliseconds,
    # e.g. a timing on an NPU
    round_to: int = 8  # kept channels of every pruned group are a multiple of this (the NPU rule)
    round_dir: RoundDir = "up"  # alignment direction; up keeps more channels
    importance: Importance = "max"  # how a tied group combines its members' |gamma|
    fold_beta: bool = True  # fold pruned channels' BN bias into the next layer's bias
    c2f_halves: C2fHalves = "equal"  # C2f/C3k2 (v8, YOLO11, YOLO26): equal keeps both halves of the
    # first convolution equally wide, so checkpoints hold stock blocks and load with plain Ultralytics; free prunes
    # them apart (the checkpoint then holds yoloslim.models.c2f.C2fSplit and needs yoloslim to load); docs/method.md,
    # "C2f and C3k2 halves"
    attention: AttentionMode = "intact"  # attention blocks (YOLO11, YOLO26): intact keeps them whole;
    # heads prunes whole heads by their value channels' |gamma| and narrows the block to them (stock modules, head_dim
    # unchanged; sparse training then penalizes the blocks too, so changing it re-runs the sparse stage);
    # docs/method.md, "Attention"
    random: list[str] = field(default_factory=list)  # targets that also get a random-selection control: the same
    # kept count per layer, channels chosen at random (seeded by train.seed), fine-tuned the same way (Liu et al.,
    # ICLR 2019, "Rethinking the Value of Network Pruning"); its model id is `<target>-random`
    compare: list[str] = field(default_factory=list)  # targets that also get Torch-Pruning's own pruners at the same
    # cost, fine-tuned the same way: at the same GFLOPs (within 5 %) for a threshold or fraction target, within the
    # same measured latency budget (searched alike) for a latency target: `<target>-tp_magnitude` (L1 filter norm,
    # Li et al. 2017) and `<target>-tp_bnscale` (its BN-scale importance on the same sparse model); yoloslim.prune.tp


@dataclass
class FinetuneConfig:
    init: list[Literal["inherit", "scratch"]] = field(default_factory=lambda: ["inherit"])
    # inherit: fine-tune the pruned weights; scratch: re-initialize the pruned architecture (Liu et al.)
    epochs: int = 30  # fine-tuning epochs per pruned model
    target_epochs: dict[str, int] = field(default_factory=dict)  # prune target -> its fine-tune's epochs instead of
    # `epochs` (its random control, seeds and compared recipes too): the smallest models' epochs cost the least and
    # they have the most to win back (docs/results.md, "The smallest model fine-tuned longer")
    scratch_epochs: int | None = None  # epochs of a re-initialized (scratch) model; None: train.epochs, the base
    # model's budget (Liu et al. train a scratch model as long as the original)
    lr0: float = 0.01  # initial learning rate
    nbs: int | None = None  # nominal batch size of fine-tuning (None: train.nbs): one optimizer step per
    # max(batch, nbs) images; a smaller nbs gives a short fine-tune more steps
    distill: bool = False  # every fine-tune also learns from `teacher` (Ultralytics' distillation, docs/method.md)
    teacher: Literal["sparse", "base"] = "sparse"  # the unpruned detector that teaches a distilled fine-tune
    distill_weight: float = 6.0  # weight of the distillation loss (Ultralytics' `dis`, its default)
    compare: list[str] = field(default_factory=list)  # prune targets fine-tuned two more ways at the cost of
    # distillation: `<target>-distill` (taught by `teacher`) and `<target>-longer` (no teacher, as many more epochs as
    # a distilled step costs; yoloslim.train.recipes). The comparison is with today's recipe: needs distill: false
    seeds: int = 1  # each model of `seeded` is fine-tuned this many times, with seeds train.seed + 0, 1, ...
    # (`<model>-seed<i>`; a random control also redraws its channels): the accuracy intervals then include the spread
    # between the runs, measured (yoloslim.measure.seeds)
    seeded: list[str] = field(default_factory=list)  # the fine-tuned models (`<target>`, `<target>-random`, ...)
    # trained `seeds` times; empty: every fine-tuned model. The spread measured on them is applied to every other
    # model as a variance component, and the report says which was done


@dataclass
class LatencyConfig:
    warmup: int = 10  # untimed runs before measuring
    runs: int = 50  # timed runs; the median and p90 are reported
    threads: int = 0  # CPU threads for PyTorch and ONNX Runtime; 0: all cores


@dataclass
class EvalConfig:
    conf: float = 0.5  # confidence threshold of the accuracy tables (the original: 0.5)
    iou: float = 0.6  # NMS IoU threshold
    splits: list[Split] = field(default_factory=lambda: ["val", "test"])
    # latency budget every model is marked against: "20ms" (or 20), or "0.6x": a factor of the base model's
    # latency on target_engine
    target_latency: str | float = "20ms"
    target_engine: Engine = "onnx_cpu"  # engine of the budget
    engines: list[Engine] = field(default_factory=lambda: list(ENGINES))  # engines every model is timed on; an
    # INT8 engine also validates its quantised model (quant.splits)
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    processes: int = 1  # fresh processes the tables' interleaved latency is measured in, one after another; 2 or
    # more: each model's interval on each engine predicts a re-measurement in another process (timings of the same
    # model in separate processes differ by more than one process's interval: docs/results.md)
    decode_margin: float = 0.15  # crop margin around a detection before decoding, as a box fraction
    decode: dict[str, str] | None = None  # class name -> zxing-cpp symbology its detections must decode as (a
    # BarcodeFormat name such as DataMatrix, QRCode, Code128, or `linear`: any 1-D barcode): the code classes whose
    # decode rate is measured; the other classes are not decoded. None: {dm: DataMatrix, qr: QRCode, bar: linear}
    # on the embedded synthetic set, nothing on a user's data set; {}: no decode rate (`decode_classes`)
    bootstrap: int = 1000  # resamples of the images for 95 % intervals of every accuracy number (0: none)
    bootstrap_seed: int = 0  # seed of those resamples

    def keyed(self) -> dict[str, Any]:
        """The section as plain data for a stage key: `decode` left out while automatic (None), so that studies keyed
        before it existed keep their keys; the eval keys add what None resolves to where that changes what was
        measured before (`yoloslim.stages.stage_key`)."""
        return {k: v for k, v in asdict(self).items() if not (k == "decode" and v is None)}

    def measurement(self) -> dict[str, Any]:
        """The settings a model's measurements depend on: all but those the tables stage applies to them (the
        budget, the bootstrap)."""
        tables = ("target_latency", "target_engine", "bootstrap", "bootstrap_seed", "processes")
        return {k: v for k, v in self.keyed().items() if k not in tables}


@dataclass
class QuantConfig:
    calib_images: int = 128  # training images (never val or test) that calibrate the INT8 models' activation ranges
    splits: list[Split] = field(default_factory=lambda: ["test"])  # splits the INT8 models are validated on


@dataclass
class ReportConfig:
    lang: Lang = "en"  # language of headings and summary
    collapse_margin: float = 0.10  # a class collapsed: its recall at eval.conf fell more than the model's mean by this
    pdf: bool = True  # print the HTML report to PDF with headless Chromium


@dataclass
class Config:
    name: str = "demo"  # study name: outputs go to runs/<name>/ and reports/<name>/
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sparse: SparseConfig = field(default_factory=SparseConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    quant: QuantConfig = field(default_factory=QuantConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    source: str = ""  # the params file this was loaded from (set by load_config)

    def __post_init__(self) -> None:
        """Each variant's label names the image size it is evaluated at (`VariantConfig.label`'s "{imgsz}")."""
        for v in self.train.variants:
            v.label = v.label.replace("{imgsz}", str(v.imgsz or self.train.imgsz))

    @property
    def base_label(self) -> str:
        """The base model's name in tables and the report: the checkpoint's (model.base: weights) or the model
        YAML's file name without its suffix."""
        return Path(self.model.weights if self.model.base == "weights" else self.model.cfg).stem

    @property
    def trained_variants(self) -> list[VariantConfig]:
        """The variants that are trained (the others evaluate one of these at another image size)."""
        return [v for v in self.train.variants if v.same_as is None]

    def prune_targets(self) -> dict[str, float]:
        """Pruned-model name -> threshold or fraction, by the configured policy (not the latency targets)."""
        return dict(self.prune.thresholds if self.prune.policy == "threshold" else self.prune.fractions)

    def prune_rule(self, value: float | str) -> dict[str, float | str]:
        """`prune_model`'s rule for a target's value: {"threshold": value} or {"fraction": value}, by the policy."""
        return {"threshold": value} if self.prune.policy == "threshold" else {"fraction": value}

    def latency_targets(self) -> dict[str, str]:
        """Pruned-model name -> latency budget as written ("20ms", "0.5x"), from `prune.targets`."""
        return {name: str(spec["latency"]) for name, spec in self.prune.targets.items() if "latency" in spec}

    def flops_targets(self) -> dict[str, str]:
        """Pruned-model name -> FLOPs budget as written ("0.1x", "0.5G"), from `prune.targets`."""
        return {name: str(spec["flops"]) for name, spec in self.prune.targets.items() if "flops" in spec}

    def target_names(self) -> list[str]:
        """Every prune target's name: the thresholds (or fractions), then the latency and FLOPs budgets."""
        return [*self.prune_targets(), *self.prune.targets]

    def finetune_epochs(self, init: str, target: str | None = None) -> int:
        """Epochs of a pruned model's training: from inherited weights (`inherit`, and the recipes of
        `finetune.compare`) its prune target's `finetune.target_epochs`, else `finetune.epochs`; re-initialized
        (`scratch`) `finetune.scratch_epochs` (None: `train.epochs`)."""
        if init == "scratch":
            return self.finetune.scratch_epochs or self.train.epochs
        return self.finetune.target_epochs.get(target, self.finetune.epochs) if target else self.finetune.epochs

    def target_value(self, target: str) -> float | str:
        """A prune target's threshold or fraction, or its latency or FLOPs budget as written."""
        return {**self.prune_targets(), **self.latency_targets(), **self.flops_targets()}[target]

    def section(self, name: str) -> dict[str, Any]:
        """One top-level section as plain data (what a stage's cache key is built from)."""
        value = getattr(self, name)
        return asdict(value) if dataclasses.is_dataclass(value) else json.loads(json.dumps(value, default=asdict))

    def to_dict(self) -> dict[str, Any]:
        """The whole resolved configuration as plain data."""
        return asdict(self)

    def digest(self) -> str:
        """A short hash of the resolved configuration, shown in the report."""
        text = json.dumps({k: v for k, v in self.to_dict().items() if k != "source"}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


LINEAR = "linear"  # the symbology of `eval.decode` that stands for every 1-D barcode format
SYNTH_DECODE = {"dm": "DataMatrix", "qr": "QRCode", "bar": LINEAR}  # the embedded synthetic set's code classes


def decode_classes(cfg: Config) -> dict[str, str]:
    """The classes whose decode rate is measured, each with the zxing-cpp symbology its detections must decode as.

    `eval.decode` when set ({} measures none); when None (automatic): the embedded synthetic set's mapping
    (`SYNTH_DECODE`) for those of its classes in `data.names`, and nothing for a user's data set (`data.root` or
    `data.yaml` set), whose classes need not be codes.

        decode_classes(load_config("params/demo.yaml"))  # {'dm': 'DataMatrix', 'qr': 'QRCode', 'bar': 'linear'}
    """
    if cfg.eval.decode is not None:
        return dict(cfg.eval.decode)
    if data_source(cfg) != "synth":
        return {}
    return {name: symbology for name, symbology in SYNTH_DECODE.items() if name in cfg.data.names}


def symbologies() -> list[str]:
    """The symbologies `eval.decode` accepts: `linear`, and zxing-cpp's BarcodeFormat names (single formats such as
    QRCode, and its groups such as EANUPC or AllMatrix), NONE aside."""
    import zxingcpp

    return [LINEAR, *(name for name in zxingcpp.BarcodeFormat.__members__ if name != "NONE")]


def latency_budget(value: str | float) -> tuple[float, bool]:
    """A latency budget as (value, relative): "20ms", "20 ms" or 20 -> (20.0, False); "0.6x" -> (0.6, True).

    Raises ValueError for anything else, or for a budget that is not positive.
    """
    text = str(value).strip().lower().replace(" ", "")
    relative = text.endswith("x")
    number = float(text[:-1] if relative else text.removesuffix("ms"))
    if not number > 0:
        raise ValueError(f"a latency budget must be positive, got {value!r}")
    return number, relative


def flops_budget(value: str | float) -> tuple[float, bool]:
    """A FLOPs budget as (value, relative): "0.1x" -> (0.1, True), of the base model's GFLOPs; "0.5G", "0.5 GFLOPs" or
    0.5 -> (0.5, False), in GFLOPs at the study's image size.

    Raises ValueError for anything else, for a budget that is not positive, or for a relative one over 1, saying
    which forms are read (the CLI's `--flops` errors are this message).
    """
    text = str(value).strip().lower().replace(" ", "")
    relative = text.endswith("x")
    try:
        number = float(text[:-1] if relative else text.removesuffix("gflops").removesuffix("g"))
    except ValueError:
        number = float("nan")  # not a number: refused below
    if not number > 0 or (relative and number > 1):
        raise ValueError(f'{value!r}: expected a factor up to 1 ("0.1x") or GFLOPs ("0.5G")')
    return number, relative


def load_config(path: str | Path, *, check_values: bool = True) -> Config:
    """Load a params YAML over the defaults and validate it.

    Relative data paths are resolved against the params file's folder. Raises `ConfigError` naming the
    file, the key and what was expected. `check_values=False` checks keys and types only (no paths are
    resolved): for reading another study's settings, such as the seed study's sparse-training plan, on a
    machine without its data.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level, got {type(raw).__name__}")
    raw.setdefault("name", path.stem)
    cfg = _build(Config, raw, str(path), "")
    cfg.source = str(path)
    if check_values:
        _resolve_paths(cfg, path.parent)
        _check_values(cfg, path)
        _resolve_names(cfg, path, names_given="names" in (raw.get("data") or {}))
    return cfg


def data_source(cfg: Config) -> Literal["synth", "yaml", "tree", "coco", "voc"]:
    """Where the study's data comes from: the embedded synthetic set, an Ultralytics data YAML, or `data.root` read
    as `data.format`."""
    if cfg.data.yaml is not None:
        return "yaml"
    return "synth" if cfg.data.root is None else cfg.data.format


def yaml_names(data_yaml: str | Path) -> list[str]:
    """The class names of an Ultralytics data YAML (`names` as a list, or a mapping from class id), by class id.

    Raises ConfigError naming the file when it is not a YAML mapping with usable `names`.
    """
    try:
        data = yaml.safe_load(Path(data_yaml).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{data_yaml}: cannot read the data YAML: {err}") from err
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        return [str(names[k]) for k in sorted(names)]
    if isinstance(names, list) and names and len(set(map(str, names))) == len(names):
        return [str(n) for n in names]
    raise ConfigError(f"{data_yaml}: 'names' must be a list of distinct class names or a mapping 0..n-1 -> name, got "
                      f"{names!r}")  # fmt: skip


def _resolve_names(cfg: Config, path: Path, names_given: bool) -> None:
    """The class names of a data set that brings its own: a data YAML's (checked against `data.names` when the params
    file sets them too); COCO and VOC need them written (`yoloslim init` reads them from the annotations)."""
    source = data_source(cfg)
    if source == "yaml":
        found = yaml_names(cfg.data.yaml)
        if names_given and found != cfg.data.names:
            raise ConfigError(f"{path}: 'data.names' {cfg.data.names} disagree with the names of {cfg.data.yaml}: "
                              f"{found}; leave data.names out to use the YAML's")  # fmt: skip
        cfg.data.names = found
    elif source in ("coco", "voc") and not names_given:
        raise ConfigError(f"{path}: 'data.names' must list the class names of a {source} data set (by class id); "
                          f"`yoloslim init --data {cfg.data.root}` reads them from its annotations")  # fmt: skip


def _resolve_paths(cfg: Config, folder: Path) -> None:
    """Make `data.root` and `model.weights` absolute: $VARIABLES and ~ expanded, relative paths taken from `folder`
    (the params file's). A path with an unset variable is left as written, for `_check_values` to name."""
    if cfg.data.root is not None:
        cfg.data.root = _resolve_path(cfg.data.root, folder)
    if cfg.data.yaml is not None:
        cfg.data.yaml = _resolve_path(cfg.data.yaml, folder)
    if cfg.model.weights is not None:
        cfg.model.weights = _resolve_path(cfg.model.weights, folder)


def _resolve_path(value: str, folder: Path) -> str:
    """`value` expanded and made absolute against `folder`, or unchanged when it names an unset variable."""
    expanded = os.path.expandvars(value)
    if "$" in expanded:
        return value
    path = Path(expanded).expanduser()
    return str(path if path.is_absolute() else (folder / path).resolve())


MAX_STRIDE = 32  # the largest stride of the P5 detectors (v5, v8, YOLO11, YOLO26): image sides are multiples of it
MOVED = {"variants": "train.variants"}  # keys of older params files -> where they are now


def _build(cls: type, raw: Any, file: str, prefix: str) -> Any:
    """Build dataclass `cls` from a mapping, rejecting unknown keys with the closest valid one."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: '{prefix.rstrip('.')}' must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    for key in raw:
        if f"{prefix}{key}" in MOVED:
            raise ConfigError(f"{file}: '{prefix}{key}' has moved to '{MOVED[f'{prefix}{key}']}'; indent it there")
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; valid keys: {', '.join(names)}"
            raise ConfigError(f"{file}: unknown key '{prefix}{key}'{hint}")
    defaults = cls()
    values = {}
    for name in names:
        if name in raw:
            values[name] = _coerce(hints[name], raw[name], file, f"{prefix}{name}")
        else:
            values[name] = getattr(defaults, name)
    return cls(**values)


def _coerce(tp: Any, value: Any, file: str, key: str) -> Any:
    """Check `value` against type `tp` (recursing into dataclasses, lists and dicts)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, file, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, file, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[-1] if errors else f"{file}: '{key}' must not be null")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{file}: '{key}' must be one of {list(args)}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{key}' must be a list, got {value!r}")
        return [_coerce(args[0], v, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: '{key}' must be a mapping, got {value!r}")
        return {_coerce(args[0], k, file, key): _coerce(args[1], v, file, f"{key}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool) and key.endswith("device"):
        return str(value)  # `device: 0` means GPU 0
    if tp is float and isinstance(value, str):
        try:
            return float(value)  # YAML reads 6e-4 (no dot) as a string
        except ValueError:
            pass
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{file}: '{key}' must be {tp.__name__}, got {value!r}")
    return value


def _check_values(cfg: Config, path: Path) -> None:
    """Value checks that types alone cannot express (on resolved paths: `_resolve_paths`)."""

    def fail(key: str, expected: str, got: Any) -> None:
        raise ConfigError(f"{path}: '{key}' must be {expected}, got {got!r}")

    if not cfg.name or "/" in cfg.name:
        fail("name", "a non-empty folder name", cfg.name)
    if cfg.name in COMMAND_FOLDERS:
        fail("name", f"a folder name other than {', '.join(COMMAND_FOLDERS)} (the runs/ folders of those commands)",
             cfg.name)  # fmt: skip
    if cfg.data.root is not None:
        if "$" in cfg.data.root:
            fail("data.root", "a path whose environment variables are set", cfg.data.root)
        if not Path(cfg.data.root).is_dir():
            fail("data.root", "an existing data set folder", cfg.data.root)
    if cfg.data.yaml is not None:
        if cfg.data.root is not None:
            fail("data.yaml", "unset when data.root is set (one data set: a data YAML or a folder)", cfg.data.yaml)
        if cfg.data.format != "tree":
            fail("data.format", "left out with data.yaml (it says how data.root is laid out)", cfg.data.format)
        if "$" in cfg.data.yaml or not Path(cfg.data.yaml).is_file():
            fail("data.yaml", "an existing Ultralytics data YAML file", cfg.data.yaml)
    elif cfg.data.root is None and cfg.data.format != "tree":
        fail("data.root", f"the folder of the {cfg.data.format} data set (data.format: {cfg.data.format})", None)
    if len(cfg.data.split) != 3 or any(r < 0 for r in cfg.data.split) or sum(cfg.data.split[:2]) <= 0:
        fail("data.split", "three non-negative ratios train:val:test", cfg.data.split)
    if not cfg.data.names or len(set(cfg.data.names)) != len(cfg.data.names):
        fail("data.names", "a non-empty list of distinct class names", cfg.data.names)
    if cfg.model.weights is not None and not Path(cfg.model.weights).is_file():
        fail("model.weights", "an existing local weights file", cfg.model.weights)
    if cfg.model.base == "weights":
        if cfg.model.weights is None:
            fail("model.weights", "the trained base model's checkpoint (model.base: weights)", None)
        if cfg.model.width is not None or cfg.model.depth is not None:
            fail("model.width/model.depth", "unset with model.base: weights (the checkpoint's architecture is used)",
                 (cfg.model.width, cfg.model.depth))  # fmt: skip
    sizes = [("train.imgsz", cfg.train.imgsz)]
    sizes += [(f"train.variants[{i}].imgsz", v.imgsz) for i, v in enumerate(cfg.train.variants) if v.imgsz]
    for key, value in sizes:  # the detectors' largest stride: another size fails inside the model's concatenations
        if value % MAX_STRIDE:
            fail(key, f"a multiple of {MAX_STRIDE} (the detectors' largest stride)", value)
    for key, value in [
        ("data.synth.images", cfg.data.synth.images),
        ("data.synth.imgsz", cfg.data.synth.imgsz),
        ("data.synth.detect_imgsz", cfg.data.synth.detect_imgsz or cfg.data.synth.imgsz),
        ("train.imgsz", cfg.train.imgsz),
        ("train.epochs", cfg.train.epochs),
        ("train.batch", cfg.train.batch),
        ("train.nbs", cfg.train.nbs),
        ("sparse.epochs", cfg.sparse.epochs),
        ("finetune.epochs", cfg.finetune.epochs),
        ("prune.round_to", cfg.prune.round_to),
        ("eval.latency.runs", cfg.eval.latency.runs),
    ]:
        if value <= 0:
            fail(key, "a positive number", value)
    if cfg.train.precise_bn < 0:
        fail("train.precise_bn", "a number of images (0: off)", cfg.train.precise_bn)
    if cfg.sparse.sl < 0:
        fail("sparse.sl", "a non-negative L1 factor", cfg.sparse.sl)
    if not 0 <= cfg.sparse.recover_epochs < cfg.sparse.epochs:
        fail(
            "sparse.recover_epochs",
            f"an epoch count in [0, sparse.epochs={cfg.sparse.epochs})",
            cfg.sparse.recover_epochs,
        )
    if cfg.sparse.stop_fraction is not None and not 0 < cfg.sparse.stop_fraction < 1:
        fail("sparse.stop_fraction", "a fraction in (0, 1), or null", cfg.sparse.stop_fraction)
    for key, nbs in (("sparse.nbs", cfg.sparse.nbs), ("finetune.nbs", cfg.finetune.nbs)):
        if nbs is not None and nbs <= 0:
            fail(key, "a positive nominal batch size (or null: train.nbs)", nbs)
    if not cfg.target_names():
        fail(f"prune.{cfg.prune.policy}s", "at least one named pruned model (or prune.targets)", cfg.prune_targets())
    for name, spec in cfg.prune.targets.items():
        if not isinstance(spec, dict) or len(spec) != 1 or set(spec) - {"latency", "flops"}:
            fail(f"prune.targets.{name}", "a mapping with one key, latency or flops (e.g. {latency: 0.5x})", spec)
        kind, parse, expected = (
            ("latency", latency_budget, 'a positive budget ("20ms", 20 or "0.5x")')
            if "latency" in spec
            else ("flops", flops_budget, 'a positive budget ("0.1x" of the base model\'s, up to 1x, or GFLOPs: "0.5G")')
        )
        try:
            parse(spec[kind])
        except ValueError:
            fail(f"prune.targets.{name}.{kind}", expected, spec[kind])
        if name in cfg.prune_targets():
            fail(f"prune.targets.{name}", f"a name other than the prune.{cfg.prune.policy}s names", name)
    if not 0 <= cfg.prune.margin < 1:
        fail("prune.margin", "a fraction in [0, 1)", cfg.prune.margin)
    search_engines = ("onnx_cpu", "onnx_cuda", "onnx_tensorrt", "onnx_cpu_int8", "openvino_cpu", "openvino_cpu_bf16",
                      "openvino_cpu_int8")  # fmt: skip
    if cfg.prune.engine not in search_engines and ":" not in cfg.prune.engine:
        fail("prune.engine", f'one of {", ".join(search_engines)}, or "package.module:function" (onnx_path, imgsz) '
             "-> milliseconds", cfg.prune.engine)  # fmt: skip
    for name in cfg.prune.compare:
        if name not in cfg.target_names():
            fail("prune.compare", f"names of prune targets ({', '.join(cfg.target_names())})", name)
    counted = [*cfg.prune_targets(), *cfg.flops_targets()]  # a random control keeps their per-layer counts
    for name in cfg.prune.random:
        if name not in counted:
            fail("prune.random", f"names of threshold, fraction or FLOPs targets ({', '.join(counted)})", name)
    for name, value in cfg.prune.fractions.items():
        if not 0 <= value < 1:
            fail(f"prune.fractions.{name}", "a fraction in [0, 1)", value)
    names = [v.name for v in cfg.train.variants]
    if len(set(names)) != len(names) or any("/" in n or not n for n in names):
        fail("train.variants", "distinct folder names without '/'", names)
    if any("-" in name for name in cfg.target_names()):
        fail(f"prune.{cfg.prune.policy}s", "target names without '-'", cfg.target_names())
    taken = {"base", "sparse", *cfg.target_names()}
    if taken & set(names):
        fail("train.variants", f"names other than the other models' ({', '.join(sorted(taken))})", names)
    trained = ["base", *(v.name for v in cfg.trained_variants)]
    widths = {"base": 1.0, **{v.name: v.width_scale for v in cfg.train.variants}}
    for i, v in enumerate(cfg.train.variants):
        if v.width_scale <= 0:
            fail(f"train.variants[{i}].width_scale", "a positive scale", v.width_scale)
        if v.same_as is not None and v.same_as not in trained:
            expected = f"the name of a trained variant ({', '.join(trained) or 'none'})"
            fail(f"train.variants[{i}].same_as", expected, v.same_as)
        if v.same_as is not None and v.width_scale != widths[v.same_as]:
            fail(f"train.variants[{i}].width_scale", f"the width_scale of '{v.same_as}', whose weights it evaluates",
                 v.width_scale)  # fmt: skip
        size = re.search(r"_(\d+)$", v.label)
        if size and int(size[1]) != (v.imgsz or cfg.train.imgsz):
            fail(f"train.variants[{i}].label", f"a name of the size it is evaluated at, {v.imgsz or cfg.train.imgsz} "
                 "px (or '{imgsz}' in it)", v.label)  # fmt: skip
    if cfg.data.synth.test_images < 0:
        fail("data.synth.test_images", "a number of test-only images (0: none)", cfg.data.synth.test_images)
    if cfg.eval.processes < 1:
        fail("eval.processes", "a positive number of processes", cfg.eval.processes)
    if cfg.eval.bootstrap < 0:
        fail("eval.bootstrap", "a number of resamples (0: no intervals)", cfg.eval.bootstrap)
    if not cfg.eval.engines or len(set(cfg.eval.engines)) != len(cfg.eval.engines):
        fail("eval.engines", f"a list of distinct engines among {', '.join(ENGINES)}", cfg.eval.engines)
    if cfg.eval.target_engine not in cfg.eval.engines:
        fail("eval.target_engine", f"one of eval.engines ({', '.join(cfg.eval.engines)})", cfg.eval.target_engine)
    if cfg.quant.calib_images < 1:
        fail("quant.calib_images", "a positive number of training images", cfg.quant.calib_images)
    if not cfg.quant.splits or not set(cfg.quant.splits) <= set(cfg.eval.splits):
        fail("quant.splits", f"a non-empty list among eval.splits ({', '.join(cfg.eval.splits)})", cfg.quant.splits)
    allowed = symbologies() if cfg.eval.decode else []
    for name, symbology in (cfg.eval.decode or {}).items():
        if name not in cfg.data.names:
            fail(f"eval.decode.{name}", f"keyed by a class name of data.names ({', '.join(cfg.data.names)})", name)
        if symbology not in allowed:
            fail(f"eval.decode.{name}", f"a zxing-cpp symbology: {LINEAR} (any 1-D barcode) or a BarcodeFormat name "
                 f"({', '.join(allowed[1:])})", symbology)  # fmt: skip
    if not 0 <= cfg.eval.conf < 1 or not 0 < cfg.eval.iou <= 1:
        fail("eval.conf/eval.iou", "conf in [0, 1) and iou in (0, 1]", (cfg.eval.conf, cfg.eval.iou))
    try:
        latency_budget(cfg.eval.target_latency)
    except ValueError:
        fail("eval.target_latency", 'a positive budget in milliseconds ("20ms") or a factor of the base model\'s '
             'latency ("0.6x")', cfg.eval.target_latency)  # fmt: skip
    if not cfg.finetune.init or len(set(cfg.finetune.init)) != len(cfg.finetune.init):
        fail("finetune.init", "a non-empty list of distinct modes", cfg.finetune.init)
    if cfg.finetune.distill_weight <= 0:
        fail("finetune.distill_weight", "a positive loss weight", cfg.finetune.distill_weight)
    targets = cfg.target_names()
    for name in cfg.finetune.compare:
        if name not in targets:
            fail("finetune.compare", f"names of prune targets ({', '.join(targets)})", name)
    if cfg.finetune.compare and cfg.finetune.distill:
        fail("finetune.compare", "empty when finetune.distill is on (it compares distillation with the recipe "
             "without it)", cfg.finetune.compare)  # fmt: skip
    for name, epochs in cfg.finetune.target_epochs.items():
        if name not in targets:
            fail("finetune.target_epochs", f"keys that are prune targets ({', '.join(targets)})", name)
        if not isinstance(epochs, int) or epochs <= 0:
            fail(f"finetune.target_epochs.{name}", "a positive number of epochs", epochs)
    if cfg.finetune.seeds < 1:
        fail("finetune.seeds", "a positive number of fine-tunes per model", cfg.finetune.seeds)
    from yoloslim.study import finetune_jobs  # the fine-tuned models' ids need the whole configuration

    finetuned = list(finetune_jobs(cfg))
    for name in cfg.finetune.seeded:
        if name not in finetuned:
            fail("finetune.seeded", f"ids of fine-tuned models ({', '.join(finetuned)})", name)
