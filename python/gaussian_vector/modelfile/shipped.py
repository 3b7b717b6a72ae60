"""Where the exported models that ship inside the package live, and the names that pick them.

`gv-infer` with no `--model` uses `default` (the fp32 TFLite export of the shipped GV checkpoint).
`default-int8` and `default-onnx` name its int8 TFLite and ONNX exports. They are the files
gv-export writes for the shipped checkpoint (`weights/gv_mnv3s_256.pt`, alias `default`) into
the weights folder, so the export commands are

    gv-export default --target tflite -o python/gaussian_vector/weights/
    gv-export default --target tflite --int8 -o python/gaussian_vector/weights/
    gv-export default --target onnx -o python/gaussian_vector/weights/

`fast` and `fast-int8` are the same two TFLite exports of the 192 px GV checkpoint
(`weights/gv_mnv3s_192.pt`, alias `fast`): 0.58-0.67x the 256 px model's int8 forward, 0.20 ION
points less accurate on the validation split and level on the YouTube frames (MODEL_CARD.md).
Its ONNX file is not shipped (`gv-export fast --target onnx` writes it).
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
SHIPPED = {
    "default": "gv_mnv3s_256.tflite",
    "default-int8": "gv_mnv3s_256_int8.tflite",
    "default-onnx": "gv_mnv3s_256.onnx",
    "fast": "gv_mnv3s_192.tflite",
    "fast-int8": "gv_mnv3s_192_int8.tflite",
}


def shipped_model_path(name: str = "default") -> Path:
    """Path of a shipped exported model by name (it may not exist in a source checkout)."""
    if name not in SHIPPED:
        raise ModelError(f"unknown shipped model {name!r} (choose from {', '.join(SHIPPED)})")
    return WEIGHTS / SHIPPED[name]


def resolve_model(model: str | Path | None) -> Path:
    """A shipped model name or a file path -> an existing model file, or ModelError."""
    key = "default" if model is None else str(model)
    p = shipped_model_path(key) if key in SHIPPED else Path(key)
    if not p.is_file():
        hint = " (the shipped models are exported with gv-export)" if key in SHIPPED else ""
        raise ModelError(f"model not found: {p}{hint}")
    return p
