"""Metadata that travels inside exported models, so a board needs nothing but the file.

Stored as one JSON string under the key `gaussian_vector` (ONNX metadata_props; in TFLite as the
model's metadata buffer of that name). The runtime reads it back with `ModelMetadata.from_json`.

Output layout (both heads): GV models output one tensor (N, K, W + H): x-vectors first, then
y-vectors, which the native decoder takes as it is. Heatmap models output (N, K, H, W).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from .config import ModelConfig

KEY = "gaussian_vector"
VERSION = 1
GV_LAYOUT = "NK(W+H)"  # x-vectors then y-vectors along the last axis
HEATMAP_LAYOUT = "NKHW"


@dataclass(frozen=True)
class TensorSpec:
    """Shape, dtype, layout and (for integer tensors) the affine quantisation of one tensor."""

    shape: tuple[int, ...]
    dtype: str  # "float32", "int8" or "uint8"
    layout: str  # input: "NHWC" or "NCHW"; output: GV_LAYOUT or HEATMAP_LAYOUT
    scale: float | None = None
    zero_point: int | None = None

    def __post_init__(self) -> None:
        if self.dtype not in ("float32", "int8", "uint8"):
            raise ValueError(f"tensor dtype must be float32, int8 or uint8, got {self.dtype!r}")
        if self.dtype != "float32" and (self.scale is None or self.zero_point is None):
            raise ValueError(f"an {self.dtype} tensor needs a scale and a zero point")

    @classmethod
    def from_dict(cls, d: dict) -> TensorSpec:
        """Build from the metadata's dict, ignoring keys a newer writer added (as
        `ModelConfig.from_dict` does: a change of meaning bumps VERSION instead)."""
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in d.items() if k in known}, "shape": tuple(d["shape"])})


@dataclass(frozen=True)
class ModelMetadata:
    """Everything the runtime needs: the model config plus the I/O tensors' specs."""

    config: ModelConfig
    input: TensorSpec
    output: TensorSpec
    version: int = VERSION
    producer: str = "gaussian-vector"
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        d = {
            "version": self.version,
            "producer": self.producer,
            "config": self.config.to_dict(),
            "input": {**asdict(self.input), "shape": list(self.input.shape)},
            "output": {**asdict(self.output), "shape": list(self.output.shape)},
            "extra": self.extra,
        }
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelMetadata:
        """Parse metadata; ValueError when it is not ours or from a newer, unknown version."""
        try:
            d = json.loads(text)
            if d.get("producer") != "gaussian-vector":
                raise ValueError("producer is not gaussian-vector")
            version = d["version"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValueError(f"metadata version {version!r} is not an integer")
            if version > VERSION:
                raise ValueError(f"it was written by a newer gaussian-vector (metadata version "
                                 f"{version}; this one reads up to {VERSION}): upgrade it with "
                                 "pip install -U gaussian-vector")
            return cls(
                config=ModelConfig.from_dict(d["config"]),
                input=TensorSpec.from_dict(d["input"]),
                output=TensorSpec.from_dict(d["output"]),
                version=version,
                producer=d["producer"],
                extra=d.get("extra", {}),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as e:
            raise ValueError(f"model metadata is not gaussian-vector metadata: {e}") from e
