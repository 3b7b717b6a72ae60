"""The model-file formats, in ONE table: what each is called (`gv-export --target`), its file
suffix, the input layout its files take, whether full-int8 files of it are exported, what runs
it and which module of this package reads its metadata and opens it in its interpreter. The
runtime, evaluation, export and gv-bench look suffixes, layouts and dispatch up here.

Adding a format: a row here, its module here (`metadata_entries(data)` and
`open_backend(path, options)`, beside `tflite_files.py`), and its converter in gv_export
(`<name>_export.convert`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    """One model-file format."""

    name: str  # --target, the metadata's "target"
    suffix: str  # of its files
    input_layout: str  # the exported input: "NHWC" (LiteRT, NPUs) or "NCHW" (ONNX Runtime)
    int8: bool  # full-integer int8 files of it are exported (gv-export --int8)
    interpreter: str  # what runs it, for messages
    module: str  # the module of gaussian_vector.modelfile that reads and opens its files


FORMATS: dict[str, Format] = {
    "tflite": Format("tflite", ".tflite", "NHWC", True, "LiteRT", "tflite_files"),
    "onnx": Format("onnx", ".onnx", "NCHW", False, "ONNX Runtime", "onnx_files"),
}

#: every model-file suffix, in the table's order
SUFFIXES = tuple(f.suffix for f in FORMATS.values())


def format_of(path: str | Path) -> Format | None:
    """The format of a file by its suffix (any case), or None when it is not a model file."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS.values() if f.suffix == suffix), None)


def format_named(name: str) -> Format:
    """The format called `name`; ValueError listing the formats when there is none."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(sorted(FORMATS))}")
    return FORMATS[name]
