"""The interpreters the runtime runs models in, behind one small interface (`Backend`), and
`open_backend`, which opens a file in its format's (`formats.FORMATS`).

Each backend reports its input and output dtype and quantisation as the interpreter sees them,
whether the batch axis can grow (`resize`: whether it takes a batch of N now), and (TFLite with
external delegates) which ops stayed on the CPU. The backends themselves live with their
format: `tflite_files` (ai-edge-litert, else tflite-runtime), `onnx_files` (onnxruntime with a
list of execution providers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import numpy as np

from .delegates import Coverage, DelegateSpec
from .formats import FORMATS
from .reader import model_format


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

    def resize(self, batch: int) -> bool:
        """Whether `run` takes `batch` faces in one call now: a dynamic batch axis takes any,
        a fixed one its own (the TFLite backend resizes its interpreter, where it can)."""
        return self.input.dynamic_batch or batch == self.input.shape[0]


def tensor_quant(q: tuple, dtype: np.dtype) -> tuple[float | None, int | None]:
    """(scale, zero point) of an integer tensor from the interpreter's pair; (None, None) for a
    float one."""
    if dtype.kind == "f":
        return None, None
    scale, zp = q
    return float(scale), int(zp)


@dataclass(frozen=True)
class Options:
    """How to open a model: what every interpreter takes and what only one does (a format
    refuses options meant for another, naming them)."""

    threads: int | None = None
    delegates: Sequence[str | DelegateSpec | tuple] = ()  # TFLite external delegates
    cpu_fallback: bool = False  # TFLite: run on the CPU when a delegate fails to load
    providers: Sequence[str] | None = None  # ONNX Runtime execution providers
    kernels: str = "default"  # TFLite kernel set (tflite_files.KERNELS)


def open_backend(
    path: Path,
    fmt: str | None = None,
    *,
    threads: int | None = None,
    delegates: Sequence[str | DelegateSpec | tuple] = (),
    cpu_fallback: bool = False,
    providers: Sequence[str] | None = None,
    kernels: str = "default",
) -> Backend:
    """Load `path` in the interpreter of its format (`fmt`, a `formats.FORMATS` name; by
    default the one its suffix names)."""
    module = import_module(f"{__package__}.{FORMATS[fmt or model_format(path)].module}")
    options = Options(threads, delegates, cpu_fallback, providers, kernels)
    return module.open_backend(Path(path), options)
