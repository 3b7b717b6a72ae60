"""The NPU toolchain worker: run with a vendor environment's python (tools/npu_env.sh), never
imported by the main environment's code paths that run models. It holds one model open in the
vendor's simulator and answers JSON requests, one per line, on stdin/stdout; arrays travel as
.npy files (docs/npu.md, "The worker").

    {"cmd": "open", "toolchain": "qnn"|"rknn"|"tflm", "model": PATH, "options": {...}}
        -> {"ok": true, "input": {"shape", "dtype"}, "output": {...}, "report": {...}}
    {"cmd": "run", "input": IN.npy, "output": OUT.npy}  (N, ...) float32 -> (N, ...) float32
        -> {"ok": true, "shape": [...]}
    {"cmd": "probe", "toolchain": NAME} -> {"ok": true, "versions": {...}}
    {"cmd": "close"} -> {"ok": true}, then exit

A failure is {"ok": false, "error": ONE LINE}. Vendor libraries print to stdout from C, so the
replies go to a duplicate of the original stdout and fd 1 is pointed at stderr (or at a build
log while the rknn compiler runs, whose per-layer table is the report's source).

Only the standard library and numpy are imported at the top: the main environment imports this
module to test the protocol and the log parsers without any vendor package.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

#: the vendor package each toolchain imports (probe reports its version)
PACKAGES = {"qnn": ("onnxruntime", "onnxruntime_qnn"), "rknn": ("rknn.api",),
            "tflm": ("tflite_micro",)}

_RKNN_ROW = re.compile(r"^(?:D RKNN: \[[^\]]*\] ?)?(.*)$")
_MEMORY = re.compile(r"Total (Internal|Weight) Memory Size:\s*([0-9.]+)\s*([KMG]?B)")
_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


class WorkerFailure(Exception):
    """A request the worker cannot serve; its message is the one-line error reply."""


# --------------------------------------------------------------------------- log parsers
def parse_rknn_log(text: str) -> dict:
    """The rknn compiler's verbose build log -> ops (total, on the NPU, the others by type),
    estimated cycles (the sum of each layer's total) and memory (internal + weights, bytes).

    Rows are the 'Network Layer Information Table'; its Input/OutputOperator rows are the
    runtime's I/O copies, not ops of the model, and are left out."""
    rows: list[list[str]] = []
    state = 0  # 0: before the table, 1: title seen, 2: inside the rows
    memory: dict[str, int] = {}
    for line in text.splitlines():
        body = _RKNN_ROW.match(line.rstrip()).group(1)
        if state == 0 and "Network Layer Information Table" in body:
            state = 1
        elif state == 1 and body.startswith("ID "):
            state = 2
        elif state == 2:
            if body.startswith("---"):
                state = 3 if rows else 2
            elif body.strip():
                rows.append(body.split())
        m = _MEMORY.search(body)
        if m:
            memory[m.group(1).lower()] = int(float(m.group(2)) * _UNITS[m.group(3)])
    if not rows:
        raise WorkerFailure("the rknn build log has no layer table (was verbose logging on?)")
    ops = [r for r in rows if len(r) > 3 and r[1] not in ("InputOperator", "OutputOperator")]
    cycles = 0
    for r in ops:
        parts = next((f.split("/") for f in r if f.count("/") == 2 and f[0].isdigit()), None)
        cycles += int(parts[2]) if parts and parts[2].isdigit() else 0
    off = [r[1] for r in ops if r[3] != "NPU"]
    return {"ops_total": len(ops), "ops_on_npu": len(ops) - len(off), "cpu_ops": off,
            "cycles": cycles, "memory_bytes": sum(memory.values()) if memory else None,
            "internal_bytes": memory.get("internal"), "weight_bytes": memory.get("weight")}


def parse_qnn_trace(trace: dict) -> dict:
    """QNN EP's framework op trace (enable_framework_op_trace) -> ONNX nodes in total and on
    the HTP, the QNN ops they became, and the unsupported nodes by op type."""
    s = trace.get("summary") or {}
    total, supported = int(s.get("total_onnx_nodes", 0)), int(s.get("supported_nodes", 0))
    bad = trace.get("unsupported_nodes") or []
    kinds = [n.get("op_type", n.get("type", "?")) if isinstance(n, dict) else str(n)
             for n in bad]
    return {"ops_total": total, "ops_on_npu": supported, "cpu_ops": kinds,
            "npu_ops": int(s.get("total_qnn_ops", 0)),
            "subgraphs": int(s.get("qnn_subgraphs", 0)), "cycles": None, "memory_bytes": None}


# --------------------------------------------------------------------------- toolchains
class Session:
    """One open model: `run` maps (N, ...) float32 to the outputs, one sample at a time."""

    input: dict
    output: dict
    report: dict

    def run(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@contextlib.contextmanager
def fd_to(path: Path) -> Iterator[None]:
    """fds 1 and 2 (C and Python output alike) into `path` for the block, then back to
    stderr / stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.dup2(saved, 1)
        os.close(saved)


class QnnSession(Session):
    """A QDQ ONNX model in ONNX Runtime's QNN provider on the HTP backend, which on an x86
    host is Qualcomm's HTP simulator. CPU fallback is off, so opening proves that every node
    runs on the HTP; when it cannot, the model is opened again with fallback on, so the report
    names what stays on the CPU."""

    registered = False

    def __init__(self, model: str, options: dict) -> None:
        import onnxruntime as ort
        import onnxruntime_qnn as qnn

        if not QnnSession.registered:
            ort.register_execution_provider_library("QNNExecutionProvider",
                                                    qnn.get_library_path())
            QnnSession.registered = True
        devices = [d for d in ort.get_ep_devices() if d.ep_name == "QNNExecutionProvider"]
        if not devices:
            raise WorkerFailure("onnxruntime-qnn registered no QNN device")
        trace_dir = tempfile.mkdtemp(prefix="gv-qnn-trace-")
        ep = {"backend_path": qnn.get_qnn_htp_path(), "enable_framework_op_trace": "1",
              "framework_op_trace_dir": trace_dir,
              **{k: str(v) for k, v in (options.get("provider_options") or {}).items()}}

        def session(strict: bool):
            so = ort.SessionOptions()
            so.log_severity_level = 3
            if strict:
                so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
            so.add_provider_for_devices(devices, ep)
            return ort.InferenceSession(model, sess_options=so)

        fallback = None
        try:
            self.session = session(strict=True)
        except Exception as e:  # onnxruntime raises its own types
            fallback = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.session = session(strict=False)
        trace = Path(trace_dir) / "qnn_op_trace.json"
        self.report = parse_qnn_trace(json.loads(trace.read_text())) if trace.is_file() else {
            "ops_total": None, "ops_on_npu": None, "cpu_ops": [], "cycles": None,
            "memory_bytes": None}
        self.report["cpu_fallback"] = fallback
        self.report["backend"] = "QNN HTP (simulator on x86)"
        i, o = self.session.get_inputs()[0], self.session.get_outputs()[0]
        self._name = i.name
        self.input = {"shape": [d if isinstance(d, int) else 1 for d in i.shape],
                      "dtype": "float32"}
        self.output = {"shape": [d if isinstance(d, int) else 1 for d in o.shape],
                       "dtype": "float32"}

    def run(self, batch: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(self.session.run(None, {self._name: x[None]})[0][0],
                                    np.float32) for x in batch])


class RknnSession(Session):
    """An ONNX model compiled by rknn-toolkit2 for one Rockchip NPU, run in its simulator.

    The simulator only runs a model built in the same process (a loaded .rknn needs a board),
    so the build goes through the toolkit's two hybrid-quantisation steps: step 1 calibrates
    and writes the quantisation (model, weights, a text config of every tensor's range) into
    `options["bundle"]`; step 2 compiles from it. A later evaluation compiles the same bundle
    again (seconds, no calibration), so the simulator runs the same integers the .rknn holds."""

    def __init__(self, model: str, options: dict) -> None:
        from rknn.api import RKNN

        platform = options["platform"]
        bundle = Path(options["bundle"])
        bundle.mkdir(parents=True, exist_ok=True)
        files = [bundle / f"model.{ext}" for ext in ("model", "data", "quantization.cfg")]
        log = Path(tempfile.mkdtemp(prefix="gv-rknn-")) / "build.log"
        extra = {"remove_reshape": bool(options.get("remove_reshape", False))}
        if not all(f.is_file() for f in files):
            if not options.get("dataset"):
                raise WorkerFailure(f"{bundle}: no quantisation bundle and no calibration set")
            self._calibrate(RKNN, model, options, bundle, platform, extra, log)
        rknn = RKNN(verbose=True)
        with fd_to(log):  # step 2 takes step 1's config from its files (a new one is refused)
            rc = rknn.hybrid_quantization_step2(*map(str, files))
        if rc != 0:
            raise WorkerFailure(f"rknn could not compile for {platform}: {_last(log)}")
        if options.get("export"):
            with fd_to(log):
                rc = rknn.export_rknn(options["export"])
            if rc != 0:
                raise WorkerFailure(f"rknn could not write {options['export']}: {_last(log)}")
        with fd_to(log):
            rc = rknn.init_runtime()  # no target: the simulator
        if rc != 0:
            raise WorkerFailure(f"the rknn simulator did not start: {_last(log)}")
        self.rknn = rknn
        self.report = parse_rknn_log(log.read_text(errors="replace"))
        self.report.update(platform=platform, backend=f"rknn simulator ({platform})",
                           quantized_algorithm=options.get("quantized_algorithm"))
        shape = [int(d) for d in options["input_shape"]]
        self.input = {"shape": shape, "dtype": "float32"}
        self.output = {"shape": [int(d) for d in options["output_shape"]], "dtype": "float32"}

    @staticmethod
    def _calibrate(rknn_cls, model: str, options: dict, bundle: Path, platform: str,
                   extra: dict, log: Path) -> None:
        """Hybrid step 1 on the calibration set (.npy of (N, C, H, W) float32 crops)."""
        data = np.load(options["dataset"])
        listing = bundle / "dataset"
        listing.mkdir(exist_ok=True)
        names = []
        for i, x in enumerate(data):
            p = listing / f"{i:04d}.npy"
            np.save(p, np.ascontiguousarray(x[None], np.float32))
            names.append(str(p))
        (listing / "list.txt").write_text("\n".join(names) + "\n")
        src = bundle / "model.onnx"
        src.write_bytes(Path(model).read_bytes())
        rknn = rknn_cls(verbose=True)
        cwd = os.getcwd()
        os.chdir(bundle)  # step 1 writes model.{model,data,quantization.cfg} here
        try:
            with fd_to(log):
                rknn.config(target_platform=platform, quantized_dtype="w8a8",
                            quantized_method="channel",
                            quantized_algorithm=options.get("quantized_algorithm", "normal"),
                            **extra)
                rc = rknn.load_onnx(str(src))
                if rc == 0:
                    rc = rknn.hybrid_quantization_step1(dataset=str(listing / "list.txt"))
        finally:
            os.chdir(cwd)
            rknn.release()
        if rc != 0:
            raise WorkerFailure(f"rknn could not quantise the model: {_last(log)}")
        for p in listing.iterdir():
            p.unlink()
        listing.rmdir()

    def run(self, batch: np.ndarray) -> np.ndarray:
        shape = tuple(self.output["shape"][1:])
        out = []
        for x in batch:
            y = self.rknn.inference(inputs=[np.ascontiguousarray(x[None])], data_format=["nchw"])
            out.append(np.asarray(y[0], np.float32).reshape(shape))
        return np.stack(out)


class TflmSession(Session):
    """A full-int8 .tflite in the TensorFlow Lite Micro interpreter (what a Cortex-M runs
    beside an Ethos-U): opening fails unless every op has a TFLM kernel, and after the first
    run the recording allocator says how much of the arena the model used."""

    def __init__(self, model: str, options: dict) -> None:
        from tflite_micro.python.tflite_micro import runtime

        arena = int(options.get("arena_bytes", 16 * 2**20))
        try:
            self.interp = runtime.Interpreter.from_file(model, arena_size=arena)
        except Exception as e:
            text = str(e).strip().splitlines() or [type(e).__name__]
            raise WorkerFailure(f"TFLM cannot run {Path(model).name}: {text[-1]}") from None
        self._in, self._out = self.interp.get_input_details(0), self.interp.get_output_details(0)
        self.input = {"shape": [int(d) for d in self._in["shape"]], "dtype": "float32"}
        self.output = {"shape": [int(d) for d in self._out["shape"]], "dtype": "float32"}
        self.report = {"all_ops_supported": True, "arena_bytes": None, "backend": "TFLM",
                       "arena_given": arena}

    def run(self, batch: np.ndarray) -> np.ndarray:
        out = []
        for x in batch:
            self.interp.set_input(quantise(x[None], self._in), 0)
            self.interp.invoke()
            out.append(dequantise(self.interp.get_output(0), self._out)[0])
        if self.report["arena_bytes"] is None:
            log = Path(tempfile.mkdtemp(prefix="gv-tflm-")) / "allocations.log"
            with fd_to(log):
                self.interp.print_allocations()
            self.report["arena_bytes"] = parse_tflm_arena(log.read_text(errors="replace"))
        return np.stack(out)


def _scale_zero(details: dict) -> tuple[float, int]:
    q = details.get("quantization_parameters") or {}
    scales, zeros = list(q.get("scales", [])), list(q.get("zero_points", []))
    return (float(scales[0]) if scales else 1.0), (int(zeros[0]) if zeros else 0)


def quantise(x: np.ndarray, details: dict) -> np.ndarray:
    """Float input -> the tensor's dtype by its (per-tensor) scale and zero point."""
    dtype = np.dtype(details["dtype"])
    if dtype.kind == "f":
        return x.astype(dtype)
    scale, zp = _scale_zero(details)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def dequantise(y: np.ndarray, details: dict) -> np.ndarray:
    """An integer output -> float32 by its scale and zero point."""
    if np.dtype(details["dtype"]).kind == "f":
        return y.astype(np.float32)
    scale, zp = _scale_zero(details)
    return ((y.astype(np.float32) - zp) * scale).astype(np.float32)


def parse_tflm_arena(text: str) -> int | None:
    """The arena bytes TFLM's recording allocator printed ('Arena allocation total N bytes')."""
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    return int(m.group(1)) if m else None


SESSIONS: dict[str, Callable[[str, dict], Session]] = {
    "qnn": QnnSession, "rknn": RknnSession, "tflm": TflmSession}


def _last(log: Path) -> str:
    """The last error-looking line of a vendor log (else its last line)."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^(\x1b\[[0-9;]*m)?E\b", ln) or "Error" in ln]
    return re.sub(r"\x1b\[[0-9;]*m", "", (errors or lines or ["no output"])[-1])


def probe(toolchain: str) -> dict:
    """Versions of the toolchain's packages (ImportError when it is not installed here)."""
    import importlib
    from importlib import metadata

    if toolchain not in PACKAGES:
        raise WorkerFailure(f"unknown toolchain {toolchain!r}; known: {', '.join(PACKAGES)}")
    versions = {}
    for module in PACKAGES[toolchain]:
        importlib.import_module(module)
        top = module.split(".")[0]
        dist = {"rknn": "rknn-toolkit2", "onnxruntime_qnn": "onnxruntime-qnn",
                "tflite_micro": "tflite-micro"}.get(top, top)
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "?"
    return {"versions": versions, "python": sys.version.split()[0]}


# --------------------------------------------------------------------------- the loop
def serve(stdin, reply: Callable[[dict], None],
          sessions: dict[str, Callable[[str, dict], Session]] | None = None) -> int:
    """Answer requests from `stdin` until close or end of input; returns the exit status."""
    sessions = SESSIONS if sessions is None else sessions
    current: Session | None = None
    for line in stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "close":
                reply({"ok": True})
                return 0
            if cmd == "probe":
                reply({"ok": True, **probe(req.get("toolchain", ""))})
            elif cmd == "open":
                make = sessions.get(req.get("toolchain"))
                if make is None:
                    raise WorkerFailure(f"unknown toolchain {req.get('toolchain')!r}")
                current = make(req["model"], req.get("options") or {})
                reply({"ok": True, "input": current.input, "output": current.output,
                       "report": current.report})
            elif cmd == "run":
                if current is None:
                    raise WorkerFailure("run before open")
                batch = np.load(req["input"]).astype(np.float32)
                out = current.run(batch)
                np.save(req["output"], out.astype(np.float32))
                reply({"ok": True, "shape": list(out.shape), "report": current.report})
            else:
                raise WorkerFailure(f"unknown command {cmd!r}")
        except WorkerFailure as e:
            reply({"ok": False, "error": str(e)})
        except Exception as e:  # a vendor failure: one line back, the traceback to stderr
            traceback.print_exc()
            text = str(e).strip().splitlines()
            reply({"ok": False, "error": f"{type(e).__name__}: {text[-1] if text else ''}"})
    return 0


def main() -> int:
    """Replies to the original stdout; everything else printed (C included) goes to stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def reply(msg: dict) -> None:
        out.write(json.dumps(msg) + "\n")
        out.flush()

    if len(sys.argv) == 3 and sys.argv[1] == "probe":  # tools/npu_env.sh's check
        info = probe(sys.argv[2])
        print(f"{sys.argv[2]}: {json.dumps(info['versions'])}", file=sys.stderr)
        return 0
    return serve(sys.stdin, reply)


if __name__ == "__main__":
    sys.exit(main())
