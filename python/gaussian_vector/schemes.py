"""Landmark schemes in one table: point count, horizontal-flip permutation, normalising points.

A scheme says which index a point moves to when the face is mirrored (`flip_perm`: after a flip,
point i of the new face is point `flip_perm[i]` of the old one) and which points define the
inter-ocular (outer eye corners) and inter-pupil (pupil centres, or the means of the eye
contours where a scheme has no pupil points) distances used to normalise errors. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


def _perm(n: int, pairs: list[tuple[int, int]]) -> tuple[int, ...]:
    """Flip permutation of `n` points from mirror pairs (0-based); unpaired points map to self."""
    perm = list(range(n))
    for a, b in pairs:
        if perm[a] != a or perm[b] != b:
            raise ValueError(f"point {a} or {b} appears in two mirror pairs")
        perm[a], perm[b] = b, a
    return tuple(perm)


@dataclass(frozen=True)
class Scheme:
    """One landmark scheme: all indices 0-based."""

    name: str
    num_points: int
    flip_perm: tuple[int, ...]
    #: outer eye corners (ION): (left-in-image eye, right-in-image eye)
    ion_points: tuple[int, int]
    #: points averaged into each pupil centre (IPN); one index each where pupils are annotated
    ipn_left: tuple[int, ...]
    ipn_right: tuple[int, ...]

    def __post_init__(self) -> None:
        if sorted(self.flip_perm) != list(range(self.num_points)):
            raise ValueError(f"scheme {self.name}: flip_perm is not a permutation")
        if any(self.flip_perm[self.flip_perm[i]] != i for i in range(self.num_points)):
            raise ValueError(f"scheme {self.name}: flip_perm is not its own inverse")

    @cached_property
    def flip_index(self) -> np.ndarray:
        """`flip_perm` as an index array, made once: indexing with a tuple converts it on
        every call, which is most of the flip test's merge on one face."""
        return np.array(self.flip_perm, dtype=np.intp)

    def flip_points(self, points: np.ndarray, width: float) -> np.ndarray:
        """Mirror landmarks `(..., K, 2)` of an image `width` pixels wide (0-based centres)."""
        p = np.asarray(points, dtype=np.float64)
        if p.shape[-2:] != (self.num_points, 2):
            raise ValueError(f"{self.name} needs (..., {self.num_points}, 2) points, got {p.shape}")
        out = p[..., self.flip_index, :]  # fancy indexing: already a copy
        out[..., 0] = (width - 1) - out[..., 0]
        return out

    def interocular(self, points: np.ndarray) -> np.ndarray:
        """Outer-eye-corner distance of landmarks `(..., K, 2)`: `(...)`."""
        p = np.asarray(points, dtype=np.float64)
        a, b = self.ion_points
        return np.linalg.norm(p[..., a, :] - p[..., b, :], axis=-1)

    def interpupil(self, points: np.ndarray) -> np.ndarray:
        """Pupil-centre distance of landmarks `(..., K, 2)`: `(...)`."""
        p = np.asarray(points, dtype=np.float64)
        left = p[..., list(self.ipn_left), :].mean(axis=-2)
        right = p[..., list(self.ipn_right), :].mean(axis=-2)
        return np.linalg.norm(left - right, axis=-1)


# iBUG 68 (300-W): jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67.
_PAIRS_68 = (
    [(i, 16 - i) for i in range(8)]
    + [(17, 26), (18, 25), (19, 24), (20, 23), (21, 22)]
    + [(31, 35), (32, 34)]
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]
    + [(60, 64), (61, 63), (65, 67)]
)
# WFLW 98: jaw 0-32, brows 33-50, nose 51-59, eyes 60-75, mouth 76-95, pupils 96-97.
_PAIRS_98 = (
    [(i, 32 - i) for i in range(16)]
    + [(33, 46), (34, 45), (35, 44), (36, 43), (37, 42), (38, 50), (39, 49), (40, 48), (41, 47)]
    + [(55, 59), (56, 58)]
    + [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75), (66, 74), (67, 73)]
    + [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86), (88, 92), (89, 91), (93, 95)]
    + [(96, 97)]
)
# COFW 29 (RCPR order): brows 0-7, eyes 8-19 (outer corners 8/9, pupils 16/17), nose 20-23,
# mouth 22-27, chin 28.
_PAIRS_29 = [
    (0, 1), (4, 6), (2, 3), (5, 7), (8, 9), (10, 11), (12, 14), (16, 17), (13, 15), (18, 19),
    (22, 23),
]
# JD 106-point (ICME 2019 Grand Challenge; the Face++ 106 order): contour 0-32, brow tops
# 33-37 / 38-42, nose 43-51, eyes 52-57 / 58-63, brow bottoms 64-67 / 68-71, eye mids and
# centres 72-77, nose sides 78-83, lips 84-103, pupils 104/105. Written from the published
# layout, NOT checked against real 106-point annotations: verify before training on them.
_PAIRS_106 = (
    [(i, 32 - i) for i in range(16)]
    + [(33, 42), (34, 41), (35, 40), (36, 39), (37, 38), (64, 71), (65, 70), (66, 69), (67, 68)]
    + [(47, 51), (48, 50), (78, 79), (80, 81), (82, 83)]
    + [(52, 61), (53, 60), (54, 59), (55, 58), (56, 63), (57, 62), (72, 75), (73, 76), (74, 77)]
    + [(84, 90), (85, 89), (86, 88), (91, 95), (92, 94), (96, 100), (97, 99), (101, 103)]
    + [(104, 105)]
)

SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("300w68", 68, _perm(68, _PAIRS_68), (36, 45), tuple(range(36, 42)),
               tuple(range(42, 48))),
        Scheme("wflw98", 98, _perm(98, _PAIRS_98), (60, 72), (96,), (97,)),
        Scheme("cofw29", 29, _perm(29, _PAIRS_29), (8, 9), (16,), (17,)),
        Scheme("jd106", 106, _perm(106, _PAIRS_106), (52, 61), (104,), (105,)),
    )
}
#: Point count -> scheme name, for files that carry only a count.
BY_COUNT = {s.num_points: s.name for s in SCHEMES.values()}


def get_scheme(name_or_count: str | int) -> Scheme:
    """A scheme by name ('300w68', 'wflw98', 'cofw29', 'jd106') or by point count."""
    key = name_or_count
    if isinstance(key, (int, np.integer)) or (isinstance(key, str) and key.isdigit()):
        n = int(key)
        if n not in BY_COUNT:
            raise ValueError(f"no landmark scheme has {n} points; known: {sorted(BY_COUNT)}")
        key = BY_COUNT[n]
    if key not in SCHEMES:
        raise ValueError(f"unknown landmark scheme {name_or_count!r}; known: {sorted(SCHEMES)}")
    return SCHEMES[key]
