"""The heads a landmark model can end in, one class each: GV (x and y vectors from the Band
Pooling Module) and the heatmap baseline. A head owns what differs between them: its label
encoding (the codecs of `labels`), which network outputs its loss compares with which labels,
the layout and shape of its exported output (and packing the network's outputs into it), how
that output splits for its decoder, and the decoding itself, by whichever decoder module the
caller hands it (the numpy reference `decode` or the native `native`: the same functions).
Chosen once from the config (`head_of`); nothing else compares head names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

import numpy as np

from . import decode as reference
from .decode_rules import DecodeRules
from .labels import HeatmapLabel, VectorLabel
from .metadata import GV_LAYOUT, HEATMAP_LAYOUT

if TYPE_CHECKING:
    from .config import ModelConfig

T = TypeVar("T")  # a tensor type: the loss runs on whatever the criterion takes (torch in train)
Decoded = tuple[np.ndarray, np.ndarray]
Quant = tuple[float, int]  # (scale, zero point) of an integer output


class Decoders(Protocol):
    """A decoder module: `gaussian_vector.decode` (numpy) or `gaussian_vector.native` (C++)."""

    def decode_packed(self, vectors: np.ndarray, width: int, rules: DecodeRules) -> Decoded: ...
    def decode_packed_int8(self, vectors: np.ndarray, width: int, scale: float,
                           zero_point: int, rules: DecodeRules) -> Decoded: ...
    def decode_heatmaps(self, heatmaps: np.ndarray, rules: DecodeRules) -> Decoded: ...
    def decode_heatmaps_int8(self, heatmaps: np.ndarray, scale: float, zero_point: int,
                             rules: DecodeRules) -> Decoded: ...


class Head:
    """What a model's head decides, for one `ModelConfig` (subclasses name the head)."""

    name: ClassVar[str]
    #: the output layout the exported file's metadata names (`metadata`)
    layout: ClassVar[str]
    #: the exported graph's output tensor name
    output_name: ClassVar[str]
    #: the labels a training item carries, in the order of the network's outputs
    label_keys: ClassVar[tuple[str, ...]]
    #: the `DecodeRules` fields its decoder reads
    rules_read: ClassVar[tuple[str, ...]]
    #: what the exported graph computes after the 1x1 head (vela's tail figure names it)
    graph_tail: ClassVar[str]
    #: how the exported graph packs the decoder features into `output_shape`, a key of
    #: `gv_export.wrap.PACKINGS`: "band_pooling" (the BPM's means and 1-D filter around the 1x1
    #: head, x then y: (N, K, W + H)) or "head" (the 1x1 head's output as it is)
    export_packing: ClassVar[str]
    #: lowest face score (mean landmark confidence) taken as a face: measured with the shipped
    #: models on 970 faces (bench/face_scores.py, docs/runtime.md); a model measured on its own
    #: carries its floor in its config (`face_score_floor`)
    min_face_score: ClassVar[float]

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.size = config.output_size

    @property
    def face_score_floor(self) -> float:
        """The model's own lowest face score (`config.extra["min_face_score"]`, written where
        its scores were measured, as for the shipped 192 px model) or the head's default."""
        return float(self.config.extra.get("min_face_score", self.min_face_score))

    def encode(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Label coordinates (K, 2) -> the training targets, by `label_keys`."""
        raise NotImplementedError

    def loss(self, outputs: T | Sequence[T], labels: Mapping[str, T],
             criterion: Callable[[T, T], T]) -> T:
        """The training loss: `criterion` (output, target) summed over the network's outputs,
        each against its label."""
        outs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        terms = [criterion(o, labels[k]) for o, k in zip(outs, self.label_keys, strict=True)]
        return terms[0] if len(terms) == 1 else sum(terms[1:], terms[0])

    def output_shape(self, batch: int = 1) -> tuple[int, ...]:
        """The exported output's shape."""
        raise NotImplementedError

    def pack(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        """The network's outputs (as numpy, in order) laid out as the exported output."""
        raise NotImplementedError

    def decoder(self, rules: DecodeRules, quant: Quant | None = None,
                using: Decoders = reference) -> Callable[[np.ndarray], Decoded]:
        """output -> (coordinates (..., K, 2) in output pixels, scores (..., K)): the decoder
        of `using` bound to how this head's output splits (GV: the x-vectors are the first W
        values of each row), the rules and, for an integer output, its scale and zero point;
        nothing else around it (gv-bench times it as it is)."""
        raise NotImplementedError

    def decode(self, output: np.ndarray, rules: DecodeRules, quant: Quant | None = None,
               using: Decoders = reference) -> Decoded:
        """Decode an exported output (float32, or integer with `quant`)."""
        return self.decoder(rules, quant, using)(output)


class GVHead(Head):
    """Gaussian Vectors: x (N, K, W) and y (N, K, H) out of the BPM, exported packed."""

    name = "gv"
    layout = GV_LAYOUT
    output_name = "vectors"
    label_keys = ("x", "y")
    rules_read = ("subpixel", "beyond_box", "tau", "sigma")
    graph_tail = "BPM + output layout"
    export_packing = "band_pooling"
    #: shipped GV (ImageNet start, aligned YouTube stage): faces >= 1.06, synthetic <= 0.90
    #: (the one before it: faces >= 0.88, synthetic <= 0.995)
    min_face_score = 1.0

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.label = VectorLabel(self.size, self.size, config.sigma, config.theta)

    def encode(self, points: np.ndarray) -> dict[str, np.ndarray]:
        x, y = self.label.encode(points)
        return {"x": x, "y": y}

    def output_shape(self, batch: int = 1) -> tuple[int, ...]:
        return (batch, self.config.num_landmarks, 2 * self.size)

    def pack(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(outputs, axis=-1)

    def decoder(self, rules: DecodeRules, quant: Quant | None = None,
                using: Decoders = reference) -> Callable[[np.ndarray], Decoded]:
        if quant is None:
            return partial(using.decode_packed, width=self.size, rules=rules)
        return partial(using.decode_packed_int8, width=self.size, scale=quant[0],
                       zero_point=quant[1], rules=rules)


class HeatmapHead(Head):
    """The baseline: K heatmaps (N, K, H, W), exported as they are."""

    name = "heatmap"
    layout = HEATMAP_LAYOUT
    output_name = "heatmaps"
    label_keys = ("heatmap",)
    rules_read = ("subpixel",)
    graph_tail = "output layout (after the head)"
    export_packing = "head"
    #: shipped heatmap (ImageNet start, aligned YouTube stage): faces >= 0.61, synthetic <= 0.39,
    #: patches 22 of 108 over
    min_face_score = 0.4

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.label = HeatmapLabel(self.size, self.size, config.sigma)

    def encode(self, points: np.ndarray) -> dict[str, np.ndarray]:
        return {"heatmap": self.label.encode(points)}

    def output_shape(self, batch: int = 1) -> tuple[int, ...]:
        return (batch, self.config.num_landmarks, self.size, self.size)

    def pack(self, outputs: Sequence[np.ndarray]) -> np.ndarray:
        (heatmaps,) = outputs
        return heatmaps

    def decoder(self, rules: DecodeRules, quant: Quant | None = None,
                using: Decoders = reference) -> Callable[[np.ndarray], Decoded]:
        if quant is None:
            return partial(using.decode_heatmaps, rules=rules)
        return partial(using.decode_heatmaps_int8, scale=quant[0], zero_point=quant[1],
                       rules=rules)


#: head name (`ModelConfig.head`) -> its class: the one list of heads (`config.head_names()`,
#: the names `ModelConfig` accepts, is read from it)
HEADS: dict[str, type[Head]] = {h.name: h for h in (GVHead, HeatmapHead)}


def head_of(config: ModelConfig) -> Head:
    """The head the config names."""
    return HEADS[config.head](config)
