"""`yoloslim init`: a params file for the user's own data set (and trained detector), checked, and the command to run.

    result = init_study(Path("data.yaml"), weights=Path("best.pt"), budget="20ms")
    print(result.command)   # make report CONFIG=params/data.yaml

The params file holds only what differs from the defaults (`yoloslim.config`), each value commented with where it
came from: the data set and the detector as given; the image size and architecture from the checkpoint; class names
from the annotations (COCO, VOC); the epochs from the demo's recipe counted in optimizer steps (`STEPS`), so a
larger data set gets fewer epochs of the same number of steps; the latency budget (and a FLOPs budget) as given. The
data set is read and checked as the data stage will (`yoloslim.data.given`), the checkpoint against it
(`yoloslim.train.from_weights`): bad input stops here, naming the file and the key, before anything is trained.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yoloslim.config import ConfigError, PruneConfig, flops_budget, latency_budget, load_config, output_root

# The demo's calibrated recipe (params/demo.yaml; docs/calibration.md) in optimizer steps of nbs 16 images: sparse
# training 13 epochs of 30 steps (the last 5 without L1), fine-tuning 30, the base model 100 (to convergence), on its
# 480 training images.
NBS = 16
STEPS = {"train": 3000, "sparse": 390, "recover": 150, "finetune": 900}  # params/demo.yaml: epochs x 30 steps
MAX_EPOCHS = 300  # a tiny data set does not get more epochs than this
ULTRALYTICS_IOU = 0.7  # Ultralytics' validator's default NMS IoU (the original study, and our default, used 0.6)


@dataclass
class InitResult:
    """What `init_study` wrote and found."""

    params: Path  # the params file written
    text: str  # its contents
    command: str  # the one command that runs the study
    facts: list[str]  # what was read, one line each (images per split, classes, the checkpoint)


def init_study(
    data: Path,
    *,
    weights: Path | None = None,
    budget: str,
    name: str | None = None,
    engine: str = "onnx_cpu",
    folder: Path | None = None,
    force: bool = False,
    flops: str | None = None,
) -> InitResult:
    """Write `params/<name>.yaml` for a study of `data` (and the trained detector `weights`), after checking both.

    Args:
        data (Path): An Ultralytics data YAML, or a COCO or VOC data set's folder.
        weights (Path | None): The trained detector (best.pt) to take as the base model; None: train one.
        budget (str): The latency budget: "20ms" or a factor of the base model's latency, "0.5x".
        name (str | None): The study's name (its params file, runs/<name>/); None: the data set's.
        engine (str): The engine the budget is judged on (`eval.target_engine`, `prune.engine`).
        folder (Path | None): Where the params file goes; None: params/ beside runs/ (the repository's, in a checkout).
        force (bool): Overwrite an existing params file.
        flops (str | None): A FLOPs budget too: "0.1x" of the base model's, or GFLOPs ("2G"); its pruned model is
            the target `compute`. None: none.

    Returns:
        (InitResult): The file written, its text, the command that runs the study, and what was found.

    Raises:
        ValueError: Naming the file and key of bad input (not a data set, not a detector, classes that disagree).
    """
    from yoloslim.data.given import guess_source, read_source

    data = Path(data).absolute()
    if not data.exists():
        raise FileNotFoundError(f"{data}: no such data YAML or data set folder (--data)")
    try:
        latency_budget(budget)
    except ValueError as err:
        raise ValueError(f'--budget {budget!r}: expected milliseconds ("20ms") or a factor ("0.5x")') from err
    if flops is not None:
        try:
            flops_budget(flops)
        except ValueError as err:
            raise ValueError(f"--flops {err}") from err
    source = guess_source(data)
    if source == "tree":
        raise ValueError(f"{data}: not an Ultralytics data YAML, nor a COCO or VOC data set (--data); for a folder of "
                         "images/ + labels/ write data.root and data.names in a params file")  # fmt: skip
    names = _names(source, data)
    detector = _detector_spec(weights, names, source, data) if weights else None
    if detector:
        names = detector[3]  # COCO's and VOC's classes in the order the checkpoint numbers them
    with tempfile.TemporaryDirectory() as tmp:
        given = read_source(source, data, names, Path(tmp))
    if given.problems:
        listing = "\n".join(str(p) for p in given.problems[:50])
        raise ValueError(f"{data}: {len(given.problems)} problem(s) in the data set:\n{listing}")
    counts = {split: len(given.splits.get(split, [])) for split in ("train", "val", "test")}
    facts = [f"{data} ({source}): " + ", ".join(f"{split} {n}" for split, n in counts.items()) + " images",
             f"classes ({len(names)}): {', '.join(names)}"]  # fmt: skip
    if not counts["test"]:
        facts.append("no test split: the report's tables will be on val, and it says so")
    spec, notes = _data_spec(source, data, names), {}
    if source != "yaml":
        read = "COCO categories" if source == "coco" else "VOC object names"
        order = "the checkpoint's order" if detector else "by category id" if source == "coco" else "sorted"
        notes["data.names"] = f"the {read}, {order}"
    if detector:
        spec.update(detector[0])
        notes.update(detector[1])
        facts.append(detector[2])
    name = name or _study_name(data)
    _recipe(spec, notes, counts["train"], trained=weights is not None)
    spec.setdefault("prune", {})["targets"] = {"budget": {"latency": budget}}
    notes["prune.targets"] = f"--budget {budget}: the largest pruned model that meets it (searched on {engine})"
    if flops is not None:
        spec["prune"]["targets"]["compute"] = {"flops": flops}
        notes["prune.targets"] += f"; --flops {flops}: the largest within that many FLOPs (compute)"
    if engine != PruneConfig.engine:
        spec["prune"]["engine"] = engine
    spec["eval"] = {"target_latency": budget, "target_engine": engine, "iou": ULTRALYTICS_IOU}
    notes["eval.target_latency"] = f"--budget {budget}, judged on {engine}"
    notes["eval.iou"] = "Ultralytics' default NMS IoU: the base model's mAP is what `YOLO(best.pt).val()` reports"
    params = (folder or output_root() / "params") / f"{name}.yaml"
    if params.exists() and not force:
        raise ValueError(f"{params}: exists already; choose another --name or pass --force")
    text = _commented(name, spec, notes)
    params.parent.mkdir(parents=True, exist_ok=True)
    params.write_text(text)
    try:
        load_config(params)
    except ConfigError:
        params.unlink()
        raise
    where = params.relative_to(Path.cwd()) if params.is_relative_to(Path.cwd()) else params
    return InitResult(params, text, f"make report CONFIG={where}", facts)


def _names(source: str, data: Path) -> list[str]:
    """The data set's class names (`source_names`), a data YAML checked to be a data set first."""
    from yoloslim.data.given import source_names

    if source == "yaml":
        _check_data_yaml(data)
    return source_names(source, data)


def _check_data_yaml(data: Path) -> None:
    """Stop when the YAML is not an Ultralytics data set (a mapping with train, val and names)."""
    try:
        spec = yaml.safe_load(data.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{data}: not valid YAML: {err}") from err
    missing = [key for key in ("train", "val", "names") if not isinstance(spec, dict) or key not in spec]
    if missing:
        raise ValueError(f"{data}: not an Ultralytics data YAML: no '{missing[0]}' key (--data)")


def _data_spec(source: str, data: Path, names: list[str]) -> dict[str, Any]:
    """The params file's data section."""
    if source == "yaml":
        return {"data": {"yaml": str(data)}}
    return {"data": {"root": str(data), "format": source, "names": names}}


def _detector_spec(
    weights: Path, names: list[str], source: str, data: Path
) -> tuple[dict, dict[str, str], str, list[str]]:
    """The model section for a trained checkpoint (and train.imgsz), its comments, a line describing it, and the
    class names by the checkpoint's class ids: COCO's and VOC's class order is the checkpoint's when it has the same
    classes (theirs is only an order of ids or names), a data YAML's must be it."""
    from yoloslim.train.from_weights import check_classes, classes, read_detector

    weights = Path(weights).absolute()
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: checkpoint not found (--weights)")
    info = read_detector(weights)
    if source in ("coco", "voc") and sorted(info.names) == sorted(names):
        names = list(info.names)
    check_classes(info, names, data)
    spec = {"model": {"weights": str(weights), "base": "weights"}, "train": {"imgsz": info.imgsz, "variants": []}}
    notes = {
        "model.base": f"the trained base model: {info.architecture}, {info.params / 1e6:.2f} M parameters, evaluated "
        "as it is, not retrained",
        "train.imgsz": "the checkpoint's image size",
        "train.variants": "no uniform-width baselines: trained from scratch with this study's short recipe, they "
        "would not compare with a checkpoint trained its own way; list them (see params/demo.yaml) to train them",
    }
    line = f"{weights}: {info.architecture}, {classes(info.names)}, {info.imgsz} px, {info.epochs} epochs"
    return spec, notes, line, names


def _recipe(spec: dict[str, Any], notes: dict[str, str], train_images: int, trained: bool) -> None:
    """Epochs by the demo's recipe in optimizer steps (`STEPS`) for `train_images`, with its sparse settings."""
    per_epoch = max(1, math.ceil(train_images / NBS))

    def epochs(steps: int) -> int:
        return min(MAX_EPOCHS, max(1, math.ceil(steps / per_epoch)))

    rule = f"{per_epoch} optimizer steps an epoch ({train_images} training images, nbs {NBS})"
    sparse = epochs(STEPS["sparse"])
    spec["sparse"] = {"sl": 0.05, "nbs": NBS, "epochs": max(2, sparse),
                      "recover_epochs": max(1, round(max(2, sparse) * STEPS["recover"] / STEPS["sparse"]))}  # fmt: skip
    notes["sparse.epochs"] = f"about {STEPS['sparse']} steps, the demo's: {rule}"
    notes["sparse.sl"] = "the demo's calibrated L1 factor (docs/calibration.md)"
    spec["finetune"] = {"epochs": epochs(STEPS["finetune"]), "nbs": NBS}
    notes["finetune.epochs"] = f"about {STEPS['finetune']} steps, the demo's: {rule}"
    if not trained:
        spec.setdefault("train", {})["epochs"] = epochs(STEPS["train"])
        notes["train.epochs"] = f"about {STEPS['train']} steps, the demo's: {rule}"


def _study_name(data: Path) -> str:
    """A study name from the data set's name (`data_set_name`), as a folder name."""
    from yoloslim.data.given import data_set_name

    return re.sub(r"[^\w.-]+", "_", data_set_name(data)).strip("._") or "mydata"


def _commented(name: str, spec: dict[str, Any], notes: dict[str, str]) -> str:
    """The params YAML: a header, then each section with a comment after every value that has one."""
    lines = ["# Written by `yoloslim init`: only what differs from lib/yoloslim/config.py's defaults.", f"name: {name}"]
    for section, values in spec.items():
        lines.append(f"{section}:")
        for key, value in values.items():
            dumped = yaml.safe_dump({key: value}, default_flow_style=True, width=1000, allow_unicode=True).strip()
            note = notes.get(f"{section}.{key}")
            lines.append(f"  {dumped[1:-1]}" + (f"  # {note}" if note else ""))
    return "\n".join(lines) + "\n"
