""".onnx files: their metadata (`ModelProto.metadata_props`), read with a small protobuf
wire-format walk over the top-level fields (the `onnx` package is not needed on a board, and no
session is built twice), and `OnnxBackend`, the model in ONNX Runtime on the given execution
providers (CPU by default)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import DelegateError, InterpreterMissing, ModelError
from .interpreters import Backend, Options, TensorInfo


def import_onnxruntime():
    """The onnxruntime module; InterpreterMissing naming the extra when it is not installed."""
    try:
        import onnxruntime
    except ImportError as e:
        raise InterpreterMissing(
            "running .onnx models needs onnxruntime: pip install 'gaussian-vector[onnx]'"
        ) from e
    return onnxruntime


class OnnxBackend(Backend):
    """An .onnx model in ONNX Runtime on the given execution providers (CPU by default)."""

    def __init__(
        self,
        path: Path,
        *,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
    ) -> None:
        ort = import_onnxruntime()
        self.name = "onnxruntime"
        available = ort.get_available_providers()
        providers = list(providers or ["CPUExecutionProvider"])
        missing = [p for p in providers if p not in available]
        if missing:
            raise DelegateError(
                f"execution provider(s) {', '.join(missing)} not in this onnxruntime "
                f"(available: {', '.join(available)})"
            )
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelError(f"{path}: ONNX Runtime cannot load it ({e})") from e
        self.delegated = providers != ["CPUExecutionProvider"]
        ins, outs = self.session.get_inputs(), self.session.get_outputs()
        if len(ins) != 1 or len(outs) != 1:
            raise ModelError(
                f"{path}: expected one input and one output, got {len(ins)}/{len(outs)}"
            )
        self._in_name = ins[0].name
        self.input, self.output = self._info(ins[0]), self._info(outs[0])

    @staticmethod
    def _info(arg) -> TensorInfo:
        kinds = {"tensor(float)": np.float32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8}
        if arg.type not in kinds:
            raise ModelError(f"unsupported ONNX tensor type {arg.type} for {arg.name}")
        shape = tuple(d if isinstance(d, int) else 1 for d in arg.shape)
        dynamic = not isinstance(arg.shape[0], int)
        # QDQ-quantised ONNX models keep float I/O; integer I/O carries no scale here, so the
        # landmarker takes it from the metadata instead.
        return TensorInfo(shape, np.dtype(kinds[arg.type]), None, None, dynamic)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._in_name: batch})[0]


def open_backend(path: Path, options: Options) -> OnnxBackend:
    """`path` in ONNX Runtime with the options' threads and execution providers."""
    if options.delegates:
        raise DelegateError(
            "external delegates apply to .tflite models; for ONNX choose execution providers"
        )
    return OnnxBackend(path, threads=options.threads, providers=options.providers)


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _proto_fields(data: memoryview):
    """Yield (field number, wire type, value) of one protobuf message; bytes for wire type 2."""
    pos, end = 0, len(data)
    while pos < end:
        tag, pos = _varint(data, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(data, pos)
            value, pos = data[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("truncated protobuf")
        yield field, wire, value


def metadata_entries(data: bytes) -> dict[str, str]:
    """The file's metadata entries, key -> value (`onnx_metadata_props`)."""
    return onnx_metadata_props(data)


def onnx_metadata_props(data: bytes) -> dict[str, str]:
    """`ModelProto.metadata_props` (field 14: key = 1, value = 2) of a serialised ONNX model."""
    out: dict[str, str] = {}
    view = memoryview(data)  # slices of a memoryview do not copy the (large) graph field
    try:
        for field, wire, value in _proto_fields(view):
            if field == 14 and wire == 2:
                kv = {f: bytes(v) for f, w, v in _proto_fields(value) if w == 2}
                out[kv.get(1, b"").decode()] = kv.get(2, b"").decode()
    except (IndexError, ValueError, UnicodeDecodeError) as e:
        raise ModelError(f"truncated or corrupt .onnx file ({len(data):,} bytes; {e})") from e
    return out
