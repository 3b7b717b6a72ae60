"""Full-integer int8 TFLite through ai-edge-quantizer's static recipe (int8 activations, int8
per-channel weights, int8 model input and output): the route whose output vela maps 100% to the
Ethos-U NPU. (The PT2E route of litert-torch leaves float ops, which vela rejects.)"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ExportError, require
from .tflite_export import quiet


def quantize_int8(fp32: bytes, calib_inputs: np.ndarray, verbose: bool = False) -> bytes:
    """Calibrate on `calib_inputs` (M, S, S, 3) float32 (normalised NHWC crops); int8 bytes."""
    qz = require("ai_edge_quantizer.quantizer", "int8 quantisation")
    recipe = require("ai_edge_quantizer.recipe", "int8 quantisation")
    interp = require("ai_edge_litert.interpreter", "int8 quantisation")
    if len(calib_inputs) == 0:
        raise ExportError("int8 quantisation needs at least one calibration face")
    sig_list = interp.Interpreter(model_content=fp32).get_signature_list()
    (sig, io_names), = sig_list.items()
    name = io_names["inputs"][0]
    data = {sig: [{name: x[None].astype(np.float32)} for x in calib_inputs]}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "fp32.tflite"  # the quantizer reads a path or a buffer; a path is
        src.write_bytes(fp32)  # cheaper for its progress report
        try:
            with quiet(not verbose):
                q = qz.Quantizer(str(src), recipe.static_wi8_ai8())
                calibration = q.calibrate(data, num_threads=min(4, os.cpu_count() or 1))
                result = q.quantize(calibration)
        except Exception as e:
            raise ExportError(f"ai-edge-quantizer failed: {type(e).__name__}: {e}") from e
    model = bytes(result.quantized_model)
    _check_full_integer(model)
    return model


def _check_full_integer(model: bytes) -> None:
    """ExportError unless input and output are int8 and no op computes in float."""
    interp = require("ai_edge_litert.interpreter", "int8 quantisation")
    it = interp.Interpreter(model_content=model)
    io = it.get_input_details() + it.get_output_details()
    bad = [d["name"] for d in io if np.dtype(d["dtype"]) != np.int8]
    if bad:
        raise ExportError(f"int8 model still has non-int8 inputs/outputs: {bad}")
    floats = sorted({
        op["op_name"] for op in it._get_ops_details()
        if op["op_name"] in ("DEQUANTIZE",)
        or any(it._get_tensor_details(t, 0)["dtype"] == np.float32
               for t in list(op["inputs"]) + list(op["outputs"]) if t >= 0)
    })
    if floats:
        raise ExportError(f"int8 model still computes in float: {', '.join(floats)}")


def io_quantization(model: bytes) -> tuple[tuple[float, int], tuple[float, int]]:
    """((input scale, zero point), (output scale, zero point)) of an int8 model."""
    interp = require("ai_edge_litert.interpreter", "reading int8 parameters")
    it = interp.Interpreter(model_content=model)
    qi = it.get_input_details()[0]["quantization"]
    qo = it.get_output_details()[0]["quantization"]
    return (float(qi[0]), int(qi[1])), (float(qo[0]), int(qo[1]))
