"""One exception type whose message is the single line the CLI prints, and the check that
names the pip extra when a conversion package is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

#: Which extra installs which optional module.
EXTRAS = {
    "litert_torch": "export",
    "ai_edge_quantizer": "export",
    "ai_edge_litert": "export",
    "onnx": "export",
    "onnxruntime": "export",
    "onnxscript": "export",
    "ethosu": "npu",
}


class ExportError(Exception):
    """An export failure the user can act on; `str(e)` is one line, printed without traceback."""


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` or raise ExportError naming the pip extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, "export")
        raise ExportError(
            f"{purpose} needs the '{top}' package ({e.name or top} is not importable): "
            f"pip install 'gaussian-vector[{extra}]'"
        ) from None
