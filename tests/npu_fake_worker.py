"""A stand-in vendor worker for the protocol tests: the real `npu_worker` loop with a "fake"
toolchain whose session doubles its input and, like the vendor libraries, prints to stdout from
Python and at the fd level (the replies must survive both)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

WORKER = Path(__file__).resolve().parents[1] / "python" / "gaussian_vector" / "runtime" / \
    "npu_worker.py"
spec = importlib.util.spec_from_file_location("npu_worker", WORKER)
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


class FakeSession(worker.Session):
    """(N, 2, 3) -> 2 * input; model "die" exits mid-run, model "refuse" fails to open."""

    def __init__(self, model: str, options: dict) -> None:
        print("vendor banner on stdout")
        os.write(1, b"C-level noise on fd 1\n")
        if model == "refuse":
            raise worker.WorkerFailure("the fake compiler refuses this model")
        if model == "crash":
            raise RuntimeError("segfault-ish\nlast line of the vendor error")
        self.model = model
        self.input = {"shape": [1, 2, 3], "dtype": "float32"}
        self.output = {"shape": [1, 2, 3], "dtype": "float32"}
        self.report = {"ops_total": 3, "ops_on_npu": 2, "cpu_ops": ["Reshape"], "cycles": 42,
                       "options": options}

    def run(self, batch: np.ndarray) -> np.ndarray:
        if self.model == "die":
            print("dying now", file=sys.stderr, flush=True)
            os._exit(3)
        os.write(1, b"more noise\n")
        return 2 * batch


worker.SESSIONS["fake"] = FakeSession

if __name__ == "__main__":
    sys.exit(worker.main())
