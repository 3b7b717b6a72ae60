""".tflite files: their metadata, read with a small pure-Python flatbuffer walk (a board needs
neither the `flatbuffers` nor the `tflite` package), and `TFLiteBackend`, the model in LiteRT
(ai-edge-litert, else tflite-runtime: the same `Interpreter` API, for boards whose vendor ships
that)."""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .delegates import DelegateSpec, coverage, load_delegates, undelegated_ops
from .errors import DelegateError, InterpreterMissing, ModelError
from .interpreters import Backend, Options, TensorInfo, tensor_quant
from .quiet import litert_info_filtered


def import_litert():
    """(Interpreter class, load_delegate, OpResolverType or None) from ai-edge-litert or
    tflite-runtime; InterpreterMissing naming the extra when neither is installed."""
    try:
        from ai_edge_litert import interpreter as mod
    except ImportError:
        try:
            from tflite_runtime import interpreter as mod
        except ImportError as e:
            raise InterpreterMissing(
                "running .tflite models needs ai-edge-litert (or tflite-runtime): "
                "pip install 'gaussian-vector[tflite]'"
            ) from e
    return mod.Interpreter, mod.load_delegate, getattr(mod, "OpResolverType", None)


#: TFLite kernel sets: "default" = XNNPACK plus the optimised builtins (what a board wants),
#: "builtin" = the optimised builtins without XNNPACK, "reference" = the plain reference kernels
#: (slow; for emulators such as qemu-user, where the optimised ARM kernels may not run).
KERNELS = ("default", "builtin", "reference")


def resolver_kwargs(resolver, kernels: str) -> dict:
    """Interpreter keyword arguments selecting a kernel set (see KERNELS)."""
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, got {kernels!r}")
    if kernels == "default":
        return {}
    if resolver is None:
        raise InterpreterMissing(f"this interpreter package cannot select {kernels!r} kernels")
    kind = "BUILTIN_REF" if kernels == "reference" else "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    return {"experimental_op_resolver_type": getattr(resolver, kind)}


class TFLiteBackend(Backend):
    """A .tflite model in LiteRT. The default XNNPACK delegate runs it on the CPU; an external
    delegate replaces it (then XNNPACK is switched off so the CPU-op report is exact). A file
    traced at batch 1 runs N faces in one call after `resize` (gv-export writes its reshapes
    for any batch)."""

    def __init__(
        self,
        path: Path,
        *,
        threads: int | None = None,
        delegates: Sequence[str | DelegateSpec | tuple] = (),
        cpu_fallback: bool = False,
        kernels: str = "default",
    ) -> None:
        interpreter_cls, load_delegate, resolver = import_litert()
        self.name = interpreter_cls.__module__.split(".")[0]
        base = {"model_path": str(path), "num_threads": threads,
                **resolver_kwargs(resolver, kernels)}
        loaded = load_delegates(delegates, load_delegate, cpu_fallback=cpu_fallback)
        kwargs = dict(base)
        if loaded:
            kwargs["experimental_delegates"] = loaded
            if resolver is not None and kernels == "default":
                kwargs.update(resolver_kwargs(resolver, "builtin"))
        try:
            with litert_info_filtered():
                self.interpreter = interpreter_cls(**kwargs)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            if loaded and not cpu_fallback:
                libs = ", ".join(DelegateSpec.parse(d).library for d in delegates)
                raise DelegateError(f"delegate {libs} could not take {path}: {e}") from e
            if not loaded:
                raise ModelError(f"{path}: LiteRT cannot load it ({e})") from e
            with litert_info_filtered():
                self.interpreter = interpreter_cls(**base)
                self.interpreter.allocate_tensors()
            loaded = []
        self.delegated = bool(loaded)
        self.cpu_ops = undelegated_ops(self.interpreter) if loaded else None
        self.coverage = coverage(self.interpreter)
        ins, outs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise ModelError(
                f"{path}: expected one input and one output, got {len(ins)}/{len(outs)}"
            )
        self.input, self.output = self._info(ins[0]), self._info(outs[0])
        self._in_index, self._out_index = ins[0]["index"], outs[0]["index"]
        self._batch = self.input.shape[0]  # the batch the interpreter is allocated for now
        self._path = path
        #: False once the interpreter refused another batch (a file whose graph fixes it)
        self.resizable: bool | None = True if self.input.dynamic_batch else None

    @staticmethod
    def _info(d: dict) -> TensorInfo:
        dtype = np.dtype(d["dtype"])
        sig = d.get("shape_signature")
        dynamic = sig is not None and len(sig) > 0 and int(sig[0]) == -1
        scale, zp = tensor_quant(d["quantization"], dtype)
        return TensorInfo(tuple(int(s) for s in d["shape"]), dtype, scale, zp, dynamic)

    def resize(self, batch: int) -> bool:
        """Allocate the interpreter for `batch` faces (it stays there until another batch
        comes); False, and the interpreter back at its batch, where the file's graph cannot
        take it (a RESHAPE with the traced batch in it: files gv-export wrote before it made
        them -1). That is tried once: after it the file runs one face per call, with one
        warning on the `gaussian_vector.runtime` logger."""
        if batch == self._batch:
            return True
        if self.resizable is False or batch < 1:
            return False
        try:
            self._allocate(batch)
        except (RuntimeError, ValueError) as e:
            self.resizable = False
            self._allocate(self.input.shape[0])
            logging.getLogger("gaussian_vector.runtime").warning(
                "%s takes no batch of %d faces (%s): its faces run one per call; re-export "
                "it with gv-export to run them in one", self._path.name, batch,
                str(e).splitlines()[0] if str(e) else type(e).__name__)
            return False
        self.resizable = True
        return True

    def _allocate(self, batch: int) -> None:
        with litert_info_filtered():
            self.interpreter.resize_tensor_input(self._in_index, [batch, *self.input.shape[1:]])
            self.interpreter.allocate_tensors()
        self._batch = batch

    def run(self, batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        if n != self._batch and not self.resize(n):
            raise ValueError(f"this model takes batches of {self._batch}, got {n}")
        self.interpreter.set_tensor(self._in_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out_index)


def open_backend(path: Path, options: Options) -> TFLiteBackend:
    """`path` in LiteRT with the options' threads, delegates and kernels."""
    if options.providers:
        raise ValueError("execution providers apply to ONNX models, not .tflite")
    return TFLiteBackend(path, threads=options.threads, delegates=options.delegates,
                         cpu_fallback=options.cpu_fallback, kernels=options.kernels)


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


def metadata_entries(data: bytes) -> dict[str, bytes]:
    """The file's metadata entries (see `tflite_metadata_entries`), after checking it is a
    TFLite flatbuffer at all."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError("not a TFLite model (no TFL3 identifier)")
    return tflite_metadata_entries(data)
