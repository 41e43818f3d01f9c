"""The `yoloslim` command line: one subcommand per stage tool.

    yoloslim synth OUT --images N [--seed S] [--imgsz 640 --detect-imgsz 160]   write a synthetic code data set
    yoloslim init --data DATA --budget 20ms [--weights best.pt]   write params/<name>.yaml for your data, checked
    yoloslim check ROOT [--lenient]               check a data set (folder, data YAML, COCO, VOC); exit 1 on problems
    yoloslim prune WEIGHTS --threshold T --out P  prune one model and print its ratio table (or --flops 0.1x)
    yoloslim finetune WEIGHTS --data DATA_YAML --epochs N  train a pruned model further, keeping its structure
                                                  (--teacher UNPRUNED.pt: taught by an unpruned one)
    yoloslim eval WEIGHTS --data DATA_YAML        measure one model (the data set mirrored under runs/eval/)
    yoloslim bench [--config C]                   CPU latency vs FLOPs of base and pruned models
    yoloslim stage-params CONFIG                  write each stage's config section (Snakemake cache keys)
    yoloslim report-paths CONFIG                  print where a study's report is
    yoloslim unlock CONFIG                        clear a stale Snakemake lock; exit 1 if the study is running

Each handler parses nothing itself: it calls one lib function and prints its result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import get_args


def _cmd_synth(args: argparse.Namespace) -> int:
    from yoloslim.data.synth import synthesize

    out = synthesize(
        Path(args.out), images=args.images, imgsz=args.imgsz, seed=args.seed, detect_imgsz=args.detect_imgsz
    )
    print(f"synthetic data set written to {out}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from yoloslim.data.given import guess_source

    source = args.format or guess_source(Path(args.root))
    return _check_tree(args) if source == "tree" else _check_given(args, source)


def _check_given(args: argparse.Namespace, source: str) -> int:
    import tempfile

    from yoloslim.data.given import read_source, source_names

    root = Path(args.root)
    names = [n.strip() for n in (args.names or "").split(",") if n.strip()] or source_names(source, root)
    with tempfile.TemporaryDirectory() as tmp:
        given = read_source(source, root, names, Path(tmp))
    for problem in given.problems:
        print(problem)
    for note in given.notes:
        print(note)
    counts = ", ".join(f"{split} {len(samples)}" for split, samples in given.splits.items())
    print(f"{root} ({source}): {counts} usable images; {len(given.skipped)} skipped; {len(given.problems)} "
          f"problem(s); classes: {', '.join(names)}")  # fmt: skip
    return 0 if args.lenient or not given.problems else 1


def _check_tree(args: argparse.Namespace) -> int:
    from yoloslim.config import SYNTH_NAMES
    from yoloslim.data.check import check_dataset

    names = args.names or ",".join(SYNTH_NAMES)
    report = check_dataset(Path(args.root), names=[n.strip() for n in names.split(",") if n.strip()])
    for problem in report.problems:
        print(problem)
    summary = report.summary()
    instances = ", ".join(f"{name} {count}" for name, count in summary["instances"].items())
    print(
        f"{summary['images']} usable images ({summary['background']} background) in {len(report.sources)} "
        f"sources; {summary['skipped']} skipped; {summary['problems']} problem(s); boxes: {instances}"
    )
    for (category, source), samples in report.sources.items():
        print(f"  {category}/{source}".rstrip("/") + f": {len(samples)}")
    return 0 if args.lenient or not report.problems else 1


def _cmd_init(args: argparse.Namespace) -> int:
    from yoloslim.init import init_study

    weights = Path(args.weights) if args.weights else None
    folder = Path(args.folder) if args.folder else None
    result = init_study(Path(args.data), weights=weights, budget=args.budget, name=args.name, engine=args.engine,
                        folder=folder, force=args.force, flops=args.flops)  # fmt: skip
    print("\n".join(result.facts))
    print(f"\nwrote {result.params}:\n\n{result.text}\nrun the study:\n\n    {result.command}")
    return 0


def _cmd_prune(args: argparse.Namespace) -> int:
    from yoloslim.prune.files import prune_weights
    from yoloslim.text import say

    out = Path(args.out)
    options = {"threshold": args.threshold, "flops": args.flops, "round_to": args.round_to,
               "round_dir": args.round_dir, "attention": args.attention}  # fmt: skip
    result, choice = prune_weights(Path(args.weights), out, **options, imgsz=args.imgsz)
    print(result.ratios.to_string(index=False))
    gflops = f"{result.gflops_before:.3f} -> {result.gflops_after:.3f}"
    print(f"params {result.params_before:,} -> {result.params_after:,}; GFLOPs at {args.imgsz}: {gflops}")
    if choice and choice.met:
        print(f"FLOPs budget {choice.budget} ({choice.gflops_budget:.3f} GFLOPs): |gamma| threshold "
              f"{choice.threshold:.4g}, within it")  # fmt: skip
    elif choice:
        print(f"WARNING: {say('en', choice.summary()['message'])}")
    for group in result.unpruned_groups:
        print(f"{', '.join(group['layers'])}: {'; '.join(say('en', r) for r in group['reasons'])}")
    for name, heads in result.heads.items():
        print(f"{name}: {len(heads['kept'])} of {heads['heads']} attention heads kept (heads {heads['kept']})")
    if result.warning:
        print(f"WARNING: {say('en', result.warning)}")
    print(f"pruned model and tables written to {out}")
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from yoloslim.train.finetune import finetune_weights

    weights = finetune_weights(
        Path(args.weights),
        Path(args.data),
        epochs=args.epochs,
        out=Path(args.out) if args.out else None,
        imgsz=args.imgsz,
        batch=args.batch,
        lr0=args.lr0,
        device=args.device,
        workers=args.workers,
        teacher=Path(args.teacher) if args.teacher else None,
        distill_weight=args.distill_weight,
    )
    print(f"fine-tuned model (architecture unchanged) written to {weights}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import dataclasses

    from yoloslim.config import EvalConfig, QuantConfig, symbologies, yaml_names
    from yoloslim.data.mirror import mirror_dataset
    from yoloslim.eval.stage import evaluate_weights
    from yoloslim.eval.tables import format_result
    from yoloslim.models.stats import checkpoint_imgsz, existing_weights
    from yoloslim.paths import command_folder, data_mirror

    weights = Path(args.weights)
    existing_weights(weights)  # a missing file or a bad --decode stops here, before the data set is mirrored
    defaults, names = EvalConfig(), yaml_names(args.data)
    decode = dict(item.split("=", 1) for item in args.decode if "=" in item)
    unknown = [c for c in decode if c not in names] + [i for i in args.decode if "=" not in i]
    if unknown or not set(decode.values()) <= set(symbologies()):
        raise ValueError(f"--decode {' '.join(args.decode)}: expected CLASS=SYMBOLOGY with classes among "
                         f"{', '.join(names)} and symbologies among {', '.join(symbologies())}")  # fmt: skip
    data = mirror_dataset(Path(args.data), data_mirror(command_folder("eval", weights)))
    result = evaluate_weights(
        weights,
        data,
        imgsz=args.imgsz or checkpoint_imgsz(weights),
        splits=[args.split],
        conf=args.conf,
        iou=defaults.iou,
        latency=dataclasses.replace(defaults.latency, runs=args.runs, warmup=min(defaults.latency.warmup, args.runs)),
        decode_margin=defaults.decode_margin,
        names=names,
        engines=args.engines,
        quant=QuantConfig(splits=[args.split]),
        decode=decode,
    )
    print(format_result(result, names))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from yoloslim.bench import format_bench, run_bench
    from yoloslim.config import load_config

    result = run_bench(load_config(args.config))
    print(format_bench(result))
    print(f"written to {result['csv']} and {result['json']}")
    return 0


def _cmd_stage_params(args: argparse.Namespace) -> int:
    from yoloslim.config import load_config
    from yoloslim.paths import StudyPaths
    from yoloslim.stages import write_stage_params

    cfg = load_config(args.config)
    keys = StudyPaths.of(cfg).stage_params("*")
    before = {path: path.read_text() if path.is_file() else None for path in keys.parent.glob(keys.name)}
    paths = write_stage_params(cfg)
    for stage, path in paths.items():
        print(f"{'changed  ' if before.get(path) != path.read_text() else 'unchanged'} {stage:24} {path}")
    print(f"resolved config: {StudyPaths.of(cfg).config}")
    return 0


def _cmd_report_paths(args: argparse.Namespace) -> int:
    from yoloslim.config import load_config
    from yoloslim.paths import StudyPaths

    paths = StudyPaths.of(load_config(args.config))
    for kind, path in (("HTML", paths.report_html), ("PDF", paths.report_pdf)):
        print(f"{kind:4} {path if path.exists() else f'{path} (not written)'}")
    return 0


def _cmd_unlock(args: argparse.Namespace) -> int:
    from yoloslim.jobs.locks import StudyRunning, check_lock

    try:
        said = check_lock(Path(args.config))
    except StudyRunning as err:
        print(f"yoloslim unlock: {err}", file=sys.stderr)
        return 1
    if said:
        print(said)
    return 0


def _flops(value: str) -> str:
    """`--flops`: a FLOPs budget as `yoloslim.config.flops_budget` reads it, else argparse's error naming it."""
    from yoloslim.config import flops_budget

    try:
        flops_budget(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from yoloslim.config import (
        ENGINES,
        SYNTH_NAMES,
        ULTRALYTICS_IMGSZ,
        AttentionMode,
        EvalConfig,
        FinetuneConfig,
        LatencyConfig,
        PruneConfig,
        RoundDir,
        Split,
        SynthConfig,
        TrainConfig,
    )

    names = ",".join(SYNTH_NAMES)

    parser = argparse.ArgumentParser(prog="yoloslim", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic DataMatrix/QR/1-D barcode data set")
    p.add_argument("out", help="output folder (category/source tree)")
    p.add_argument(
        "--images", type=int, default=SynthConfig.images, help=f"number of images (default {SynthConfig.images})"
    )
    p.add_argument(
        "--imgsz", type=int, default=SynthConfig.imgsz, help=f"image side in pixels (default {SynthConfig.imgsz})"
    )
    p.add_argument("--seed", type=int, default=SynthConfig.seed, help=f"random seed (default {SynthConfig.seed})")
    p.add_argument(
        "--detect-imgsz", type=int, default=None, help="side the detector sees the images at (default: --imgsz)"
    )
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("init", help="write a params file for your data set (and trained detector), checked")
    p.add_argument("--data", required=True, help="an Ultralytics data YAML, or a COCO or VOC data set's folder")
    p.add_argument("--weights", help="your trained detector (best.pt): the base model, not retrained")
    p.add_argument("--budget", required=True, help='latency budget: "20ms", or "0.5x" the base model\'s latency')
    p.add_argument("--flops", help='a FLOPs budget too: "0.1x" the base model\'s FLOPs, or GFLOPs ("2G")')
    p.add_argument("--name", help="study name (params/<name>.yaml, runs/<name>/; default: the data set's name)")
    p.add_argument("--engine", choices=ENGINES, default=EvalConfig.target_engine, help="engine the budget is "
                   f"judged on (default {EvalConfig.target_engine})")  # fmt: skip
    p.add_argument("--folder", help="where the params file goes (default: the repository's params/)")
    p.add_argument("--force", action="store_true", help="overwrite an existing params file")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("check", help="check a data set's images and labels")
    p.add_argument("root", help="data set: a category/source tree or images/ + labels/, an Ultralytics data YAML, or a "
                   "COCO or VOC folder")  # fmt: skip
    p.add_argument("--format", choices=["tree", "yaml", "coco", "voc"], help="how the data set is given (default: "
                   "guessed from its files)")  # fmt: skip
    p.add_argument("--names", help=f"comma-separated class names (default: the data set's; a tree's: {names})")
    p.add_argument("--lenient", action="store_true", help="report problems but exit 0 (bad files are skipped)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("prune", help="prune one model by a |gamma| threshold, channels aligned")
    p.add_argument("weights", help="a trained (ideally sparse-trained) Ultralytics detection checkpoint")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--threshold", type=float, help="|gamma| below which channels are pruned")
    budget.add_argument("--flops", type=_flops, help='a FLOPs budget: the lowest threshold whose structure is within '
                        '"0.1x" the model\'s FLOPs, or within GFLOPs ("0.5G")')  # fmt: skip
    p.add_argument(
        "--round-to",
        type=int,
        default=PruneConfig.round_to,
        help=f"kept channels are a multiple of this (default {PruneConfig.round_to})",
    )
    p.add_argument("--round-dir", choices=get_args(RoundDir), default=PruneConfig.round_dir, help="alignment direction")
    p.add_argument(
        "--attention",
        choices=get_args(AttentionMode),
        default=PruneConfig.attention,
        help="attention blocks (YOLO11, YOLO26): kept intact, or narrowed to the whole heads they need "
        f"(default {PruneConfig.attention})",
    )
    p.add_argument(
        "--imgsz", type=int, default=ULTRALYTICS_IMGSZ, help=f"image size for FLOPs (default {ULTRALYTICS_IMGSZ})"
    )
    p.add_argument("--out", required=True, help="output folder for weights.pt, layers.csv, ratios.csv")
    p.set_defaults(func=_cmd_prune)

    p = sub.add_parser("finetune", help="train a pruned (or fine-tuned) model further, keeping its structure")
    p.add_argument("weights", help="a pruned or fine-tuned checkpoint (stock Ultralytics training would unprune it)")
    p.add_argument(
        "--data", required=True, help="Ultralytics data.yaml (only read: mirrored under the output folder's data/)"
    )
    p.add_argument("--epochs", type=int, required=True, help="training epochs")
    p.add_argument("--imgsz", type=int, default=None, help="image size (default: the checkpoint's)")
    p.add_argument("--batch", type=int, default=TrainConfig.batch, help=f"batch size (default {TrainConfig.batch})")
    p.add_argument(
        "--lr0", type=float, default=FinetuneConfig.lr0, help=f"initial learning rate (default {FinetuneConfig.lr0})"
    )
    p.add_argument("--device", default=TrainConfig.device, help=f"cpu, 0 or 0,1,... (default {TrainConfig.device})")
    p.add_argument(
        "--workers", type=int, default=TrainConfig.workers, help=f"data-loader workers (default {TrainConfig.workers})"
    )
    p.add_argument("--teacher", default=None, help="an unpruned checkpoint that teaches it (distillation)")
    p.add_argument("--distill-weight", type=float, default=FinetuneConfig.distill_weight,
                   help=f"distillation loss weight (default {FinetuneConfig.distill_weight})")  # fmt: skip
    p.add_argument("--out", default=None, help="output folder (default runs/finetune/<folder>_<stem>/)")
    p.set_defaults(func=_cmd_finetune)

    p = sub.add_parser("eval", help="measure one model: accuracy per class, size, FLOPs, latency, decode rate")
    p.add_argument("weights", help="an Ultralytics detection checkpoint")
    p.add_argument(
        "--data",
        required=True,
        help="Ultralytics data.yaml (only read: mirrored under runs/eval/<folder>_<stem>/data/)",
    )
    p.add_argument("--split", default="test", choices=get_args(Split), help="split to measure (default test)")
    p.add_argument(
        "--engines",
        nargs="+",
        default=["torch_cpu", "onnx_cpu", "torch_cuda"],
        choices=ENGINES,
        help="engines to time (default: torch_cpu onnx_cpu torch_cuda); an INT8 one (onnx_cpu_int8, "
        "openvino_cpu_int8) also validates the model's INT8 export, calibrated on the data set's train split",
    )
    p.add_argument("--imgsz", type=int, default=None, help="image size (default: the checkpoint's)")
    p.add_argument(
        "--conf", type=float, default=EvalConfig.conf, help=f"confidence threshold (default {EvalConfig.conf})"
    )
    p.add_argument(
        "--runs",
        type=int,
        default=LatencyConfig.runs,
        help=f"timed latency runs per engine (default {LatencyConfig.runs})",
    )
    p.add_argument(
        "--decode",
        nargs="+",
        default=[],
        metavar="CLASS=SYMBOLOGY",
        help="code classes whose decode rate is measured, e.g. dm=DataMatrix qr=QRCode bar=linear (default: none)",
    )
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("bench", help="CPU latency of base and pruned models against their FLOPs")
    p.add_argument("--config", default="params/demo.yaml", help="the study whose models are measured")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("stage-params", help="write each stage's config section under runs/<config>/params/")
    p.add_argument("config", help="params YAML")
    p.set_defaults(func=_cmd_stage_params)

    p = sub.add_parser("report-paths", help="print where a study's report is")
    p.add_argument("config", help="params YAML")
    p.set_defaults(func=_cmd_report_paths)

    p = sub.add_parser("unlock", help="clear a stale Snakemake lock left by a killed run of a study")
    p.add_argument("config", help="params YAML")
    p.set_defaults(func=_cmd_unlock)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `yoloslim` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:  # bad input: a clear message, no traceback
        print(f"yoloslim {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
