"""Interpreter runners with the steps gv-bench times separately: invoke (network forward) and
fetching the output tensor (the transmission from accelerator memory to the CPU).

LiteRT: `get_tensor` copies the output out of the interpreter's arena, the CPU-side analogue of
the NPU-to-CPU transfer. ONNX Runtime: `run` returns the output as a fresh array, so its fetch is
inside `invoke`; the fetch step then copies that array (memcpy of the same bytes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Loaded:
    runner: object
    init_ms: float


class LiteRTRunner:
    """ai-edge-litert (or tflite-runtime) interpreter, XNNPACK on the CPU, optional delegate."""

    def __init__(self, path: Path, threads: int | None, delegate: str | None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter, load_delegate
        except ImportError:  # the older package has the same Interpreter API
            from tflite_runtime.interpreter import Interpreter, load_delegate
        delegates = [load_delegate(delegate)] if delegate else None
        self.interpreter = Interpreter(
            model_path=str(path), num_threads=threads, experimental_delegates=delegates
        )
        self.interpreter.allocate_tensors()
        inp = self.interpreter.get_input_details()[0]
        out = self.interpreter.get_output_details()[0]
        self.input_index, self.output_index = inp["index"], out["index"]
        self.input_shape, self.input_dtype = tuple(inp["shape"]), np.dtype(inp["dtype"])

    def set_input(self, x: np.ndarray) -> None:
        self.interpreter.set_tensor(self.input_index, x)

    def invoke(self) -> None:
        self.interpreter.invoke()

    def fetch(self) -> np.ndarray:
        return self.interpreter.get_tensor(self.output_index)


class OnnxRunner:
    """onnxruntime session on the CPU execution provider."""

    def __init__(self, path: Path, threads: int | None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.input_shape = tuple(int(d) if isinstance(d, int) else 1 for d in inp.shape)
        self.input_dtype = np.dtype(np.float32 if "float" in inp.type else np.int8)
        self._feed: dict[str, np.ndarray] = {}
        self._out: np.ndarray | None = None

    def set_input(self, x: np.ndarray) -> None:
        self._feed = {self.input_name: x}

    def invoke(self) -> None:
        self._out = self.session.run(None, self._feed)[0]

    def fetch(self) -> np.ndarray:
        assert self._out is not None, "invoke() before fetch()"
        return self._out.copy()


def load_runner(path: Path, threads: int | None = None, delegate: str | None = None) -> Loaded:
    """Open `path` (.tflite or .onnx) and time the initialisation (load + allocate)."""
    t0 = time.perf_counter()
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        runner: object = LiteRTRunner(path, threads, delegate)
    elif suffix == ".onnx":
        if delegate:
            raise ValueError("--delegate applies to .tflite models, not ONNX")
        runner = OnnxRunner(path, threads)
    else:
        raise ValueError(f"{path}: not a .tflite or .onnx model")
    return Loaded(runner, (time.perf_counter() - t0) * 1e3)
