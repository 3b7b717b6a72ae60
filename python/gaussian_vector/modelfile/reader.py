"""Read the `gaussian_vector` metadata out of an exported model without loading it to run: the
format by the file's suffix (`formats`), then that format's reader (`tflite_files`,
`onnx_files`), which walks the bytes itself so that a board needs no `onnx` or `flatbuffers`
package."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..metadata import KEY, ModelMetadata
from .errors import ModelError
from .formats import FORMATS, SUFFIXES, format_of


def model_format(path: str | Path) -> str:
    """The format's name ('tflite' or 'onnx') from the file suffix; ModelError for anything
    else."""
    p = Path(path)
    fmt = format_of(p)
    if fmt is None:
        hint = " (export a checkpoint with gv-export first)" if p.suffix == ".pt" else ""
        raise ModelError(f"{p}: not a {' or '.join(SUFFIXES)} model{hint}")
    return fmt.name


def read_metadata(path: str | Path) -> ModelMetadata:
    """The model's gaussian-vector metadata; ModelError naming the file when it is not ours."""
    p = Path(path)
    fmt = FORMATS[model_format(p)]
    if not p.is_file():
        raise ModelError(f"model not found: {p}")
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: the file is empty (an interrupted download or copy?)")
    reader = import_module(f"{__package__}.{fmt.module}")
    try:
        entries = reader.metadata_entries(p.read_bytes())
    except ModelError as e:  # the readers know the bytes, not the file: name it
        raise ModelError(f"{p}: {e}") from e
    text = entries.get(KEY)
    if text is None:
        raise ModelError(
            f"{p}: no '{KEY}' metadata, so this is not a gaussian-vector model "
            "(export it with gv-export)"
        )
    try:
        return ModelMetadata.from_json(text)
    except ValueError as e:
        raise ModelError(f"{p}: {e}") from e
