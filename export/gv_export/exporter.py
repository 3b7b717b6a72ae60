"""One export, start to finish: load the checkpoint, wrap it, convert (and quantise), embed the
metadata, validate against torch on real faces, and only then move the file into place; with an
accelerator name, compile it with vela and report. The CLI is a thin shell around `export`."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gaussian_vector import checkpoint
from gaussian_vector.config import ModelConfig
from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.preprocess import normalise
from gaussian_vector.runtime.delegates import Coverage

from . import metadata_io, targets
from .calibration import Faces, load_faces
from .errors import ExportError
from .tflite_export import quiet
from .validate import Report, int8_gate, validate
from .vela_report import VelaReport, check_accelerator, run_vela
from .wrap import ExportWrapper, input_shape, output_shape

FORMATS = ("onnx", "tflite")  # what --target names: the file format
SUFFIX = {"onnx": ".onnx", "tflite": ".tflite"}
LAYOUT = {"onnx": "NCHW", "tflite": "NHWC"}


@dataclass
class Result:
    path: Path
    metadata: ModelMetadata
    validation: Report
    seconds: float
    vela: VelaReport | None = None
    delegation: Coverage | None = None  # XNNPACK's take of a CPU-target .tflite
    npu: dict | None = None  # a vendor NPU's report: ops on it, cycles, memory (gv_export.npu)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def load_checkpoint(model: str | Path) -> tuple[torch.nn.Module, ModelConfig, str]:
    """(model in eval mode, config, a short name) or ExportError with one line."""
    try:
        path = checkpoint.resolve(model)
        net, config, _ = checkpoint.load(path)
    except FileNotFoundError as e:
        raise ExportError(str(e)) from None
    except ValueError as e:
        raise ExportError(str(e).splitlines()[0]) from None
    return net, config, path.stem


def output_path(out: str | Path | None, stem: str, target: str, int8: bool) -> Path:
    """-o as given (a folder gets the default name inside), else ./STEM[_int8].EXT."""
    name = f"{stem}{'_int8' if int8 else ''}{SUFFIX[target]}"
    if out is None:
        return Path(name)
    p = Path(out)
    return p / name if p.is_dir() or str(out).endswith(os.sep) else p


def export(
    model: str | Path,
    target: str | None,
    *,
    int8: bool = False,
    calib: str | Path | None = None,
    imgsz: int | None = None,
    out: str | Path | None = None,
    npu: str | None = None,
    graph: str | None = None,
    max_faces: int = 64,
    max_nme_increase: float | None = None,
    allow_cpu_ops: bool = False,
    verbose: bool = False,
    log: Callable[[str], None] = print,
) -> Result:
    """Export `model` (path or alias) to `target` ("onnx" or "tflite") for the CPU, or with
    `npu` for that accelerator, in the graph `targets.TARGETS` gives it (`graph`: 'key=value,...'
    overrides). int8 must keep NME within `max_nme_increase` of torch's (default:
    `validate.int8_gate`); ExportError for anything the user can fix. A vendor NPU (rk3588,
    qnn-htp, ...; `targets.VENDOR_NPUS`) is exported and judged by `gv_export.npu`."""
    if npu and npu.lower() in targets.VENDOR_NPUS:
        from .npu import export_npu

        return export_npu(model, npu, target=target, calib=calib, imgsz=imgsz, out=out,
                          graph=graph, max_faces=max_faces, max_nme_increase=max_nme_increase,
                          allow_cpu_ops=allow_cpu_ops, verbose=verbose, log=log)
    if target not in FORMATS:
        raise ExportError(f"unknown target {target!r}; choose from {', '.join(FORMATS)}")
    if int8 and target != "tflite":
        raise ExportError("--int8 is for --target tflite (full-integer TFLite for NPUs)")
    if npu and not (target == "tflite" and int8):
        raise ExportError("--npu compiles full-integer models: use it with --target tflite --int8")
    if npu:
        check_accelerator(npu)
    place = targets.target_for(target, npu)
    shape = targets.override(place.graph(target, int8), graph)
    t0 = time.perf_counter()
    net, config, stem = load_checkpoint(model)
    config = _resized(config, imgsz)
    dest = output_path(out, stem, target, int8)
    _check_writable(dest)
    faces = load_faces(calib, config, max_faces)
    log(f"gv-export: {stem} ({config.head}, {config.arch} x{config.width_mult}, "
        f"{config.input_size}px, K={config.num_landmarks}) -> {dest} "
        f"[{target}{' int8' if int8 else ' fp32'} for {place.runs_on}]; "
        f"{len(faces.names)} faces from {faces.source}")

    layout = LAYOUT[target]
    wrapper = ExportWrapper(net, layout, shape, config).eval()
    extra = {"exporter": "gv-export", "target": target, "runs_on": place.name,
             "graph": shape.to_dict(), "checkpoint": stem}
    data, meta = _convert(wrapper, config, faces, target, int8, extra, verbose)

    tmp = dest.with_name(dest.name + ".unvalidated" + dest.suffix)
    tmp.write_bytes(data)
    try:
        report = validate(tmp, meta, net, faces, int8_gate(calib is None, max_nme_increase))
        delegation = _xnnpack_coverage(tmp) if place.name == "cpu" and target == "tflite" \
            else None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for line in report.lines(int8):
        log(line)
    failures = list(report.failures)
    if delegation is not None:
        log(f"XNNPACK: {delegation.summary()}")
        if delegation.cpu_ops and not allow_cpu_ops:
            failures.append(f"{len(delegation.cpu_ops)} ops fall outside XNNPACK and run on "
                            "LiteRT's slow built-in kernels (--allow-cpu-ops writes it anyway)")
    if failures:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"validation failed, nothing written: {'; '.join(failures)}")
    tmp.replace(dest)
    result = Result(dest, meta, report, time.perf_counter() - t0, delegation=delegation)
    log(f"wrote {dest} ({result.size / 1024:.1f} KiB) in {result.seconds:.1f} s")
    if npu:
        result.vela = run_vela(dest, npu)
        for line in result.vela.lines(config.head):
            log(line)
    return result


def _resized(config: ModelConfig, imgsz: int | None) -> ModelConfig:
    """The config at export input size `imgsz` (the networks are fully convolutional)."""
    if imgsz is None or imgsz == config.input_size:
        return config
    try:
        return dataclasses.replace(config, input_size=int(imgsz))
    except ValueError as e:
        raise ExportError(f"--imgsz: {e}") from None


def _check_writable(dest: Path) -> None:
    """ExportError now, before minutes of conversion, when `dest` cannot be written."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create the output folder {dest.parent}: "
                          f"{e.strerror or e}") from None


def _convert(wrapper: ExportWrapper, config: ModelConfig, faces: Faces, target: str,
             int8: bool, extra: dict, verbose: bool) -> tuple[bytes, ModelMetadata]:
    """(file bytes with the metadata embedded, metadata) for one format and precision."""
    layout = LAYOUT[target]
    sample = torch.from_numpy(_inputs(faces, config, layout)[:1])
    in_shape, out_shape = input_shape(config, layout), output_shape(config)
    if target == "onnx":
        from .onnx_export import to_onnx

        meta = metadata_io.build_metadata(
            config, metadata_io.tensor_spec(in_shape, "float32", layout), out_shape, extra=extra)
        return to_onnx(wrapper, sample, meta, verbose), meta
    from .tflite_export import to_tflite

    data = to_tflite(wrapper, sample, verbose)
    if int8:
        from .quantize import io_quantization, quantize_int8

        data = quantize_int8(data, _inputs(faces, config, layout), verbose)
        qin, qout = io_quantization(data)
        extra["calibration"] = {"source": faces.source, "faces": len(faces.names)}
        meta = metadata_io.build_metadata(
            config, metadata_io.tensor_spec(in_shape, "int8", layout, qin), out_shape,
            "int8", qout, extra)
    else:
        meta = metadata_io.build_metadata(
            config, metadata_io.tensor_spec(in_shape, "float32", layout), out_shape,
            extra=extra)
    return metadata_io.embed_tflite(data, meta), meta


def _xnnpack_coverage(path: Path) -> Coverage:
    """How LiteRT's default XNNPACK delegate takes the file, one thread (as gv-bench runs it)."""
    from gaussian_vector.runtime.interpreters import open_backend

    with quiet():
        backend = open_backend(path, "tflite", threads=1)
    return backend.coverage


def _inputs(faces: Faces, config: ModelConfig, layout: str) -> np.ndarray:
    """Normalised crops in the exported layout, float32."""
    x = normalise(faces.crops, config)
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if layout == "NHWC" else x
