"""Everything needed to rebuild a model and its pre-processing, stored in checkpoints and in
exported models' metadata (so a board needs nothing else). Plain data, no torch; the head names
are the head registry's (`heads.HEADS`), read when first needed because `heads` imports this
module through `metadata`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields

from .decode_rules import check_subpixel  # numpy only; it imports this module's type only

ARCHS = ("mobilenetv3_small", "mobilenetv3_large")
# ImageNet statistics on RGB in [0, 1]; the crop is fed as (pixel/255 - mean) / std.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# TensorFlow's MobileNet input scaling, (pixel - 128) / 127, in the same form: what a backbone
# converted from Google's ImageNet .tflite (models/pretrained.py) was trained to see.
TF_MEAN = (128 / 255,) * 3
TF_STD = (127 / 255,) * 3
#: Padding of stride-2 convolutions: "torch" (symmetric k//2) or "tf" (TensorFlow's "SAME": the
#: extra row and column at the bottom and right, as the ImageNet weights were trained with).
PADDINGS = ("torch", "tf")


def head_names() -> tuple[str, ...]:
    """The heads a model may end in, in the order of the head registry (`heads.HEADS`): a new
    head is its class there, not a name here."""
    from .heads import HEADS

    return tuple(HEADS)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture, label and pre-processing parameters of one landmark model."""

    head: str = "gv"  # "gv" ends in the Band Pooling Module; "heatmap" is the baseline
    arch: str = "mobilenetv3_small"
    width_mult: float = 1.0
    input_size: int = 256
    num_landmarks: int = 68
    scheme: str = "300w68"
    decoder_channels: int = 64
    sigma: float = 2.0
    theta: float = 3.0
    tau: float = 2.0
    bandwidths: tuple[int, ...] = (3, 5)
    band_weights: tuple[float, ...] = (0.5, 0.5)
    bpm_edges: str = "valid"  # BPM where a band overhangs the map: "valid" mean or "zeros" pad
    enlarge: float = 1.25  # crop side = enlarge * longer side of the face box
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    padding: str = "torch"  # stride-2 convolutions: "torch" symmetric or "tf" SAME (PADDINGS)
    #: the sub-pixel rule the model is scored and served with (decode_rules.SUBPIXEL_MODES): new
    #: models the parabola vertex, files written before the field the paper's quarter shift
    subpixel: str = "parabola"
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        heads = head_names()
        if self.head not in heads:
            raise ValueError(f"head must be one of {heads}, got {self.head!r}")
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.input_size % 32 or self.input_size < 64:
            raise ValueError(f"input_size must be a multiple of 32 >= 64, got {self.input_size}")
        if self.num_landmarks < 1:
            raise ValueError(f"num_landmarks must be >= 1, got {self.num_landmarks}")
        if len(self.bandwidths) != len(self.band_weights) or not self.bandwidths:
            raise ValueError("bandwidths and band_weights must be non-empty and of equal length")
        if self.bpm_edges not in ("valid", "zeros"):
            raise ValueError(f"bpm_edges must be 'valid' or 'zeros', got {self.bpm_edges!r}")
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {self.padding!r}")
        check_subpixel(self.subpixel)
        if not (isinstance(self.enlarge, (int, float)) and not isinstance(self.enlarge, bool)
                and math.isfinite(self.enlarge) and self.enlarge >= 1.0):
            raise ValueError(f"enlarge must be a finite number >= 1 (the crop holds the face box), "
                             f"got {self.enlarge}")

    @property
    def output_size(self) -> int:
        """Side of the heatmap / length of the vectors: 1/4 of the input."""
        return self.input_size // 4

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bandwidths"] = list(self.bandwidths)
        d["band_weights"] = list(self.band_weights)
        d["mean"] = list(self.mean)
        d["std"] = list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """Build from a dict, ignoring unknown keys (newer writers) and tuple-ising lists."""
        known = {f.name for f in fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known}
        kw.setdefault("bpm_edges", "zeros")  # written before bpm_edges existed: zero padding
        kw.setdefault("subpixel", "quarter")  # written before subpixel existed: the paper's shift
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, s: str) -> ModelConfig:
        return cls.from_dict(json.loads(s))
