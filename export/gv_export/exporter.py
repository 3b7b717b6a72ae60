"""One export, start to finish: load the checkpoint, wrap it, convert (and quantise) and embed the
metadata by the format's own module (`<format>_export.convert`, the format a row of
`modelfile.formats`), validate against torch on real faces, and only then move the file into
place; with an accelerator name, compile it with vela and report. The CLI is a thin shell
around `export`."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import torch

from gaussian_vector import checkpoint
from gaussian_vector.config import ModelConfig
from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.modelfile.delegates import Coverage
from gaussian_vector.modelfile.formats import FORMATS
from gaussian_vector.modelfile.interpreters import open_backend

from . import targets
from .calibration import Faces, load_faces
from .errors import ExportError
from .tflite_export import quiet
from .validate import Report, int8_gate, validate
from .vela_report import VelaReport, check_accelerator, run_vela
from .wrap import ExportWrapper, Graph


@dataclass(frozen=True)
class ExportOptions:
    """How to export, besides the model and the target format (gv-export's options)."""

    int8: bool = False  # full-integer int8 (formats with int8 files: modelfile.formats)
    calib: str | Path | None = None  # 300-W-layout folder of faces (default: the samples)
    imgsz: int | None = None  # input size (default: the checkpoint's)
    out: str | Path | None = None  # file or folder (default ./STEM[_int8].EXT)
    npu: str | None = None  # an accelerator: Ethos-U (vela) or a vendor NPU (gv_export.npu)
    graph: str | None = None  # 'key=value,...' overriding the target's graph choices
    max_faces: int = 64  # calibration and validation faces
    max_nme_increase: float | None = None  # int8 gate (default: validate.int8_gate)
    allow_cpu_ops: bool = False  # write a file whose ops fall outside the target's delegate
    verbose: bool = False  # converters' output and tracebacks


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
    name = f"{stem}{'_int8' if int8 else ''}{FORMATS[target].suffix}"
    if out is None:
        return Path(name)
    p = Path(out)
    return p / name if p.is_dir() or str(out).endswith(os.sep) else p


def export(model: str | Path, target: str | None, options: ExportOptions | None = None, *,
           log: Callable[[str], None] = print) -> Result:
    """Export `model` (path or alias) to `target` (a `modelfile.formats` name: "onnx" or
    "tflite") for the CPU, or with `options.npu` for that accelerator, in the graph
    `targets.TARGETS` gives it (`options.graph`: 'key=value,...' overrides). int8 must keep NME
    within `options.max_nme_increase` of torch's (default: `validate.int8_gate`); ExportError for
    anything the user can fix. A vendor NPU (rk3588, qnn-htp, ...; `targets.VENDOR_NPUS`) is
    exported and judged by `gv_export.npu`."""
    o = options or ExportOptions()
    if o.npu and o.npu.lower() in targets.VENDOR_NPUS:
        from .npu import export_npu

        return export_npu(model, o.npu, target, o, log=log)
    place, shape = _target(target, o)
    t0 = time.perf_counter()
    net, config, stem = load_checkpoint(model)
    config = resized(config, o.imgsz)
    dest = output_path(o.out, stem, target, o.int8)
    check_writable(dest)
    faces = load_faces(o.calib, config, o.max_faces)
    log(f"gv-export: {stem} ({config.head}, {config.arch} x{config.width_mult}, "
        f"{config.input_size}px, K={config.num_landmarks}) -> {dest} "
        f"[{target}{' int8' if o.int8 else ' fp32'} for {place.runs_on}]; "
        f"{len(faces.names)} faces from {faces.source}")
    wrapper = ExportWrapper(net, FORMATS[target].input_layout, shape, config).eval()
    extra = {"exporter": "gv-export", "target": target, "runs_on": place.name,
             "graph": shape.to_dict(), "checkpoint": stem}
    converter = import_module(f"{__package__}.{target}_export")
    data, meta = converter.convert(wrapper, config, faces, o.int8, extra, o.verbose)
    xnnpack = place.name == "cpu" and target == "tflite"  # the CPU's LiteRT runs XNNPACK
    report, delegation = _validated_into_place(data, dest, meta, net, faces, xnnpack, o, log)
    result = Result(dest, meta, report, time.perf_counter() - t0, delegation=delegation)
    log(f"wrote {dest} ({result.size / 1024:.1f} KiB) in {result.seconds:.1f} s")
    if o.npu:
        result.vela = run_vela(dest, o.npu)
        for line in result.vela.lines(config.head):
            log(line)
    return result


def _target(target: str | None, o: ExportOptions) -> tuple[targets.Target, Graph]:
    """(where the export runs, the graph it gets there); ExportError for a format, precision
    and accelerator that do not go together."""
    if target is None and o.npu:  # an unknown --npu says so; an Ethos-U one names its target
        targets.target_for(None, o.npu)
        raise ExportError("--npu ethos-u* compiles full-integer TFLite: add --target tflite "
                          "--int8")
    if target not in FORMATS:
        raise ExportError(f"unknown target {target!r}; choose from {', '.join(sorted(FORMATS))}")
    if o.int8 and not FORMATS[target].int8:
        int8_formats = " or ".join(f.name for f in FORMATS.values() if f.int8)
        raise ExportError(f"--int8 is for --target {int8_formats} (full-integer TFLite for NPUs)")
    if o.npu and not (target == "tflite" and o.int8):
        raise ExportError("--npu compiles full-integer models: use it with --target tflite --int8")
    if o.npu:
        check_accelerator(o.npu)
    place = targets.target_for(target, o.npu)
    return place, targets.override(place.graph(target, o.int8), o.graph)


def _validated_into_place(data: bytes, dest: Path, meta: ModelMetadata, net: torch.nn.Module,
                          faces: Faces, xnnpack: bool, o: ExportOptions,
                          log: Callable[[str], None]) -> tuple[Report, Coverage | None]:
    """Write `data` beside `dest`, run it against torch on the faces (and with `xnnpack`,
    count what XNNPACK takes) and move it into place only when it passes; otherwise remove it
    and raise ExportError naming every failure."""
    tmp = dest.with_name(dest.name + ".unvalidated" + dest.suffix)
    tmp.write_bytes(data)
    try:
        report = validate(tmp, meta, net, faces, int8_gate(o.calib is None, o.max_nme_increase))
        delegation = _xnnpack_coverage(tmp) if xnnpack else None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for line in report.lines(o.int8):
        log(line)
    failures = list(report.failures)
    if delegation is not None:
        log(f"XNNPACK: {delegation.summary()}")
        if delegation.cpu_ops and not o.allow_cpu_ops:
            failures.append(f"{len(delegation.cpu_ops)} ops fall outside XNNPACK and run on "
                            "LiteRT's slow built-in kernels (--allow-cpu-ops writes it anyway)")
    if failures:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"validation failed, nothing written: {'; '.join(failures)}")
    tmp.replace(dest)
    return report, delegation


def resized(config: ModelConfig, imgsz: int | None) -> ModelConfig:
    """The config at export input size `imgsz` (the networks are fully convolutional)."""
    if imgsz is None or imgsz == config.input_size:
        return config
    try:
        return dataclasses.replace(config, input_size=int(imgsz))
    except ValueError as e:
        raise ExportError(f"--imgsz: {e}") from None


def check_writable(dest: Path) -> None:
    """ExportError now, before minutes of conversion, when `dest` cannot be written."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create the output folder {dest.parent}: "
                          f"{e.strerror or e}") from None


def _xnnpack_coverage(path: Path) -> Coverage:
    """How LiteRT's default XNNPACK delegate takes the file, one thread (as gv-bench runs it)."""
    with quiet():
        backend = open_backend(path, "tflite", threads=1)
    return backend.coverage
