"""The `yoloslim` command line: one subcommand per stage tool.

    yoloslim synth OUT --images N [--seed S]      write a synthetic code data set
    yoloslim check ROOT [--lenient]               check a data set; exit 1 on problems
    yoloslim prune WEIGHTS --threshold T --out P  prune one model and print its ratio table
    yoloslim eval WEIGHTS --data DATA_YAML        measure one model
    yoloslim bench [--config C]                   CPU latency vs FLOPs of base and pruned models
    yoloslim stage-params CONFIG                  write each stage's config section (Snakemake cache keys)
    yoloslim report-paths CONFIG                  print where a study's report is

Each handler parses nothing itself: it calls one lib function and prints its result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_synth(args: argparse.Namespace) -> int:
    from yoloslim.synth import synthesize

    out = synthesize(Path(args.out), images=args.images, imgsz=args.imgsz, seed=args.seed)
    print(f"synthetic data set written to {out}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    raise NotImplementedError  # owned by the data-check module


def _cmd_prune(args: argparse.Namespace) -> int:
    raise NotImplementedError  # owned by the prune module


def _cmd_eval(args: argparse.Namespace) -> int:
    raise NotImplementedError  # owned by the evaluate module


def _cmd_bench(args: argparse.Namespace) -> int:
    raise NotImplementedError  # owned by the bench module


def _cmd_stage_params(args: argparse.Namespace) -> int:
    raise NotImplementedError  # owned by the workflow module


def _cmd_report_paths(args: argparse.Namespace) -> int:
    from yoloslim.config import load_config

    cfg = load_config(args.config)
    for name in ("report.html", "report.pdf"):
        path = cfg.report_dir / name
        print(f"{name.split('.')[1].upper():4} {path if path.exists() else f'{path} (not written)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="yoloslim", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic DataMatrix/QR/1-D barcode data set")
    p.add_argument("out", help="output folder (category/source tree)")
    p.add_argument("--images", type=int, default=1000, help="number of images (default 1000)")
    p.add_argument("--imgsz", type=int, default=256, help="image side in pixels (default 256)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("check", help="check a data set's images and labels")
    p.add_argument("root", help="data set root: category/source tree, or images/ + labels/")
    p.add_argument("--names", default="dm,qr,bar", help="comma-separated class names (default dm,qr,bar)")
    p.add_argument("--lenient", action="store_true", help="report problems but exit 0 (bad files are skipped)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("prune", help="prune one model by a |gamma| threshold, channels aligned")
    p.add_argument("weights", help="a trained (ideally sparse-trained) Ultralytics detection checkpoint")
    p.add_argument("--threshold", type=float, required=True, help="|gamma| below which channels are pruned")
    p.add_argument("--round-to", type=int, default=8, help="kept channels are a multiple of this (default 8)")
    p.add_argument("--round-dir", choices=["up", "nearest", "down"], default="up", help="alignment direction")
    p.add_argument("--imgsz", type=int, default=640, help="image size for FLOPs (default 640)")
    p.add_argument("--out", required=True, help="output folder for weights.pt, layers.csv, ratios.csv")
    p.set_defaults(func=_cmd_prune)

    p = sub.add_parser("eval", help="measure one model: accuracy per class, size, FLOPs, latency, decode rate")
    p.add_argument("weights", help="an Ultralytics detection checkpoint")
    p.add_argument("--data", required=True, help="Ultralytics data.yaml")
    p.add_argument("--split", default="test", choices=["val", "test"], help="split to measure (default test)")
    p.add_argument("--imgsz", type=int, default=None, help="image size (default: the checkpoint's)")
    p.add_argument("--conf", type=float, default=0.5, help="confidence threshold (default 0.5)")
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
