"""NPU vendor simulators as interpreters: a model for a Rockchip or Qualcomm NPU (or a .tflite
for a Cortex-M's TFLM) runs in its vendor's simulator, in a worker process started with that
toolchain's own environment (tools/npu_env.sh creates .venv-qnn, .venv-rknn, .venv-tflm). The
vendor packages conflict with ours, so nothing here imports them: requests go to
`npu_worker.py` as JSON lines, arrays as .npy files (docs/npu.md).

- `find_python(toolchain)`: the environment's python, or `ToolchainMissing` naming the script;
- `Worker`: one worker process, `call(cmd, **args)` -> its reply;
- `SimulatorBackend`: a `Backend` whose `run` goes through the simulator, so `Landmarker` (and so
  gv-eval) runs an NPU model as a board would, bit for bit as far as the simulator is;
- `simulated_model(path)`: whether a file is one (a .rknn with its sidecar, or an ONNX whose
  metadata says it was exported for the QNN HTP), and `open_simulated` to load it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import weakref
from pathlib import Path

import numpy as np

from ..metadata import ModelMetadata
from ..modelfile.errors import InterpreterMissing, ModelError, RuntimeFailure
from ..modelfile.interpreters import Backend, TensorInfo

WORKER = Path(__file__).with_name("npu_worker.py")
#: toolchain -> (what installs it, what it simulates)
TOOLCHAINS = {
    "qnn": ("onnxruntime-qnn 2.7.0", "the Qualcomm HTP simulator"),
    "rknn": ("rknn-toolkit2 2.5.0", "the Rockchip NPU simulator"),
    "tflm": ("tflite-micro", "the TensorFlow Lite Micro interpreter"),
}
#: `extra.runs_on` of ONNX models that run in a simulator here, and their toolchain
SIMULATED_ONNX = {"qnn-htp": "qnn"}
#: the sidecar beside a .rknn: metadata and how to rebuild it for the simulator
SIDECAR_SUFFIX = ".json"
BUNDLE_SUFFIX = ".sim"
ENV_SCRIPT = "tools/npu_env.sh"


class ToolchainMissing(InterpreterMissing):
    """An NPU vendor environment that has not been created (names the script that does)."""


class WorkerError(RuntimeFailure, RuntimeError):
    """The vendor worker refused a request or died; the message is its one line."""


def _roots() -> list[Path]:
    """Where environments are looked for: $GV_NPU_ENV_DIR, the source tree this package lives
    in, the working directory."""
    roots = []
    if os.environ.get("GV_NPU_ENV_DIR"):
        roots.append(Path(os.environ["GV_NPU_ENV_DIR"]))
    tree = Path(__file__).resolve().parents[3]
    if (tree / ENV_SCRIPT).is_file():
        roots.append(tree)
    roots.append(Path.cwd())
    return roots


def find_python(toolchain: str) -> Path:
    """The python of `toolchain`'s environment: $GV_NPU_PYTHON_<NAME> if set, else
    .venv-<name> under the roots; ToolchainMissing in one line naming the script otherwise."""
    if toolchain not in TOOLCHAINS:
        raise ValueError(f"unknown NPU toolchain {toolchain!r}; known: {', '.join(TOOLCHAINS)}")
    given = os.environ.get(f"GV_NPU_PYTHON_{toolchain.upper()}")
    if given:
        if not Path(given).is_file():
            raise ToolchainMissing(f"GV_NPU_PYTHON_{toolchain.upper()}={given} does not exist")
        return Path(given)
    for root in _roots():
        py = root / f".venv-{toolchain}" / "bin" / "python"
        if py.is_file():
            return py
    package, what = TOOLCHAINS[toolchain]
    raise ToolchainMissing(f"{what} needs the {toolchain} toolchain ({package}) in its own "
                           f"environment: run {ENV_SCRIPT} {toolchain} (creates "
                           f".venv-{toolchain})")


class Worker:
    """One worker process of a toolchain's environment; `call` sends a request and returns the
    reply, WorkerError on a refusal or a dead worker (with the last line it printed)."""

    def __init__(self, toolchain: str, python: str | Path | None = None,
                 script: str | Path = WORKER) -> None:
        self.toolchain = toolchain
        python = Path(python) if python else find_python(toolchain)
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the worker
            prefix=f"gv-{toolchain}-", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONNOUSERSITE"] = "1"
        self.proc = subprocess.Popen([str(python), str(script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     env=env)

    @property
    def log_path(self) -> Path:
        """Everything the worker and the vendor libraries printed."""
        return Path(self._log.name)

    def call(self, cmd: str, **args: object) -> dict:
        if self.proc.poll() is not None:
            raise WorkerError(f"the {self.toolchain} worker has exited: {self._last_line()}")
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.proc.wait()
            raise WorkerError(f"the {self.toolchain} worker died (exit {self.proc.returncode})"
                              f": {self._last_line()}")
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            raise WorkerError(f"the {self.toolchain} worker answered {line.strip()[:80]!r}, "
                              "not JSON") from None
        if not reply.get("ok"):
            raise WorkerError(f"{self.toolchain}: {reply.get('error', 'failed')}")
        return reply

    def _last_line(self) -> str:
        self._log.flush()
        lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines()
                 if ln.strip()]
        return lines[-1].strip() if lines else "no output"

    def close(self) -> None:
        """Ask the worker to exit (kill it if it will not), and drop its log."""
        if self.proc.poll() is None:
            with contextlib.suppress(WorkerError):
                self.call("close")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimulatorBackend(Backend):
    """A model open in its vendor's simulator: float32 normalised crops in, float32 outputs out
    (the worker quantises and dequantises as the model's own I/O says). `report` holds what the
    toolchain measured: ops on the NPU, cycles and memory where its compiler estimates them."""

    def __init__(self, toolchain: str, model: str | Path, options: dict | None = None, *,
                 worker: Worker | None = None) -> None:
        self.worker = worker or Worker(toolchain)
        self.name = f"{toolchain} simulator"
        self.delegated = True
        try:
            reply = self.worker.call("open", toolchain=toolchain, model=str(model),
                                     options=options or {})
        except BaseException:
            self.worker.close()
            raise
        self.report: dict = reply["report"]
        self.input = TensorInfo(tuple(reply["input"]["shape"]), np.dtype(np.float32))
        self.output = TensorInfo(tuple(reply["output"]["shape"]), np.dtype(np.float32))
        self.cpu_ops = list(self.report.get("cpu_ops") or [])
        self._tmp = tempfile.mkdtemp(prefix="gv-sim-")
        # a backend dropped without close() (a Landmarker's) still ends its worker
        self._release = weakref.finalize(self, _release, self.worker, self._tmp)

    def run(self, batch: np.ndarray) -> np.ndarray:
        src, dst = Path(self._tmp) / "in.npy", Path(self._tmp) / "out.npy"
        np.save(src, np.ascontiguousarray(batch, np.float32))
        reply = self.worker.call("run", input=str(src), output=str(dst))
        self.report = reply.get("report", self.report)
        return np.load(dst)

    def close(self) -> None:
        """End the worker and drop the exchange folder (once; later calls do nothing)."""
        self._release()

    def __enter__(self) -> SimulatorBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release(worker: Worker, tmp: str) -> None:
    worker.close()
    for p in Path(tmp).glob("*.npy"):
        p.unlink()
    Path(tmp).rmdir()


# --------------------------------------------------------------------------- model files
def sidecar(path: str | Path) -> Path:
    """X.rknn -> X.rknn.json: the metadata and the simulator's rebuild options."""
    return Path(str(path) + SIDECAR_SUFFIX)


def bundle_dir(path: str | Path) -> Path:
    """X.rknn -> X.rknn.sim/: the quantised model the simulator compiles (rknn-toolkit2's
    hybrid-quantisation files)."""
    return Path(str(path) + BUNDLE_SUFFIX)


def read_sidecar(path: str | Path) -> tuple[ModelMetadata, dict]:
    """(metadata, simulator options) of a .rknn from its sidecar; ModelError naming it."""
    side = sidecar(path)
    if not side.is_file():
        raise ModelError(f"{path}: no {side.name} beside it (gv-export --npu writes the "
                         "metadata there; a .rknn alone runs only on a board)")
    try:
        doc = json.loads(side.read_text())
        return ModelMetadata.from_json(json.dumps(doc["metadata"])), dict(doc["simulator"])
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{side}: not a gv-export sidecar ({e})") from None


def simulated_model(path: str | Path) -> str | None:
    """The toolchain whose simulator runs `path` (a .rknn, or an ONNX exported for the QNN
    HTP), else None: an ordinary model for the runtime's interpreters."""
    p = Path(path)
    if p.suffix.lower() == ".rknn":
        return "rknn"
    if p.suffix.lower() == ".onnx" and p.is_file():
        from ..modelfile.reader import read_metadata

        try:
            runs_on = read_metadata(p).extra.get("runs_on")
        except ModelError:
            return None
        return SIMULATED_ONNX.get(runs_on)
    return None


def open_simulated(path: str | Path) -> tuple[SimulatorBackend, ModelMetadata]:
    """(backend in the simulator, metadata) of an NPU model file (`simulated_model`)."""
    p = Path(path)
    toolchain = simulated_model(p)
    if toolchain is None:
        raise ModelError(f"{p}: not a model for an NPU simulator (.rknn, or a gv-export "
                         "--npu qnn-htp ONNX)")
    if toolchain == "rknn":
        meta, options = read_sidecar(p)
        bundle = bundle_dir(p)
        if not bundle.is_dir():
            raise ModelError(f"{p}: its simulator bundle {bundle.name}/ is missing")
        options = {**options, "bundle": str(bundle)}
        return SimulatorBackend("rknn", p, options), meta
    from ..modelfile.reader import read_metadata

    return SimulatorBackend(toolchain, p), read_metadata(p)


def simulated_pipeline(path: str | Path, rules: object = None, min_score: float = 0.0, *,
                       flip_test: bool = False):
    """A `FacePipeline` running `path` in its simulator (gv-eval's hook), or None when the
    file is an ordinary model for the runtime's interpreters."""
    if simulated_model(path) is None:
        return None
    from .landmarker import Landmarker
    from .pipeline import FacePipeline

    backend, meta = open_simulated(path)
    return FacePipeline(Landmarker(backend, meta, Path(path), rules=rules, flip_test=flip_test),
                        min_score=min_score)
