"""`gv-export MODEL --npu rk3588|rv1106|rk3566|qnn-htp`: one vendor-NPU export, start to finish.

The checkpoint is wrapped in the target's graph (`targets.TARGETS`), NCHW, and traced to a
batch-1 ONNX model; then, per toolchain:

- qnn: quantised here with onnxruntime's QNN recipe (`qnn_preprocess_model`,
  `get_qnn_qdq_config`) into a QDQ ONNX model with the target's activation and weight types,
  our metadata embedded; the simulator is ONNX Runtime's QNN provider on the HTP backend with
  CPU fallback off (the worker opens it again with fallback on only to name what fell back);
- rknn: calibrated and compiled by rknn-toolkit2 in the worker (hybrid quantisation, so the
  simulator can be rebuilt later without calibrating): X.rknn for the board, X.rknn.sim/ (the
  quantised model the simulator compiles) and X.rknn.json (our metadata and the build settings).

Then the simulator runs the faces, our decoder decodes its output, and the landmarks are
compared with torch's (the same gate as int8 TFLite: `validate.int8_gate`). Only a model that
passes, with every op on the NPU unless `allow_cpu_ops`, is moved into place.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.metrics import nme_per_image
from gaussian_vector.modelfile.errors import RuntimeFailure
from gaussian_vector.preprocess import normalise
from gaussian_vector.runtime.simulators import (
    SimulatorBackend,
    ToolchainMissing,
    bundle_dir,
    find_python,
    sidecar,
)

from .. import metadata_io, targets
from ..calibration import Faces, load_faces
from ..errors import ExportError, require
from ..exporter import ExportOptions, Result, check_writable, load_checkpoint, resized
from ..tflite_export import quiet
from ..validate import MOVED_PX, Report, int8_gate, landmarks
from ..wrap import ExportWrapper, input_shape, output_shape, reference_output

SUFFIX = {"rknn": ".rknn", "onnx": ".onnx"}
#: the files of rknn-toolkit2's hybrid quantisation that the simulator compiles from
BUNDLE_FILES = ("model.model", "model.data", "model.quantization.cfg")


def output_path(out: str | Path | None, stem: str, place: targets.Target, fmt: str) -> Path:
    """-o as given (a folder gets the default name inside), else ./STEM_TARGET.EXT."""
    name = f"{stem}_{place.name}{SUFFIX[fmt]}"
    if out is None:
        return Path(name)
    p = Path(out)
    return p / name if p.is_dir() or str(out).endswith(("/", "\\")) else p


def export_npu(model: str | Path, npu: str, target: str | None = None,
               options: ExportOptions | None = None, *,
               log: Callable[[str], None] = print) -> Result:
    """Export `model` for the vendor NPU `npu`, judged in its simulator; ExportError (one line)
    for anything the user can fix, a missing toolchain included. Of the `options`, `int8` and
    `npu` are implied."""
    o = options or ExportOptions()
    place = targets.target_for(target, npu)
    fmt = target or place.formats[0]
    shape = targets.override(place.graph(fmt, True), o.graph)
    try:
        find_python(place.toolchain)  # before minutes of work
    except ToolchainMissing as e:
        raise ExportError(str(e)) from None
    t0 = time.perf_counter()
    net, config, stem = load_checkpoint(model)
    config = resized(config, o.imgsz)
    dest = output_path(o.out, stem, place, fmt)
    check_writable(dest)
    faces = load_faces(o.calib, config, o.max_faces)
    log(f"gv-export: {stem} ({config.head}, {config.input_size}px, K={config.num_landmarks}) -> "
        f"{dest} [{place.runs_on}]; {len(faces.names)} faces from {faces.source}")
    x = normalise(faces.crops, config).astype(np.float32)
    extra = {"exporter": "gv-export", "target": fmt, "runs_on": place.name,
             "graph": shape.to_dict(), "checkpoint": stem, "toolchain": place.toolchain,
             "toolchain_options": dict(place.options),
             "calibration": {"source": faces.source, "faces": len(faces.names)}}
    meta = metadata_io.build_metadata(
        config, metadata_io.tensor_spec(input_shape(config, "NCHW"), "float32", "NCHW"),
        output_shape(config), extra=extra)
    wrapper = ExportWrapper(net, "NCHW", shape, config).eval()
    with tempfile.TemporaryDirectory(prefix="gv-npu-") as tmp:
        work = Path(tmp)
        fp32 = work / "fp32.onnx"
        fp32.write_bytes(static_onnx(wrapper, x[:1], meta, o.verbose))
        if place.toolchain == "qnn":
            built = work / "model.onnx"
            quantize_qdq(fp32, x, place.options, built, meta, o.verbose)
            backend = _open(lambda: SimulatorBackend("qnn", built))
        else:
            built = work / "model.rknn"
            np.save(work / "calib.npy", x)
            options = {**place.options, "bundle": str(work / "bundle"), "export": str(built),
                       "dataset": str(work / "calib.npy"), "remove_reshape": True,
                       "input_shape": list(input_shape(config, "NCHW")),
                       "output_shape": list(output_shape(config))}
            log(f"{place.toolchain}: calibrating ({place.options.get('quantized_algorithm')}) "
                "and compiling in the vendor's environment")
            backend = _open(lambda: SimulatorBackend("rknn", fp32, options))
        with backend:
            log(f"{backend.name}: running {len(x)} faces")
            got = _run(backend, x)
            npu = dict(backend.report)
        report = judge(net, faces, got, meta, int8_gate(o.calib is None, o.max_nme_increase))
        for line in report.lines(True):
            log(line)
        for line in npu_lines(npu):
            log(line)
        failures = list(report.failures)
        if npu.get("cpu_ops") and not o.allow_cpu_ops:
            failures.append(f"{len(npu['cpu_ops'])} ops run off the NPU "
                            f"({', '.join(sorted(set(npu['cpu_ops'])))}); --allow-cpu-ops "
                            "writes it anyway")
        if failures:
            raise ExportError(f"validation failed, nothing written: {'; '.join(failures)}")
        _move_into_place(built, dest, work / "bundle", meta, npu, place)
    result = Result(dest, meta, report, time.perf_counter() - t0, npu=npu)
    log(f"wrote {dest} ({result.size / 1024:.1f} KiB) in {result.seconds:.1f} s")
    return result


def static_onnx(wrapper: ExportWrapper, sample: np.ndarray, meta: ModelMetadata,
                verbose: bool) -> bytes:
    """The wrapper as ONNX with a batch of exactly 1 (what the NPU compilers take)."""
    from ..onnx_export import to_onnx

    return to_onnx(wrapper, torch.from_numpy(sample), meta, verbose, dynamic_batch=False)


def quantize_qdq(fp32: Path, x: np.ndarray, options: dict, dst: Path, meta: ModelMetadata,
                 verbose: bool) -> None:
    """fp32 ONNX -> QDQ ONNX for the QNN HTP, calibrated on `x` (N, 3, S, S), metadata kept."""
    onnx = require("onnx", "the QNN export")
    require("onnxruntime", "the QNN export")
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import (
        get_qnn_qdq_config,
        qnn_preprocess_model,
    )

    kinds = {"uint8": QuantType.QUInt8, "uint16": QuantType.QUInt16, "int8": QuantType.QInt8,
             "int16": QuantType.QInt16}

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(x)

        def get_next(self) -> dict | None:
            item = next(self.items, None)
            return None if item is None else {"image": item[None]}

    plain = onnx.load(str(fp32))
    del plain.metadata_props[:]  # qnn_preprocess_model fails on metadata props (re-embedded)
    bare, pre = fp32.with_name("bare.onnx"), fp32.with_name("preprocessed.onnx")
    onnx.save(plain, str(bare))
    with quiet(not verbose):
        src = pre if qnn_preprocess_model(str(bare), str(pre)) else bare
        config = get_qnn_qdq_config(str(src), Reader(),
                                    activation_type=kinds[options.get("activations", "uint16")],
                                    weight_type=kinds[options.get("weights", "int8")],
                                    per_channel=bool(options.get("per_channel", True)))
        quantize(str(src), str(dst), config)
    proto = onnx.load(str(dst))
    metadata_io.embed_onnx(proto, meta)
    proto.producer_name = "gv-export"
    onnx.save(proto, str(dst))


def _open(make: Callable[[], SimulatorBackend]) -> SimulatorBackend:
    """A simulator backend, its failures as ExportError lines."""
    try:
        return make()
    except RuntimeFailure as e:
        raise ExportError(str(e)) from None


def _run(backend: SimulatorBackend, x: np.ndarray) -> np.ndarray:
    try:
        return backend.run(x)
    except RuntimeFailure as e:
        raise ExportError(str(e)) from None


def judge(model: torch.nn.Module, faces: Faces, got: np.ndarray, meta: ModelMetadata,
          max_nme_increase: float) -> Report:
    """The simulator's outputs against torch on the same crops: decoded by our decoder, the
    mean landmark distance and the NME change, gated as int8 TFLite is."""
    config = meta.config
    inputs = normalise(faces.crops, config)
    with torch.no_grad():
        ref = reference_output(model, torch.from_numpy(inputs)).numpy()
    got = got.reshape(ref.shape)
    p_ref, p_got = landmarks(ref, config), landmarks(got.astype(np.float32), config)
    px = np.linalg.norm(p_got - p_ref, axis=-1)
    n_ref, n_got = (float(nme_per_image(p, faces.points, config.scheme).mean())
                    for p in (p_ref, p_got))
    change = (n_got - n_ref) / max(n_ref, 1e-12)
    rep = Report(len(inputs), float(np.abs(got - ref).max()), float(px.mean()), float(px.max()),
                 float(np.mean(px >= MOVED_PX)),
                 n_ref, n_got, change, [])
    if not change <= max_nme_increase:
        rep.failures.append(f"the simulator's NME is {100 * change:+.2f}% relative to torch "
                            f"(allowed +{100 * max_nme_increase:.1f}%) on {rep.faces} faces")
    return rep


def npu_lines(npu: dict) -> list[str]:
    """The toolchain's report as the command prints it."""
    out = [f"{npu.get('backend', 'simulator')}:"]
    if npu.get("ops_total") is not None:
        share = npu["ops_on_npu"] / npu["ops_total"] if npu["ops_total"] else 0.0
        off = sorted(set(npu.get("cpu_ops") or []))
        out.append(f"  ops on NPU     {npu['ops_on_npu']}/{npu['ops_total']} "
                   f"({100 * share:.1f}%)" + (f"; off it: {', '.join(off)}" if off else ""))
    if npu.get("npu_ops"):
        out.append(f"  QNN ops        {npu['npu_ops']} in {npu.get('subgraphs', 1)} graph(s)")
    if npu.get("cycles"):
        out.append(f"  estimate       {npu['cycles']:,} cycles (compiler's static estimate)")
    if npu.get("memory_bytes"):
        out.append(f"  memory         {npu['memory_bytes'] / 1024:,.0f} KiB "
                   f"(internal {(npu.get('internal_bytes') or 0) / 1024:,.0f} + weights "
                   f"{(npu.get('weight_bytes') or 0) / 1024:,.0f})")
    if npu.get("arena_bytes"):
        out.append(f"  arena          {npu['arena_bytes']:,} bytes")
    return out


def _move_into_place(built: Path, dest: Path, bundle: Path, meta: ModelMetadata, npu: dict,
                     place: targets.Target) -> None:
    """The validated file to `dest`; for rknn also its simulator bundle and sidecar."""
    if place.toolchain == "rknn":
        sim = bundle_dir(dest)
        if sim.exists():
            shutil.rmtree(sim)
        sim.mkdir(parents=True)
        for name in BUNDLE_FILES:
            shutil.copy2(bundle / name, sim / name)
        options = {k: v for k, v in place.options.items()}
        options.update(remove_reshape=True, input_shape=list(meta.input.shape),
                       output_shape=list(meta.output.shape))
        sidecar(dest).write_text(json.dumps(
            {"metadata": json.loads(meta.to_json()), "simulator": options, "report": npu},
            indent=2))
    shutil.move(str(built), str(dest))
