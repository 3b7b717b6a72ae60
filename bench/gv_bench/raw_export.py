"""Unvalidated .tflite files for speed measurements (`gv-bench bpm`, `gv-bench graphs`): the
checkpoint wrapped in a chosen graph and converted as gv-export converts it, without its
validation (only the speed of these files is measured; gv-export judges shipped ones)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def wrapped(model: str, imgsz: int | None, graph, faces: int = 32):
    """(ExportWrapper of `model` in `graph`, its config at `imgsz`, calibration inputs NHWC)."""
    from gv_export.calibration import load_faces
    from gv_export.exporter import load_checkpoint, resized
    from gv_export.wrap import ExportWrapper

    net, config, _ = load_checkpoint(model)
    config = resized(config, imgsz)
    x = load_faces(None, config, faces).inputs(config, "NHWC")
    return ExportWrapper(net, "NHWC", graph, config), config, x


def write_tflite(module, x: np.ndarray, int8: bool, path: Path) -> Path:
    """`module` converted to .tflite (full int8 calibrated on `x` when asked) at `path`."""
    import torch

    from gv_export.quantize import quantize_int8
    from gv_export.tflite_export import to_tflite

    data = to_tflite(module.eval(), torch.from_numpy(x[:1]))
    path.write_bytes(quantize_int8(data, x) if int8 else data)
    return path
