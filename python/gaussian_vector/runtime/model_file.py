"""Read the `gaussian_vector` metadata out of an exported model without loading it to run.

TFLite: the model's `metadata` table (name -> buffer index) in the flatbuffer, read with a small
pure-Python flatbuffer walk, so a board needs neither `flatbuffers` nor `tflite` packages.
ONNX: `ModelProto.metadata_props`, read with a small protobuf wire-format walk over the top-level
fields (the `onnx` package is not needed on a board, and no session is built twice).
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..metadata import KEY, ModelMetadata
from .errors import ModelError

FORMATS = {".tflite": "tflite", ".onnx": "onnx"}


def model_format(path: str | Path) -> str:
    """'tflite' or 'onnx' from the file suffix; ModelError for anything else."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        hint = " (export a checkpoint with gv-export first)" if p.suffix == ".pt" else ""
        raise ModelError(f"{p}: not a .tflite or .onnx model{hint}")
    return fmt


class _FlatTable:
    """Just enough of the flatbuffer wire format to read tables, vectors, strings and scalars."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self._vt, self._vt_len = vtable, struct.unpack_from("<H", buf, vtable)[0]

    def _field(self, i: int) -> int:
        off = 4 + 2 * i
        if off >= self._vt_len:
            return 0
        rel = struct.unpack_from("<H", self.buf, self._vt + off)[0]
        return self.pos + rel if rel else 0

    def _deref(self, p: int) -> int:
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def scalar(self, i: int, fmt: str, default: int = 0) -> int:
        p = self._field(i)
        return struct.unpack_from("<" + fmt, self.buf, p)[0] if p else default

    def vector(self, i: int) -> tuple[int, int]:
        """(start of the elements, element count), or (0, 0) when absent."""
        p = self._field(i)
        if not p:
            return 0, 0
        v = self._deref(p)
        return v + 4, struct.unpack_from("<I", self.buf, v)[0]

    def tables(self, i: int) -> list[_FlatTable]:
        start, n = self.vector(i)
        return [_FlatTable(self.buf, self._deref(start + 4 * j)) for j in range(n)]

    def string(self, i: int) -> str:
        start, n = self.vector(i)
        return self.buf[start:start + n].decode("utf-8", "replace")


def tflite_metadata_entries(data: bytes) -> dict[str, bytes]:
    """All `Model.metadata` entries of a .tflite flatbuffer, name -> buffer bytes."""
    try:
        model = _FlatTable(data, struct.unpack_from("<I", data, 0)[0])
        buffers = model.tables(4)  # Model.buffers
        out: dict[str, bytes] = {}
        for entry in model.tables(6):  # Model.metadata: (name: string, buffer: uint)
            buf = buffers[entry.scalar(1, "I")]
            start, n = buf.vector(0)  # Buffer.data
            if n:
                out[entry.string(0)] = bytes(data[start:start + n])
            else:  # large models keep buffer data after the flatbuffer: offset, size
                off, size = buf.scalar(1, "Q"), buf.scalar(2, "Q")
                out[entry.string(0)] = bytes(data[off:off + size]) if off > 1 else b""
        return out
    except (struct.error, IndexError) as e:  # an offset past the end of the bytes
        raise ModelError(f"truncated or corrupt .tflite file ({len(data):,} bytes; its "
                         "flatbuffer points past them)") from e
    except ValueError as e:
        raise ModelError(f"corrupt .tflite file ({e})") from e


def read_metadata(path: str | Path) -> ModelMetadata:
    """The model's gaussian-vector metadata; ModelError naming the file when it is not ours."""
    p = Path(path)
    fmt = model_format(p)
    if not p.is_file():
        raise ModelError(f"model not found: {p}")
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: the file is empty (an interrupted download or copy?)")
    if fmt == "tflite":
        data = p.read_bytes()
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise ModelError(f"{p}: not a TFLite model (no TFL3 identifier)")
    try:
        entries = tflite_metadata_entries(data) if fmt == "tflite" else _onnx_metadata(p)
    except ModelError as e:  # the readers know the bytes, not the file: name it
        raise ModelError(f"{p}: {e}") from e
    text = entries.get(KEY)
    if text is None:
        raise ModelError(
            f"{p}: no '{KEY}' metadata, so this is not a gaussian-vector model "
            "(export it with gv-export)"
        )
    try:
        return ModelMetadata.from_json(text)
    except ValueError as e:
        raise ModelError(f"{p}: {e}") from e


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


def _onnx_metadata(path: Path) -> dict[str, str]:
    return onnx_metadata_props(path.read_bytes())
