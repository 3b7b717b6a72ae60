"""Writing the runtime contract (`gaussian_vector.metadata`) into exported files, and reading it
back for the checks. TFLite: one `Model.metadata` entry named `gaussian_vector` whose buffer is
the JSON text (what `gaussian_vector.modelfile.reader` reads on a board). ONNX: one
`metadata_props` entry with that key."""

from __future__ import annotations

from gaussian_vector.config import ModelConfig
from gaussian_vector.heads import head_of
from gaussian_vector.metadata import KEY, ModelMetadata, TensorSpec

from .errors import require


def tensor_spec(shape: tuple[int, ...], dtype: str, layout: str,
                quant: tuple[float, int] | None = None) -> TensorSpec:
    """A TensorSpec; `quant` = (scale, zero_point) for integer tensors."""
    scale, zp = quant if quant is not None else (None, None)
    return TensorSpec(tuple(int(s) for s in shape), dtype, layout,
                      None if scale is None else float(scale), None if zp is None else int(zp))


def build_metadata(config: ModelConfig, input_spec: TensorSpec, output_shape: tuple[int, ...],
                   output_dtype: str = "float32", output_quant: tuple[float, int] | None = None,
                   extra: dict | None = None) -> ModelMetadata:
    """The metadata of one exported model; the output layout is the head's."""
    layout = head_of(config).layout
    return ModelMetadata(config=config, input=input_spec,
                         output=tensor_spec(output_shape, output_dtype, layout, output_quant),
                         extra=dict(extra or {}))


def embed_tflite(model: bytes, meta: ModelMetadata) -> bytes:
    """The .tflite bytes with a `gaussian_vector` metadata entry (replacing an older one)."""
    fb = require("ai_edge_litert.tools.flatbuffer_utils", "writing TFLite metadata")
    schema = require("ai_edge_litert.schema_py_generated", "writing TFLite metadata")
    obj = fb.read_model_from_bytearray(bytearray(model))
    buf = schema.BufferT()
    buf.data = list(meta.to_json().encode("utf-8"))
    obj.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = KEY
    entry.buffer = len(obj.buffers) - 1
    kept = [m for m in (obj.metadata or []) if _name(m.name) != KEY]
    obj.metadata = [*kept, entry]
    return bytes(fb.convert_object_to_bytearray(obj))


def _name(name: str | bytes | None) -> str:
    return name.decode() if isinstance(name, bytes) else (name or "")


def embed_onnx(model: object, meta: ModelMetadata) -> None:
    """Set the `gaussian_vector` entry of an onnx.ModelProto's metadata_props in place."""
    props = model.metadata_props
    for i in reversed(range(len(props))):
        if props[i].key == KEY:
            del props[i]
    entry = props.add()
    entry.key, entry.value = KEY, meta.to_json()


def read_back(path: str) -> ModelMetadata:
    """The metadata as the runtime reads it (the board's own parser, not ours)."""
    from gaussian_vector.modelfile.reader import read_metadata

    return read_metadata(path)
