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
from gaussian_vector.modelfile.interpreters import Backend, open_backend
from gaussian_vector.modelfile.reader import model_format, read_metadata
from gaussian_vector.modelfile.tflite_files import import_litert


@dataclass
class Loaded:
    """A model opened for benchmarking, with its metadata and how long opening took."""

    runner: Runner | PeerRunner
    metadata: ModelMetadata | None  # None for a --peer (not ours)
    fmt: str  # "tflite" or "onnx"
    init_ms: float


class Runner:
    """invoke / fetch / set_input over a runtime Backend."""

    coverage = None  # TFLite: how XNNPACK (or a delegate) split the model

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.input_shape = backend.input.shape
        self.input_dtype = backend.input.dtype
        self._interp = getattr(backend, "interpreter", None)
        self.coverage = backend.coverage
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


class PeerRunner:
    """invoke / fetch / set_input over a LiteRT interpreter holding another model (any number
    of outputs, no metadata): a --peer, timed on the same interpreter and threads as ours."""

    def __init__(self, interpreter) -> None:
        from gaussian_vector.modelfile.delegates import coverage

        self._interp = interpreter
        ins = interpreter.get_input_details()
        if len(ins) != 1:
            raise ValueError(f"a peer model needs one input, this one has {len(ins)}")
        self._in = ins[0]["index"]
        self.input_shape = tuple(int(d) for d in ins[0]["shape"])
        self.input_dtype = np.dtype(ins[0]["dtype"])
        self._outs = [d["index"] for d in interpreter.get_output_details()]
        self.coverage = coverage(interpreter)

    def set_input(self, x: np.ndarray) -> None:
        self._interp.set_tensor(self._in, x)

    def invoke(self) -> None:
        self._interp.invoke()

    def fetch(self) -> np.ndarray:
        """All outputs, concatenated (the bytes a board would read back)."""
        return np.concatenate([self._interp.get_tensor(i).ravel() for i in self._outs])


def load_peer(path: Path, threads: int | None = None) -> Loaded:
    """Open another landmark model (.tflite) in LiteRT with the default XNNPACK delegate."""
    from gaussian_vector.modelfile.quiet import litert_info_filtered

    interpreter_cls, _, _ = import_litert()
    t0 = time.perf_counter()
    with litert_info_filtered():
        interp = interpreter_cls(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
    init_ms = (time.perf_counter() - t0) * 1e3
    return Loaded(PeerRunner(interp), None, "tflite", init_ms)
