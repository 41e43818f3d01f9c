"""Checkpoints of (pruned) detection models that stock Ultralytics loads, predicts and exports, but never rebuilds.

    from yoloslim.models.checkpoint import save_checkpoint
    save_checkpoint(pruned_model, Path("weights.pt"))    # YOLO("weights.pt") predicts and exports

Stock `YOLO(path).train()` rebuilds the model from its `model.yaml` and copies only the weights whose shapes
match, which would silently undo pruning: a model YAML cannot state pruned inner widths (C3 hidden channels,
bottleneck and Detect head hidden widths). So a checkpoint of a model its YAML does not rebuild carries a YAML
whose layer list names one module Ultralytics does not have, `REFUSAL`: stock `parse_model` raises a KeyError
with that message, which says how to continue training (`yoloslim finetune`). The original layer lists stay under
`UNPRUNED`; every other key (`nc`, `scales`, `channels`, `yaml_file`, ...) is kept for Ultralytics' predictor and
exporter. The YAML travels with the module, so the checkpoints Ultralytics' trainer writes of it refuse too.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from yoloslim.atomic import atomic_path

REFUSAL = (
    "yoloslim: this model is pruned and stock Ultralytics training would rebuild it unpruned from its YAML; "
    "continue training with `yoloslim finetune WEIGHTS --data DATA_YAML --epochs N`"
)
UNPRUNED = "yoloslim_unpruned"  # the model YAML's original layer lists: {"backbone": [...], "head": [...]}


def refusing_yaml(model_yaml: dict[str, Any]) -> dict[str, Any]:
    """A copy of a model YAML dict whose layer list makes stock `parse_model` raise `KeyError(REFUSAL)`.

    The original `backbone` and `head` go under `UNPRUNED` (kept when `model_yaml` refuses already); every
    other key is kept as it is.
    """
    d = copy.deepcopy(model_yaml)
    d[UNPRUNED] = d.get(UNPRUNED) or {"backbone": d["backbone"], "head": d["head"]}
    d["backbone"], d["head"] = [[-1, 1, REFUSAL, []]], []
    return d


def layer_lists(model_yaml: dict[str, Any]) -> dict[str, list]:
    """The model's layer lists `{"backbone": [...], "head": [...]}`, the original ones of a refusing YAML."""
    return model_yaml.get(UNPRUNED) or {"backbone": model_yaml["backbone"], "head": model_yaml["head"]}


def rebuilds(model: torch.nn.Module) -> bool:
    """Whether stock Ultralytics' `parse_model` rebuilds `model`'s layers from its YAML with every tensor of the same
    name and shape (what its trainer needs to keep all the weights)."""
    from ultralytics.nn.tasks import parse_model

    if UNPRUNED in model.yaml:
        return False
    layers, _ = parse_model(copy.deepcopy(model.yaml), ch=model.yaml.get("channels", 3), verbose=False)
    return _shapes(layers) == _shapes(model.model)


def save_checkpoint(
    model: torch.nn.Module, path: Path, *, train_args: dict | None = None, info: dict | None = None
) -> Path:
    """Save `model` as Ultralytics' trainer saves a final checkpoint; `YOLO(path)` loads it.

    Ultralytics writes it: `strip_optimizer`, which finishes its trainer's checkpoints, turns a bare
    `{"model", "train_args"}` into a final one (fp16 model without its loss, Ultralytics' metadata, `train_args`
    over its defaults). When its YAML does not rebuild it (a pruned model), the saved model's YAML is
    `refusing_yaml`'s: stock training fails naming `yoloslim finetune` instead of silently undoing the pruning.

    Args:
        model (torch.nn.Module): The detection model (saved as a copy; left unchanged).
        path (Path): The checkpoint file, written atomically.
        train_args (dict | None): The training arguments kept in the checkpoint.
        info (dict | None): Kept under the `yoloslim` key (Ultralytics ignores it).

    Returns:
        (Path): `path`.
    """
    from ultralytics.utils.torch_utils import strip_optimizer

    saved = copy.deepcopy(model)
    if not rebuilds(saved):
        saved.yaml = refusing_yaml(saved.yaml)
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"model": saved, "train_args": dict(train_args or {})}, tmp)
        if not strip_optimizer(tmp, updates={"yoloslim": info or {}}):  # {}: it could not read the file back
            raise RuntimeError(f"{path}: the checkpoint written could not be read back")
    return path


def _shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in the model's state dict."""
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}
