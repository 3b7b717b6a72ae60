"""torch -> fp32 .tflite through litert-torch (no TensorFlow). The wrapped graph takes NHWC input
so the converter emits no input transpose and the NPU sees its native layout."""

from __future__ import annotations

import contextlib
import io
import logging
import os

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


def convert(wrapper: torch.nn.Module, config: ModelConfig, faces: Faces, int8: bool,
            extra: dict, verbose: bool = False) -> tuple[bytes, ModelMetadata]:
    """gv-export's TFLite step: (.tflite bytes with the metadata embedded, the metadata); with
    `int8`, fully quantised, calibrated on `faces` (recorded in the metadata)."""
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
    return metadata_io.embed_tflite(data, meta), meta
