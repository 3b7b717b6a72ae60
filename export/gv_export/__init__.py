"""gv-export: torch checkpoints -> ONNX / TFLite (fp32 and full int8) with the Band Pooling
Module baked in, the runtime metadata embedded, validated against torch on real faces, and an
optional Ethos-U (vela) report. See docs/export.md."""

__all__ = ["ExportError"]

from .errors import ExportError
