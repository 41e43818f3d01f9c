"""Check a pruned checkpoint the way the NPU will see it: its ONNX export through Ultralytics.

Two checks, both enforced by the prune stage:
- every Conv's output channel count in the ONNX graph is a multiple of `round_to`, except the Detect head's
  outputs (box and class convolutions, DFL) and the inside of attention blocks, which are never pruned by channel
  (kept intact; with `prune.attention: heads` their `qkv` and `pe` lose whole heads, multiples of head_dim);
- ONNX Runtime's output matches PyTorch's on a random image, elementwise: box coordinates (pixels) within
  BOX_TOL of the image size plus RTOL * |torch|, class scores within ATOL + RTOL * |torch|. Box centres are
  differences of two large DFL distances, so their float32 rounding scales with the image, not with the
  centre's own value; YOLO26's direct regression (`reg_max: 1`) of a barely trained model can also put box
  coordinates thousands of pixels away, where float32 rounding scales with the coordinate.

    from yoloslim.prune.onnx_check import check_onnx
    report = check_onnx(Path("runs/demo/prune/small/weights.pt"), Path("/tmp/onnx"), imgsz=256)
    report.ok, report.misaligned, report.max_abs_diff
    report.require_aligned(); report.require_parity(layers)   # raise, naming what is wrong
    report.summary()   # what the prune stage records in metrics.json under `onnx_check`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from yoloslim.measure.onnx import export_onnx
from yoloslim.models.stats import load_model
from yoloslim.prune.groups import excluded_layers

ATOL = 1e-3  # absolute tolerance of ONNX Runtime vs PyTorch class scores
RTOL = 1e-3  # relative tolerance of ONNX Runtime vs PyTorch class scores
BOX_TOL = 1e-3  # tolerance of box coordinates, as a fraction of the image size (0.16 px at 160 px)
TOLERANCE = (
    f"boxes: |onnx - torch| <= {BOX_TOL:g} * imgsz + {RTOL:g} * |torch| pixels; "
    f"class scores: |onnx - torch| <= {ATOL:g} + {RTOL:g} * |torch|, elementwise"
)


@dataclass
class OnnxCheck:
    """What the ONNX check found: per-Conv output channels, the misaligned ones, and the output difference."""

    onnx: Path
    channels: dict[str, int]  # Conv weight name -> output channels (Detect outputs and DFL left out)
    misaligned: list[str]
    max_abs_diff: float
    outputs_match: bool
    round_to: int = 8

    @property
    def ok(self) -> bool:
        """Both checks passed."""
        return not self.misaligned and self.outputs_match

    def require_aligned(self) -> None:
        """Raise RuntimeError naming the misaligned Convs, if any (after pruning that is a bug)."""
        if self.misaligned:
            raise RuntimeError(
                f"{self.onnx}: Conv output channels not a multiple of round_to={self.round_to} "
                f"(a pruning bug): {', '.join(self.misaligned)}"
            )

    def require_parity(self, layers: pd.DataFrame | None = None) -> None:
        """Raise RuntimeError when ONNX Runtime's output differs from PyTorch's beyond the tolerance; the message
        gives the difference and, when given, the pruned model's layer table (the export is not to be trusted)."""
        if self.outputs_match:
            return
        table = f"\nPruned layers:\n{layers.to_string(index=False)}" if layers is not None else ""
        raise RuntimeError(
            f"{self.onnx}: ONNX Runtime's output differs from PyTorch's: max |onnx - torch| = "
            f"{self.max_abs_diff:.4g}, beyond the tolerance {TOLERANCE}. The exported model does not compute what "
            f"the pruned PyTorch model computes.{table}"
        )

    def summary(self) -> dict:
        """The result as JSON-ready values: aligned, misaligned, max_abs_diff, tolerance, outputs_match."""
        return {
            "aligned": not self.misaligned,
            "misaligned": list(self.misaligned),
            "max_abs_diff": self.max_abs_diff,
            "tolerance": TOLERANCE,
            "outputs_match": self.outputs_match,
        }


def onnx_conv_channels(onnx_path: Path) -> dict[str, int]:
    """Every Conv node's weight name -> its output channels, read from the ONNX graph's initializers."""
    import onnx

    graph = onnx.load(str(onnx_path)).graph
    dims = {init.name: list(init.dims) for init in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    missing = [node.name for node in convs if node.input[1] not in dims]
    if missing:
        raise ValueError(f"{onnx_path}: Conv weights that are not initializers (cannot read channels): {missing}")
    return {node.input[1]: dims[node.input[1]][0] for node in convs}


def check_onnx(
    weights: Path, out_dir: Path, *, imgsz: int, round_to: int = 8, onnx_name: str = "model.onnx"
) -> OnnxCheck:
    """Export `weights` to `out_dir/<onnx_name>` through Ultralytics and run both checks on it.

    Args:
        weights (Path): The pruned checkpoint.
        out_dir (Path): The folder of the export.
        imgsz (int): The export's static input size, and the side of the random image compared.
        round_to (int): Every Conv's output channels must be a multiple of it (the Detect outputs and DFL, and the
            inside of attention blocks, left out).
        onnx_name (str): The export's file name.

    Returns:
        (OnnxCheck): What both checks found (a failed check raises nothing here: see `require_aligned`,
            `require_parity`).
    """
    onnx_path = export_onnx(Path(weights), Path(out_dir), imgsz)
    onnx_path = onnx_path.replace(onnx_path.with_name(onnx_name))
    model = load_model(Path(weights)).model.float().eval()
    if hasattr(model, "end2end"):
        model.end2end = False  # as exported (Ultralytics' default nms=None): YOLO26's one-to-many branch, external NMS
    never_pruned = set(excluded_layers(model))
    excluded = {f"{name}.weight" for name, m in model.named_modules() if m in never_pruned}
    channels = onnx_conv_channels(onnx_path)
    missing = {name for name in excluded - set(channels) if ".one2one_" not in name}  # that branch is not exported
    if missing:
        raise ValueError(f"{onnx_path}: never-pruned convolutions not found by name: {sorted(missing)}")
    kept = {name: c for name, c in channels.items() if name not in excluded}
    misaligned = [f"{name}: {c}" for name, c in kept.items() if c % round_to]
    diff, match = _compare_outputs(model, onnx_path, imgsz)
    return OnnxCheck(
        onnx=onnx_path, channels=kept, misaligned=misaligned, max_abs_diff=diff, outputs_match=match, round_to=round_to
    )


def _compare_outputs(model: torch.nn.Module, onnx_path: Path, imgsz: int) -> tuple[float, bool]:
    """Max |onnx - torch| on a seeded random image, and whether every element is within tolerance."""
    import onnxruntime as ort

    image = torch.rand(1, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model(image)
    reference = (reference[0] if isinstance(reference, (list, tuple)) else reference).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    output = session.run(None, {session.get_inputs()[0].name: image.numpy()})[0]
    if output.shape != reference.shape:
        return float("inf"), False
    diff = np.abs(output - reference)
    limit = ATOL + RTOL * np.abs(reference)
    limit[:, :4] = BOX_TOL * imgsz + RTOL * np.abs(reference[:, :4])  # (batch, 4 box coordinates + classes, anchors)
    return float(diff.max()), bool((diff <= limit).all())
