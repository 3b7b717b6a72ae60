"""The rules a decoder follows, as one frozen value checked once: Beyond Box (on or off, tau,
sigma) and the sub-pixel rule for an interior peak (docs/decoding.md). The same four fields as
the C++ decoder's `gv::VectorParams`; the numpy reference (`decode`), the native binding
(`native`), evaluation and the runtime all take a `DecodeRules`, and the commands build theirs
from the options in `OPTIONS` (`cli/decode_options.py`).

A model's own rules are its config's tau and sigma with Beyond Box on and the paper's quarter
shift (`DecodeRules.of`); a caller changes only the fields it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from ._checks import positive

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
        # the fields in order, as the native binding takes them after its arrays
        object.__setattr__(self, "args", tuple(getattr(self, f.name) for f in fields(self)))

    @classmethod
    def of(cls, config: ModelConfig, **changes: object) -> DecodeRules:
        """The rules of the model `config` describes (its tau and sigma), with `changes` to the
        fields they name (None: keep the model's)."""
        given = {"tau": config.tau, "sigma": config.sigma}
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
     "sub-pixel rule for an interior peak: the paper's quarter-pixel shift (default) or the "
     "vertex of the parabola through the peak and its neighbours (docs/decoding.md)"),
    ("--tau", "tau", "positive", "Beyond Box tau (default: the model's)"),
    ("--sigma", "sigma", "positive", "Beyond Box sigma (default: the model's)"),
)
