"""Helpers shared by the tests/test_export_*.py suites: small random-weight GV and heatmap
checkpoints (64 px input, width 0.5, 68 landmarks), and a cache that exports each
(head, target, int8) once and reuses the file, so the slow conversions run once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

SIZE, WIDTH = 64, 0.5


def make_checkpoint(path: Path, head: str, size: int = SIZE) -> Path:
    import torch

    from gaussian_vector import checkpoint
    from gaussian_vector.config import ModelConfig
    from gaussian_vector.models import build_model

    torch.manual_seed(0)
    cfg = ModelConfig(head=head, input_size=size, width_mult=WIDTH)
    checkpoint.save(path, build_model(cfg).eval(), cfg)
    return path


def make_checkpoints(root: Path) -> dict[str, Path]:
    """One GV and one heatmap checkpoint in `root`."""
    return {h: make_checkpoint(root / f"{h}.pt", h) for h in ("gv", "heatmap")}


def export_cache(checkpoints: dict[str, Path], out: Path):
    """get(head, target, int8=False) -> gv_export.exporter.Result, each exported once."""
    pytest.importorskip("litert_torch")
    pytest.importorskip("onnxruntime")
    from gv_export.exporter import ExportOptions, export

    cache: dict[tuple, object] = {}

    def get(head: str, target: str, int8: bool = False):
        key = (head, target, int8)
        if key not in cache:
            # random weights: int8 NME against the ground truth is noise, so no NME gate here;
            # and their near-zero activations make XNNPACK refuse the int8 h-swish's ADDs
            # (scale ratios out of its range), which trained weights do not: no XNNPACK gate
            # either (test_export_targets.py checks it on the shipped model)
            cache[key] = export(checkpoints[head], target, ExportOptions(
                int8=int8, out=out, max_nme_increase=1e9, allow_cpu_ops=True),
                log=lambda _: None)
        return cache[key]

    return get
