"""The interpreters the runtime runs models in, behind one small interface (`Backend`).

TFLite: ai-edge-litert, else tflite-runtime (the same `Interpreter` API, for boards whose vendor
ships that). ONNX: onnxruntime with a list of execution providers. Each backend reports its input
and output dtype and quantisation as the interpreter sees them, whether the batch axis can grow,
and (TFLite with external delegates) which ops stayed on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .delegates import Coverage, DelegateSpec, coverage, load_delegates, undelegated_ops
from .errors import DelegateError, InterpreterMissing, ModelError
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


def import_onnxruntime():
    """The onnxruntime module; InterpreterMissing naming the extra when it is not installed."""
    try:
        import onnxruntime
    except ImportError as e:
        raise InterpreterMissing(
            "running .onnx models needs onnxruntime: pip install 'gaussian-vector[onnx]'"
        ) from e
    return onnxruntime


@dataclass(frozen=True)
class TensorInfo:
    """What the interpreter says about one input or output tensor."""

    shape: tuple[int, ...]  # batch axis as the model has it (1 for a static batch of one)
    dtype: np.dtype
    scale: float | None = None  # affine quantisation of integer tensors
    zero_point: int | None = None
    dynamic_batch: bool = False


class Backend:
    """One loaded model: `run(batch)` -> the (single) output array for that batch."""

    name = "?"
    input: TensorInfo
    output: TensorInfo
    delegated: bool = False
    #: ops that stayed on the CPU next to an external delegate; None where the interpreter
    #: cannot tell (ONNX Runtime, or no delegate in use).
    cpu_ops: list[str] | None = None
    #: TFLite: how the delegates (XNNPACK by default) split the model; None for ONNX Runtime
    coverage: Coverage | None = None

    def run(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


def _quant(q: tuple, dtype: np.dtype) -> tuple[float | None, int | None]:
    if dtype.kind == "f":
        return None, None
    scale, zp = q
    return float(scale), int(zp)


class TFLiteBackend(Backend):
    """A .tflite model in LiteRT. The default XNNPACK delegate runs it on the CPU; an external
    delegate replaces it (then XNNPACK is switched off so the CPU-op report is exact)."""

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
        self._batch = self.input.shape[0]

    @staticmethod
    def _info(d: dict) -> TensorInfo:
        dtype = np.dtype(d["dtype"])
        sig = d.get("shape_signature")
        dynamic = sig is not None and len(sig) > 0 and int(sig[0]) == -1
        scale, zp = _quant(d["quantization"], dtype)
        return TensorInfo(tuple(int(s) for s in d["shape"]), dtype, scale, zp, dynamic)

    def run(self, batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        if n != self._batch:
            if not self.input.dynamic_batch:
                raise ValueError(f"this model takes batches of {self._batch}, got {n}")
            self.interpreter.resize_tensor_input(self._in_index, list(batch.shape))
            self.interpreter.allocate_tensors()
            self._batch = n
        self.interpreter.set_tensor(self._in_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out_index)


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


def open_backend(
    path: Path,
    fmt: str,
    *,
    threads: int | None = None,
    delegates: Sequence[str | DelegateSpec | tuple] = (),
    cpu_fallback: bool = False,
    providers: Sequence[str] | None = None,
    kernels: str = "default",
) -> Backend:
    """Load `path` in the interpreter for its format ('tflite' or 'onnx')."""
    if fmt == "tflite":
        if providers:
            raise ValueError("execution providers apply to ONNX models, not .tflite")
        return TFLiteBackend(path, threads=threads, delegates=delegates,
                             cpu_fallback=cpu_fallback, kernels=kernels)
    if delegates:
        raise DelegateError(
            "external delegates apply to .tflite models; for ONNX choose execution providers"
        )
    return OnnxBackend(path, threads=threads, providers=providers)
