"""The runtime's interpreter backends, split into the steps gv-bench times separately: invoke
(network forward) and fetching the output tensor (the transmission to the CPU).

LiteRT: `get_tensor` copies the output out of the interpreter's arena, the CPU-side analogue of
the NPU-to-CPU transfer. ONNX Runtime: `run` returns a fresh output array, so its fetch is
inside `invoke`; the fetch step then copies that array (a memcpy of the same bytes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.runtime.interpreters import Backend, open_backend
from gaussian_vector.runtime.model_file import model_format, read_metadata


@dataclass
class Loaded:
    """A model opened for benchmarking, with its metadata and how long opening took."""

    runner: Runner
    metadata: ModelMetadata
    fmt: str  # "tflite" or "onnx"
    init_ms: float


class Runner:
    """invoke / fetch / set_input over a runtime Backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.input_shape = backend.input.shape
        self.input_dtype = backend.input.dtype
        self._interp = getattr(backend, "interpreter", None)
        if self._interp is not None:
            self._in = self._interp.get_input_details()[0]["index"]
            self._out = self._interp.get_output_details()[0]["index"]
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def set_input(self, x: np.ndarray) -> None:
        self._x = x
        if self._interp is not None:
            self._interp.set_tensor(self._in, x)

    def invoke(self) -> None:
        if self._interp is not None:
            self._interp.invoke()
        else:
            self._y = self.backend.run(self._x)

    def fetch(self) -> np.ndarray:
        if self._interp is not None:
            return self._interp.get_tensor(self._out)
        return self._y.copy()


def load(path: Path, threads: int | None = None, delegate: str | None = None) -> Loaded:
    """Open an exported model (.tflite or .onnx) and time loading plus tensor allocation."""
    fmt = model_format(path)
    meta = read_metadata(path)
    t0 = time.perf_counter()
    backend = open_backend(path, fmt, threads=threads, delegates=[delegate] if delegate else ())
    init_ms = (time.perf_counter() - t0) * 1e3
    return Loaded(Runner(backend), meta, fmt, init_ms)
