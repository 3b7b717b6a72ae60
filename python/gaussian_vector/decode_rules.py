"""The rules a decoder follows, as one frozen value checked once: Beyond Box (on or off, tau,
sigma) and the sub-pixel rule for an interior peak (docs/decoding.md). The same four fields as
the C++ decoder's `gv::VectorParams` (`GV_VECTOR_PARAMS`, whose binding reads a `DecodeRules` by
these names); the numpy reference (`decode`), the native decoder (`native`), evaluation and the
runtime all take a `DecodeRules`, and the commands build theirs from the options in `OPTIONS`
(`cli/decode_options.py`). What the rules do to one vector, in numpy (`decode_vector_axis`: the
reference the C++ `cpp/src/rules.hpp` must equal), is here too: a new rule is its field, its
check, its option and its effect in this file, then its line in `cpp/include/gv/decode.hpp` and
its effect in `cpp/src/rules.hpp` (docs/design.md, "Adding a rule, a head or a format").

A model's own rules are its config's tau, sigma and sub-pixel rule with Beyond Box on
(`DecodeRules.of`); a caller changes only the fields it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import float_array, positive

if TYPE_CHECKING:
    from .config import ModelConfig

#: Default Beyond Box parameters (paper Table 6: tau = sigma = 2 was best).
DEFAULT_TAU = 2.0
DEFAULT_SIGMA = 2.0

#: Sub-pixel rules for an interior peak: the paper's quarter-pixel shift toward the larger
#: neighbour, or the vertex of the parabola through the peak and its two neighbours.
SUBPIXEL_MODES = ("quarter", "parabola")


def check_subpixel(subpixel: str) -> str:
    """`subpixel` if it names a sub-pixel rule, else a ValueError listing them."""
    if subpixel not in SUBPIXEL_MODES:
        raise ValueError(f"subpixel must be one of {', '.join(SUBPIXEL_MODES)}, got {subpixel!r}")
    return subpixel


@dataclass(frozen=True)
class DecodeRules:
    """How packed vectors or heatmaps become coordinates; ValueError naming a field that is out
    of range. Heatmap decoders read `subpixel` only."""

    beyond_box: bool = True  # place an end peak below tau outside the vector (paper Eq. 6-7)
    tau: float = DEFAULT_TAU  # an end peak below this is a landmark beyond the box
    sigma: float = DEFAULT_SIGMA  # the labels' sigma, which turns a peak value into a distance
    subpixel: str = "quarter"  # interior peaks: "quarter" (the paper's) or "parabola"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau", positive("tau", self.tau))
        object.__setattr__(self, "sigma", positive("sigma", self.sigma))
        check_subpixel(self.subpixel)
        object.__setattr__(self, "beyond_box", bool(self.beyond_box))

    @classmethod
    def of(cls, config: ModelConfig, **changes: object) -> DecodeRules:
        """The rules of the model `config` describes (its tau, sigma and sub-pixel rule), with
        `changes` to the fields they name (None: keep the model's)."""
        given = {"tau": config.tau, "sigma": config.sigma, "subpixel": config.subpixel}
        given.update({k: v for k, v in changes.items() if v is not None})
        return cls(**given)

    def to_dict(self) -> dict:
        return asdict(self)


#: What a caller may give where the rules are taken: the rules themselves, the changes to make
#: to the model's own (e.g. {"beyond_box": False}), or None for the model's own.
Rules = DecodeRules | Mapping[str, object] | None


def rules_for(config: ModelConfig, rules: Rules = None) -> DecodeRules:
    """The `DecodeRules` a model runs with: `rules` when it is one, else the model's own with
    the changes `rules` names."""
    if isinstance(rules, DecodeRules):
        return rules
    return DecodeRules.of(config, **dict(rules or {}))


#: The decode options of gv-eval and gv-infer, one per field: (flag, field, kind, help) with kind
#: "off" (a switch that sets the field False), "positive" (a number > 0) or a tuple of choices.
#: `cli/decode_options.py` adds them to a parser and reads them back as changes to the model's
#: rules, so that a new rule becomes an option of both commands by one line here.
OPTIONS: tuple[tuple[str, str, str | tuple[str, ...], str], ...] = (
    ("--no-bbs", "beyond_box", "off", "GV: decode without Beyond Box"),
    ("--subpixel", "subpixel", SUBPIXEL_MODES,
     "sub-pixel rule for an interior peak: the paper's quarter-pixel shift or the vertex of "
     "the parabola through the peak and its neighbours (default: the model's; "
     "docs/decoding.md)"),
    ("--tau", "tau", "positive", "Beyond Box tau (default: the model's)"),
    ("--sigma", "sigma", "positive", "Beyond Box sigma (default: the model's)"),
)


#: Beyond Box on, tau = sigma = 2, the quarter shift: the paper's rules.
DEFAULT_RULES = DecodeRules()


def parabola_offset(left: np.ndarray, peak: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Vertex of the parabola through (-1, left), (0, peak), (1, right), in float64, clipped to
    [-0.5, 0.5]; 0 where the three values do not bend down (curvature >= 0, NaN) or the vertex
    is not finite (docs/decoding.md, rule 2b)."""
    left, peak, right = (np.asarray(a, dtype=np.float64) for a in (left, peak, right))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        curvature = left - 2.0 * peak + right
        off = 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0)
    return np.where((curvature < 0) & np.isfinite(off), np.clip(off, -0.5, 0.5), 0.0)


def decode_vector_axis(
    v: np.ndarray, rules: DecodeRules = DEFAULT_RULES
) -> tuple[np.ndarray, np.ndarray]:
    """Decode vectors `(..., w)` along their last axis into `(locations, peaks)`, both `(...)`."""
    v = float_array("vector", v, min_ndim=1, last_min=2)
    # numpy float64 scalars: a denormal sigma gives inf/0 as in C++ doubles, not ZeroDivisionError
    tau = np.float64(rules.tau)
    sigma = np.float64(rules.sigma)
    v = v.astype(np.float64, copy=False)
    w = v.shape[-1]
    # NaN never wins (docs/decoding.md): replace it by -inf for the argmax only.
    finite_or_low = np.where(np.isnan(v), -np.inf, v)
    idx = np.argmax(finite_or_low, axis=-1)
    peak = np.take_along_axis(v, idx[..., None], axis=-1)[..., 0]
    # Neighbours; at the ends the missing outer one is g1, the value one pixel from a centred peak.
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        g1 = np.exp(-1.0 / (2.0 * sigma * sigma))
    left = np.take_along_axis(v, np.clip(idx - 1, 0, w - 1)[..., None], axis=-1)[..., 0]
    right = np.take_along_axis(v, np.clip(idx + 1, 0, w - 1)[..., None], axis=-1)[..., 0]
    left = np.where(idx == 0, g1, left)
    right = np.where(idx == w - 1, g1, right)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, no shift
        shift = 0.25 * np.sign(np.nan_to_num(right - left, nan=0.0))
    if rules.subpixel == "parabola":
        interior = (idx > 0) & (idx < w - 1)
        shift = np.where(interior, parabola_offset(left, peak, right), shift)
    loc = idx + shift
    if rules.beyond_box:
        at_end = (idx == 0) | (idx == w - 1)
        outside = at_end & ~(peak >= tau)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            d = np.sqrt(2.0 * sigma * sigma * np.log(tau / peak))
        d = np.where(peak > 0, np.minimum(d, 3.0 * sigma), 3.0 * sigma)
        beyond = np.where(idx == 0, -d, (w - 1) + d)
        loc = np.where(outside, beyond, loc)
    return loc.astype(np.float32), peak.astype(np.float32)
