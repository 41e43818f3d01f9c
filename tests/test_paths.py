"""paths.py names every output: docs/outputs.md lists exactly those files, and the report reads nothing else."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from conftest import THREE_TARGETS, write_params
from helpers.results import write_results
from yoloslim.config import ROOT, Config, load_config
from yoloslim.paths import Folder, StudyPaths
from yoloslim.study import finetune_jobs, prune_jobs, study_models

SPLITS = ("train", "val", "test")
OPENED: list[Path] | None = None  # the files opened while a test records them (an audit hook cannot be removed)


def _record_open(event: str, args: tuple) -> None:
    if OPENED is not None and event == "open" and isinstance(args[0], (str, Path)):
        OPENED.append(Path(args[0]))


sys.addaudithook(_record_open)


def named_files(folder: Folder) -> list[Path]:
    """Every file a stage folder's class names: its properties, and its per-split methods for every split."""
    files = []
    for cls in type(folder).__mro__:
        for name, attr in vars(cls).items():
            if isinstance(attr, property) and name != "ultra":
                files.append(getattr(folder, name))
            elif name in ("split_list", "detections", "bootstrap"):
                files += [getattr(folder, name)(split) for split in SPLITS]
            if name == "detections":  # another fine-tune of a seeded model (finetune.seeds)
                files.append(Path(getattr(folder, name)("<split>", "<model_id>-seed<i>")))
            elif name == "detections_int8":
                files.append(Path(getattr(folder, name)("<split>", "<engine>")))
            elif name == "artifact":  # the INT8 exports kept for the interleaved timing (FP32 engines: model.onnx)
                files += [getattr(folder, name)(engine) for engine in ("onnx_cpu_int8", "openvino_cpu_int8")]
    return files


def study_folders(cfg: Config) -> list[Folder]:
    """Every stage folder of a study."""
    paths = StudyPaths.of(cfg)
    trained = [paths.train("base"), *(paths.train(v.name) for v in cfg.trained_variants)]
    finetuned = [paths.finetune(model_id) for model_id in finetune_jobs(cfg, replicas=True)]
    pruned = [paths.prune(prune_id) for prune_id in prune_jobs(cfg)]
    evaluated = [paths.eval(m.id) for m in study_models(cfg)]
    return [paths.data, *trained, paths.sparse, *pruned, *finetuned, *evaluated, paths.eval_tables]


def test_outputs_doc_lists_exactly_the_files_paths_names(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "params" / "smoke.yaml")
    named = {re.sub(r"_(train|val|test)\.", "_<split>.", p.name) for f in study_folders(cfg) for p in named_files(f)}
    named = {"<split>.txt" if n in {f"{s}.txt" for s in SPLITS} else n for n in named}
    doc = (ROOT / "docs" / "outputs.md").read_text()
    documented = set(re.findall(r"`(?:<model_id>/|figures/)?([\w<>-]+\.(?:csv|json|npz|pt|onnx|yaml|txt|log))`", doc))
    documented = {"<split>.txt" if n in {f"{s}.txt" for s in SPLITS} else n for n in documented}
    folders = {n for n in named if "." not in n}  # an OpenVINO export is a folder: documented as `name/`
    assert {n for n in folders if f"{n}/`" not in doc} == set(), "folder named in paths.py, missing from outputs.md"
    named -= folders
    assert named - documented == set(), "named in paths.py, missing from docs/outputs.md"
    assert documented - named - {"report.html", "report.pdf"} == set(), "in docs/outputs.md, not named in paths.py"


def test_the_report_reads_only_files_paths_names(out_root: Path, checkpoints: dict[float, Path]) -> None:
    """The report notebook, run in this process: every file it opens under the study's folder is named in paths.py
    (a stage folder's member, or a figure in one of its figures/ folders)."""
    global OPENED
    prune = {"thresholds": THREE_TARGETS, "random": ["middle"]}
    params = write_params(out_root, {"name": "rep", "prune": prune})
    cfg = load_config(params)
    write_results(cfg, checkpoints)
    source = (ROOT / "notebooks" / "07_report.py").read_text()
    source = source.replace('config = "../params/demo.yaml"', f"config = {str(params)!r}")
    assert f"config = {str(params)!r}" in source
    OPENED = []
    try:
        exec(compile(source, "07_report.py", "exec"), {"__name__": "report"})
        opened = {p.resolve() for p in OPENED}
    finally:
        OPENED = None
    folders = study_folders(cfg)
    named = {p.resolve() for f in folders for p in named_files(f)}
    figures = {(f.dir / "figures").resolve() for f in folders}
    read = {p for p in opened if p.is_relative_to(StudyPaths.of(cfg).run.resolve())}
    assert {p.name for p in read} >= {"accuracy.csv", "models.csv", "gamma_log.csv", "gammas.npz", "layers.csv"}
    unnamed = {p for p in read if p not in named and p.parent not in figures}
    assert not unnamed, f"the report read files paths.py does not name: {sorted(map(str, unnamed))}"
