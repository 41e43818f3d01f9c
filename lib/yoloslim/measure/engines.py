"""Deployment engines: the model a team ships, in the precision it ships, on the engine it runs on.

    onnx_cpu           ONNX Runtime, CPU provider: the FP32 ONNX export (`yoloslim.measure.onnx`)
    onnx_cpu_int8      ONNX Runtime, CPU provider: Ultralytics' ONNX export with `quantize=8` (ONNX Runtime's static
                       quantisation, QDQ, of the weighted operators only: the Detect decode stays in float, since one
                       INT8 scale cannot hold box pixels and class scores)
    openvino_cpu       OpenVINO, CPU plugin: the FP32 ONNX export, compiled with `INFERENCE_PRECISION_HINT: f32` (by
                       default OpenVINO runs an FP32 model in BF16 on CPUs with AMX)
    openvino_cpu_bf16  OpenVINO, CPU plugin: the same export compiled with `INFERENCE_PRECISION_HINT: bf16`, where
                       the CPU offers BF16 (AMX or AVX512-BF16; elsewhere "not measured": OpenVINO would run FP32)
    openvino_cpu_int8  OpenVINO, CPU plugin: Ultralytics' OpenVINO export with `quantize=8` (NNCF post-training
                       quantisation, the Detect head left in float)

Both INT8 exports are calibrated on `quant.calib_images` images of the **train** split (never val or test), through
Ultralytics' calibration loader, which applies the detector's own letterbox preprocessing. The precision each engine
actually ran is read back from the compiled model (OpenVINO) or the graph (ONNX Runtime), never assumed from the
engine's name.

    from yoloslim.measure.engines import build_artifact, engine_runner
    artifact = build_artifact("openvino_cpu_int8", Path("weights.pt"), Path("out/"), 160, data_yaml, calib_images=128)
    infer, precision = engine_runner("openvino_cpu_int8", artifact, threads=2)   # precision: "INT8"
    infer(np.zeros((1, 3, 160, 160), np.float32))                                # the first output
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yoloslim.atomic import atomic_path
from yoloslim.measure.onnx import export_onnx, onnx_session, resolve_threads

INT8_ENGINES = ("onnx_cpu_int8", "openvino_cpu_int8")  # engines that run a quantised model
BF16_ENGINES = ("openvino_cpu_bf16",)  # engines that run the FP32 export in BF16, where the CPU offers it
DEPLOY_ENGINES = ("onnx_cpu", "onnx_cpu_int8", "openvino_cpu", "openvino_cpu_bf16", "openvino_cpu_int8")  # exported
OPENVINO_HINTS = {"openvino_cpu": "f32", "openvino_cpu_bf16": "bf16"}  # INFERENCE_PRECISION_HINT (INT8: the default)
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger", "MatMulInteger", "QLinearMatMul"}


class EngineError(RuntimeError):
    """An engine that could not build or run a model (the message names the model, the engine and the cause)."""


def calib_fraction(data_yaml: Path, calib_images: int) -> float:
    """The fraction of the train split that gives `calib_images` calibration images (Ultralytics' `fraction`).

    Args:
        data_yaml (Path): The study's Ultralytics data YAML (its `train` entry lists the training images).
        calib_images (int): The calibration images wanted.

    Returns:
        (float): In (0, 1]; 1 when the train split has at most `calib_images` images.

    Raises:
        EngineError: The data YAML has no train split.
    """
    from yoloslim.data.mirror import split_images

    try:
        train = split_images(data_yaml, "train")
    except KeyError as err:  # INT8 is calibrated on training images only, never val or test
        raise EngineError(f"{data_yaml}: no 'train' split to calibrate INT8 on") from err
    return min(1.0, calib_images / len(train))


def build_artifact(
    engine: str, weights: Path, out_dir: Path, imgsz: int, data_yaml: Path, *, calib_images: int
) -> Path:
    """Export `weights` for `engine` into `out_dir` (an INT8 model calibrated on training images).

    Args:
        engine (str): One of `DEPLOY_ENGINES`.
        weights (Path): The checkpoint.
        out_dir (Path): The folder the artifact is written to (`model.onnx`, `model_int8.onnx` or
            `model_int8_openvino_model/` (the suffix Ultralytics reads as OpenVINO)).
        imgsz (int): The static input size.
        data_yaml (Path): The study's data YAML, whose train split calibrates the INT8 exports.
        calib_images (int): The calibration images (`quant.calib_images`).

    Returns:
        (Path): The ONNX file, or the OpenVINO folder (model.xml, model.bin, metadata.yaml).

    Raises:
        EngineError: The export failed (the message names the checkpoint, the engine and Ultralytics' error).
    """
    out_dir = Path(out_dir)
    if engine in BF16_ENGINES and not bf16_offered():
        raise EngineError(f"{weights}: {engine}: {NO_BF16}")
    if engine in ("onnx_cpu", "openvino_cpu", *BF16_ENGINES):
        return export_onnx(weights, out_dir, imgsz)
    if engine not in INT8_ENGINES:
        raise ValueError(f"{engine}: not an engine of an exported model ({', '.join(DEPLOY_ENGINES)})")
    from yoloslim.models.stats import load_model

    fmt = "onnx" if engine == "onnx_cpu_int8" else "openvino"
    out = out_dir / ("model_int8.onnx" if fmt == "onnx" else "model_int8_openvino_model")
    out.parent.mkdir(parents=True, exist_ok=True)
    fraction = calib_fraction(data_yaml, calib_images)
    with tempfile.TemporaryDirectory() as tmp:  # Ultralytics writes beside its input: a copy in a folder of our own
        local = Path(tmp) / "model.pt"
        shutil.copy2(weights, local)
        try:
            exported = load_model(local).export(format=fmt, quantize=8, imgsz=imgsz, batch=1, device="cpu",
                                                data=str(data_yaml), split="train", fraction=fraction)  # fmt: skip
        except Exception as err:  # Ultralytics wraps every exporter's failure; keep its words
            raise EngineError(f"{weights}: {engine} export failed: {type(err).__name__}: {err}") from err
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        with atomic_path(out) as kept:
            shutil.move(exported, kept)
    return out


def engine_runner(
    engine: str, artifact: Path, threads: int, spinning: bool = True
) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Inference of `artifact` on `engine` (a float32 NCHW batch in [0, 1] -> the first output), and the precision
    the engine runs it in.

    Args:
        engine (str): One of `DEPLOY_ENGINES`.
        artifact (Path): What `build_artifact` wrote for that engine.
        threads (int): The CPU threads (0: every core).
        spinning (bool): ONNX Runtime only: False lets idle pool threads sleep, for sessions that take turns on the
            same cores (`yoloslim.measure.interleaved`).

    Returns:
        (tuple[Callable[[np.ndarray], np.ndarray], str]): The inference, and the precision read back: "FP32", "BF16",
            "FP16" or "INT8" (an INT8 model runs its weighted operators in INT8, the rest in float).
    """
    if engine.startswith("onnx_"):
        session, feed = onnx_session(artifact, 32, threads, spinning=spinning)  # the feed's name only: any size
        name = next(iter(feed))
        return (lambda image: session.run(None, {name: image})[0]), onnx_precision(artifact)
    return openvino_runner(artifact, threads, hint=OPENVINO_HINTS.get(engine))


def check_outputs(engine: str, artifact: Path, data_yaml: Path, imgsz: int) -> None:
    """Stop a quantised model whose outputs are unusable, on a training image: NaN or infinite values, or every
    class score 0 (one INT8 scale over box pixels and scores rounds the scores away).

    Args:
        engine (str): The engine that runs `artifact`.
        artifact (Path): Its export.
        data_yaml (Path): The data YAML whose first training image is fed (resized to `imgsz`, no letterbox).
        imgsz (int): The input size.

    Raises:
        EngineError: Naming the artifact, the engine and the failed check.
    """
    import cv2

    from yoloslim.data.mirror import split_images

    image = cv2.resize(cv2.imread(str(split_images(data_yaml, "train")[0])), (imgsz, imgsz))
    batch = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255
    infer, _ = engine_runner(engine, artifact, threads=1)
    out = np.asarray(infer(batch), dtype=np.float64)
    if not np.isfinite(out).all():
        raise EngineError(f"{artifact}: {engine}: outputs unusable (NaN or infinite values on {image.shape} input)")
    if out.ndim == 3 and out.shape[1] > 4 and not np.any(out[0, 4:] > 0):
        raise EngineError(f"{artifact}: {engine}: outputs unusable (every class score is 0)")


def onnx_precision(onnx_path: Path) -> str:
    """INT8 when the graph quantises (QDQ or integer operators), else FP32."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return "INT8" if any(node.op_type in QDQ_OPS for node in graph.node) else "FP32"


def openvino_runner(
    artifact: Path, threads: int, *, hint: str | None
) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """OpenVINO CPU inference of an ONNX file or an OpenVINO folder, and the precision it actually runs in.

    Args:
        artifact (Path): An ONNX file, or a folder holding one OpenVINO `.xml` (and its `.bin`).
        threads (int): The CPU threads (0: every core), one stream, latency mode.
        hint (str | None): The inference precision asked for (`INFERENCE_PRECISION_HINT`: "f32" or "bf16"); None:
            OpenVINO's default (BF16 on CPUs with AMX, else FP32).

    Returns:
        (tuple[Callable[[np.ndarray], np.ndarray], str]): The inference (batch -> first output), and "INT8" when the
            compiled model runs quantised convolutions, else the inference precision it reports ("FP32", "BF16",
            "FP16").
    """
    import openvino as ov

    path = Path(artifact)
    model_file = next(path.glob("*.xml")) if path.is_dir() else path
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": resolve_threads(threads), "NUM_STREAMS": 1,
                              "PERFORMANCE_HINT": "LATENCY"}  # fmt: skip
    if hint:
        config["INFERENCE_PRECISION_HINT"] = hint
    compiled = ov.Core().compile_model(str(model_file), "CPU", config)
    request = compiled.create_infer_request()
    output = compiled.output(0)
    return (lambda image: request.infer({0: image})[output]), _openvino_precision(compiled)


NO_BF16 = "not measured: this CPU offers no BF16 (OpenVINO's CPU plugin lists no BF16 capability; it would run FP32)"


def bf16_offered() -> bool:
    """Whether OpenVINO's CPU plugin can run BF16 here (its OPTIMIZATION_CAPABILITIES: AMX or AVX512-BF16)."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _openvino_precision(compiled: Any) -> str:
    """INT8 when a convolution of the compiled (runtime) graph runs in i8/u8, else the inference precision hint."""
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()  # OVAny values
        if info["layerType"].astype(str) == "Convolution" and info["runtimePrecision"].astype(str) in ("i8", "u8"):
            return "INT8"
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")  # an openvino.Type: f32, bf16 or f16
    name = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
    return {"f32": "FP32", "bf16": "BF16", "f16": "FP16"}.get(name, name.upper())
