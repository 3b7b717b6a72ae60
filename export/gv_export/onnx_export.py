"""torch -> .onnx through torch.onnx (the dynamo exporter, onnxscript), opset 18, checked with
onnx.checker, with the metadata in metadata_props. Input is NCHW: what ONNX Runtime and most
ONNX toolchains run natively and what `preprocess.normalise` returns (docs/export.md). The batch
axis is dynamic ("batch"), so the runtime sends all faces of an image in one call."""

from __future__ import annotations

import io
import warnings

import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.heads import head_of
from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.modelfile.formats import FORMATS

from . import metadata_io
from .calibration import Faces
from .errors import ExportError, require
from .metadata_io import embed_onnx
from .tflite_export import quiet
from .wrap import input_shape, output_shape

OPSET = 18
#: Upper bound the exporter's shape guards use for the dynamic batch axis.
MAX_BATCH = 1024


def to_onnx(wrapper: torch.nn.Module, sample: torch.Tensor, meta: ModelMetadata,
            verbose: bool = False, dynamic_batch: bool = True) -> bytes:
    """The wrapped model traced on `sample` (1, 3, S, S) as checked ONNX bytes with metadata;
    the batch axis is left dynamic unless `dynamic_batch` is False (NPU compilers want 1)."""
    onnx = require("onnx", "ONNX export")
    require("onnxscript", "ONNX export")
    try:
        with quiet(not verbose), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                wrapper.eval(), (sample,), dynamo=True, opset_version=OPSET,
                input_names=["image"], output_names=[head_of(meta.config).output_name],
                optimize=True, verify=False,
                dynamic_shapes=(({0: torch.export.Dim("batch", min=1, max=MAX_BATCH)},)
                                if dynamic_batch else None),
            )
            proto = program.model_proto
    except Exception as e:
        raise ExportError(f"torch.onnx could not export the model: {type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}") from e
    drop_stack_traces(proto)
    embed_onnx(proto, meta)
    proto.producer_name = "gv-export"
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"the exported ONNX model fails onnx.checker: "
                          f"{str(e).splitlines()[0]}") from e
    buf = io.BytesIO()
    onnx.save_model(proto, buf)
    return buf.getvalue()


#: node metadata torch.onnx writes that holds this checkout's absolute paths and line numbers
STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


def drop_stack_traces(proto) -> None:
    """Remove the Python stack traces torch.onnx stores on every node: they name this machine's
    paths and the source's line numbers, so without this the same model exported from another
    checkout, or after an edit that only moves lines, gives other bytes."""
    for graph in [proto.graph, *(f for f in getattr(proto, "functions", []))]:
        for node in graph.node:
            keep = [p for p in node.metadata_props if p.key != STACK_TRACE_KEY]
            if len(keep) != len(node.metadata_props):
                del node.metadata_props[:]
                node.metadata_props.extend(keep)


def convert(wrapper: torch.nn.Module, config: ModelConfig, faces: Faces, int8: bool,
            extra: dict, verbose: bool = False) -> tuple[bytes, ModelMetadata]:
    """gv-export's ONNX step: (checked .onnx bytes with the metadata embedded, the metadata).
    fp32 only (`modelfile.formats`: no full-int8 ONNX files)."""
    layout = FORMATS["onnx"].input_layout
    sample = torch.from_numpy(faces.inputs(config, layout)[:1])
    meta = metadata_io.build_metadata(
        config, metadata_io.tensor_spec(input_shape(config, layout), "float32", layout),
        output_shape(config), extra=extra)
    return to_onnx(wrapper, sample, meta, verbose), meta
