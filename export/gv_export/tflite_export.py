"""torch -> fp32 .tflite through litert-torch (no TensorFlow). The wrapped graph takes NHWC input
so the converter emits no input transpose and the NPU sees its native layout.

The graph is traced at batch 1 and the converter writes every RESHAPE's new shape as constants
with that 1 in it; `any_batch` puts -1 there, so the file takes any batch through LiteRT's
`resize_tensor_input` (the runtime sends all faces of a frame in one call) and still runs as
before at batch 1."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections import Counter

import numpy as np
import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.modelfile.formats import FORMATS

from . import metadata_io
from .calibration import Faces
from .errors import ExportError, require
from .wrap import input_shape, output_shape


@contextlib.contextmanager
def quiet(enabled: bool = True):
    """Silence the converters' progress lines and C++ log spam (stdout and stderr, fd level)."""
    if not enabled:
        yield
        return
    logging.disable(logging.WARNING)
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(
                io.StringIO()
            ):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            logging.disable(logging.NOTSET)


def to_tflite(wrapper: torch.nn.Module, sample: torch.Tensor, verbose: bool = False) -> bytes:
    """Convert the wrapped model traced on `sample` (1, S, S, 3) to fp32 TFLite bytes."""
    try:
        with quiet(not verbose):
            litert_torch = require("litert_torch", "TFLite export")  # noisy import
            edge = litert_torch.convert(wrapper.eval(), (sample,))
            return bytes(edge.model_content())
    except ExportError:
        raise
    except Exception as e:  # the converter raises many types; the message is what matters
        raise ExportError(f"litert-torch could not convert the model: {type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}") from e


#: TFLite tensor types a RESHAPE's shape may have -> their numpy dtype
SHAPE_TYPES = {2: np.int32, 4: np.int64}  # TensorType.INT32, INT64


def any_batch(model: bytes) -> bytes:
    """`model` with the batch of every RESHAPE's constant new shape (its first entry) made -1.

    The converter folds the traced batch of 1 into those shapes (136 = 1 x 68 rows before the
    band matrix, 1 in front of the rest), so resizing the input to N faces fails where the
    first of them no longer fits. The batch stays the outermost axis everywhere in these graphs
    (every transpose keeps axis 0), so the first entry is where it goes; gv-export's validation
    checks a batch of faces against one by one. A shape buffer another tensor also reads gets
    a copy of its own."""
    fb = require("ai_edge_litert.tools.flatbuffer_utils", "TFLite export")
    schema = require("ai_edge_litert.schema_py_generated", "TFLite export")
    obj = fb.read_model_from_bytearray(bytearray(model))
    readers = Counter(t.buffer for sg in obj.subgraphs for t in sg.tensors)
    for sg in obj.subgraphs:
        reshapes = [op for op in sg.operators
                    if fb.get_builtin_code_from_operator_code(obj.operatorCodes[op.opcodeIndex])
                    == schema.BuiltinOperator.RESHAPE]
        for op in reshapes:
            new_shape = getattr(op.builtinOptions, "newShape", None)
            if new_shape is not None and len(new_shape):
                op.builtinOptions.newShape = [-1, *list(new_shape)[1:]]
        for t in {op.inputs[1] for op in reshapes if len(op.inputs) > 1 and op.inputs[1] >= 0}:
            tensor = sg.tensors[t]
            data = obj.buffers[tensor.buffer].data
            if data is None or tensor.type not in SHAPE_TYPES or not len(data):
                continue  # a shape computed in the graph, not a constant
            shape = np.frombuffer(bytes(data), SHAPE_TYPES[tensor.type]).copy()
            shape[0] = -1
            if readers[tensor.buffer] > 1:
                obj.buffers.append(schema.BufferT())
                tensor.buffer = len(obj.buffers) - 1
            obj.buffers[tensor.buffer].data = shape.view(np.uint8)
    return bytes(fb.convert_object_to_bytearray(obj))


def convert(wrapper: torch.nn.Module, config: ModelConfig, faces: Faces, int8: bool,
            extra: dict, verbose: bool = False) -> tuple[bytes, ModelMetadata]:
    """gv-export's TFLite step: (.tflite bytes with the metadata embedded, the metadata); with
    `int8`, fully quantised, calibrated on `faces` (recorded in the metadata). Traced at batch
    1, the file takes any batch (`any_batch`)."""
    layout = FORMATS["tflite"].input_layout
    inputs = faces.inputs(config, layout)
    in_shape, out_shape = input_shape(config, layout), output_shape(config)
    data = to_tflite(wrapper, torch.from_numpy(inputs[:1]), verbose)
    if int8:
        from .quantize import io_quantization, quantize_int8

        data = quantize_int8(data, inputs, verbose)
        qin, qout = io_quantization(data)
        extra["calibration"] = {"source": faces.source, "faces": len(faces.names)}
        meta = metadata_io.build_metadata(
            config, metadata_io.tensor_spec(in_shape, "int8", layout, qin), out_shape,
            "int8", qout, extra)
    else:
        meta = metadata_io.build_metadata(
            config, metadata_io.tensor_spec(in_shape, "float32", layout), out_shape,
            extra=extra)
    return metadata_io.embed_tflite(any_batch(data), meta), meta
