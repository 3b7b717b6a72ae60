"""Validation before success: run the exported file (ONNX Runtime or the LiteRT interpreter) and
torch on the same real face crops, decode both with the reference decoders, and compare.

Thresholds (docs/export.md): fp32 files must match torch to < 0.01 px mean landmark difference
(crop pixels) and < 1e-3 max vector/heatmap difference; int8 files must keep the NME against the
ground truth within `max_nme_increase` (relative, default 3%: docs/design.md, "Targets") of
torch's. Every file must also give the same outputs when `BATCH_FACES` faces run in one call as
one by one (within `BATCH_MAX_DIFF`, or one quantum of an integer output): the runtime sends all
faces of a frame as one batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gaussian_vector import affine
from gaussian_vector.config import ModelConfig
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.heads import head_of
from gaussian_vector.metadata import ModelMetadata
from gaussian_vector.metrics import nme_per_image
from gaussian_vector.modelfile.errors import InterpreterMissing
from gaussian_vector.modelfile.interpreters import open_backend
from gaussian_vector.preprocess import normalise

from .calibration import Faces
from .errors import ExportError
from .tflite_export import quiet
from .wrap import reference_output

MOVED_PX = 0.01  # a landmark "moved" when it is this far from torch's (crop pixels)
#: the share of landmarks that may move: an argmax between two near-equal values can flip on a
#: last-bit difference and take its landmark a grid step or more away (a small test model at
#: 64 px did, 1 landmark in 4,352); a wrong layout or decoder moves nearly all of them
FP32_MAX_MOVED = 0.01
FP32_MAX_VECTOR = 1e-3
INT8_MAX_NME_INCREASE = 0.03
#: the gate on views of the two packaged faces (no --calib): they are harder for int8 than a
#: real split (shipped GV: +5.2% on their 64 views, +2.1% on the 100 validation faces), so two
#: faces cannot resolve 3%; this bound still refuses a broken quantisation (docs/export.md)
SAMPLES_MAX_NME_INCREASE = 0.10
#: faces run in one call against one by one, and the largest float output difference allowed
BATCH_FACES = 8
BATCH_MAX_DIFF = 1e-4


def int8_gate(calibrated_on_samples: bool, given: float | None) -> float:
    """The int8 NME gate: the user's, else 3% on their faces or `SAMPLES_MAX_NME_INCREASE` on
    the packaged samples' views."""
    if given is not None:
        return given
    return SAMPLES_MAX_NME_INCREASE if calibrated_on_samples else INT8_MAX_NME_INCREASE


@dataclass
class Report:
    """What validation measured; `ok` and `failures` say whether the export may succeed."""

    faces: int
    max_vector_diff: float
    mean_px: float
    max_px: float
    moved: float  # share of landmarks MOVED_PX or more from torch's
    nme_torch: float
    nme_export: float
    nme_change: float  # relative: (export - torch) / torch
    failures: list[str]
    #: max |output difference|, `batch_faces` faces in one call against one by one
    #: (dequantised); None: the file could not run them in one call
    batch_diff: float | None = None
    batch_faces: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self, quantised: bool) -> list[str]:
        out = [
            f"validated on {self.faces} face crops against torch:",
            f"  max |output difference|      {self.max_vector_diff:.3g}",
            f"  landmark difference (px)     mean {self.mean_px:.4f}, max {self.max_px:.3f}, "
            f"{100 * self.moved:.2f}% of them >= {MOVED_PX}",
            f"  {self.batch_faces} faces in one call      "
            + ("cannot run" if self.batch_diff is None
               else f"max |difference| {self.batch_diff:.3g} against one by one"),
        ]
        if quantised or self.nme_torch > 0:
            out.append(f"  NME (ION) torch {100 * self.nme_torch:.3f}%  exported "
                       f"{100 * self.nme_export:.3f}%  change {100 * self.nme_change:+.2f}%")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def run_exported(path: Path, meta: ModelMetadata,
                 inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Outputs (M, ...) float32 of the exported file on normalised NCHW `inputs` (M, 3, S, S),
    laid out and quantised as the metadata says, dequantised on the way out; run one face at a
    time in its format's interpreter (`modelfile.interpreters`, as the runtime opens it); and
    the first `BATCH_FACES` of them in one call (None where the file cannot take that batch)."""
    x = np.moveaxis(inputs, 1, -1) if meta.input.layout == "NHWC" else inputs
    if meta.input.dtype != "float32":
        info = np.iinfo(meta.input.dtype)
        q = np.round(x / meta.input.scale) + meta.input.zero_point
        x = np.clip(q, info.min, info.max).astype(meta.input.dtype)
    try:
        with quiet():  # LiteRT announces its XNNPACK delegate on stderr
            backend = open_backend(path, threads=2)
    except InterpreterMissing as e:
        raise ExportError(f"validating {path.name}: {e}") from None
    y = np.stack([backend.run(np.ascontiguousarray(xi[None]))[0].copy() for xi in x])
    first = np.ascontiguousarray(x[:BATCH_FACES])
    batch = backend.run(first) if backend.resize(len(first)) else None

    def dequantised(out: np.ndarray) -> np.ndarray:
        if meta.output.dtype == "float32":
            return out.astype(np.float32)
        return (out.astype(np.float32) - meta.output.zero_point) * np.float32(meta.output.scale)

    return dequantised(y), None if batch is None else dequantised(batch)


def fp32_failures(rep: Report) -> list[str]:
    """What an fp32 file's comparison with torch misses (docs/export.md, "Validation
    thresholds"): too many moved landmarks, or too large an output difference."""
    out = []
    if not rep.moved <= FP32_MAX_MOVED:
        out.append(f"{100 * rep.moved:.1f}% of the landmarks moved {MOVED_PX} px or more "
                   f"from torch's (allowed {100 * FP32_MAX_MOVED:g}%; mean difference "
                   f"{rep.mean_px:.4f} px)")
    if not rep.max_vector_diff < FP32_MAX_VECTOR:
        out.append(f"max output difference {rep.max_vector_diff:.3g} >= {FP32_MAX_VECTOR}")
    return out


def landmarks(outputs: np.ndarray, config: ModelConfig) -> np.ndarray:
    """Decoded landmarks (M, K, 2) in crop pixels, by the head's reference decoder and the
    model's own rules."""
    xy, _ = head_of(config).decode(outputs, DecodeRules.of(config))
    return affine.heatmap_to_crop(xy, config.input_size // config.output_size)


def validate(path: Path, meta: ModelMetadata, model: torch.nn.Module, faces: Faces,
             max_nme_increase: float = INT8_MAX_NME_INCREASE) -> Report:
    """Compare the exported file with torch on `faces`; the report lists any threshold missed."""
    config = meta.config
    inputs = normalise(faces.crops, config)
    with torch.no_grad():
        ref = reference_output(model, torch.from_numpy(inputs)).numpy()
    got, batch = run_exported(path, meta, inputs)
    if got.shape != ref.shape:
        raise ExportError(f"{path.name}: output shape {got.shape[1:]} != torch {ref.shape[1:]}")
    p_ref, p_got = landmarks(ref, config), landmarks(got, config)
    px = np.linalg.norm(p_got - p_ref, axis=-1)
    n_ref, n_got = (float(nme_per_image(p, faces.points, config.scheme).mean())
                    for p in (p_ref, p_got))
    rep = Report(len(inputs), float(np.abs(got - ref).max()), float(px.mean()), float(px.max()),
                 float(np.mean(px >= MOVED_PX)), n_ref, n_got,
                 (n_got - n_ref) / max(n_ref, 1e-12), [],
                 None if batch is None else float(np.abs(batch - got[:len(batch)]).max()),
                 min(BATCH_FACES, len(inputs)))
    step = BATCH_MAX_DIFF if meta.output.dtype == "float32" else 1.001 * meta.output.scale
    if rep.batch_diff is None:
        rep.failures.append(f"the file cannot run {rep.batch_faces} faces in one call")
    elif not rep.batch_diff <= step:
        rep.failures.append(f"{rep.batch_faces} faces in one call give other outputs than one "
                            f"by one (max difference {rep.batch_diff:.3g}, allowed {step:.3g})")
    if meta.output.dtype == "float32" and meta.input.dtype == "float32":
        rep.failures += fp32_failures(rep)
    elif not rep.nme_change <= max_nme_increase:
        rep.failures.append(f"int8 NME is {100 * rep.nme_change:+.2f}% relative to torch "
                            f"(allowed +{100 * max_nme_increase:.1f}%) on {rep.faces} faces; "
                            "calibrate on more of your faces (--calib DIR), check the cost "
                            "with gv-eval on a held-out split, and accept it with "
                            "--max-nme-increase F if it is what you want")
    return rep
