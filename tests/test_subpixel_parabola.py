"""The parabola sub-pixel rule (docs/decoding.md rule 2b) in the numpy reference decoders."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector.decode import (
    decode_heatmaps,
    decode_vector_axis,
    decode_vectors,
    parabola_offset,
)
from gaussian_vector.decode_rules import DecodeRules


def test_a_sampled_parabola_gives_its_vertex() -> None:
    j = np.arange(64, dtype=np.float64)
    for vertex in (20.3, 31.0, 44.75, 1.4):
        v = (10.0 - (j - vertex) ** 2).astype(np.float32)
        loc, peak = decode_vector_axis(v, DecodeRules(subpixel="parabola"))
        assert loc == pytest.approx(vertex, abs=1e-4)
        assert peak == v.max()


def test_heatmap_parabola_works_per_axis() -> None:
    r, c = np.mgrid[0:32, 0:40].astype(np.float64)
    h = (100.0 - (c - 17.3) ** 2 - 2.0 * (r - 9.6) ** 2).astype(np.float32)
    xy, _ = decode_heatmaps(h[None], DecodeRules(subpixel="parabola"))
    np.testing.assert_allclose(xy[0], [17.3, 9.6], atol=1e-4)
    xy_q, _ = decode_heatmaps(h[None])
    np.testing.assert_allclose(xy_q[0], [17.25, 9.75])


def test_parabola_is_closer_than_the_quarter_shift_on_gaussians() -> None:
    rng = np.random.default_rng(0)
    centres = rng.uniform(8, 56, size=2000)
    j = np.arange(64)
    v = np.exp(-((j - centres[:, None]) ** 2) / 8.0).astype(np.float32)  # sigma 2, as trained
    err = {s: np.abs(decode_vector_axis(v, DecodeRules(subpixel=s))[0] - centres).mean()
           for s in ("quarter", "parabola")}
    assert err["parabola"] < 0.5 * err["quarter"]


def test_no_bend_or_bad_neighbours_give_no_offset() -> None:
    assert parabola_offset(1.0, 1.0, 1.0) == 0.0  # flat
    assert parabola_offset(np.nan, 1.0, 0.5) == 0.0  # NaN neighbour
    assert parabola_offset(0.5, np.inf, 0.2) == 0.0  # an infinite peak: vertex not finite -> 0
    assert parabola_offset(0.0, 1.0, 1.0) == 0.5  # a two-way tie: halfway, inside the clip
    v = np.array([0.0, 1.0, 1.0, 1.0, 0.0], np.float32)  # plateau: first max, flat around it
    assert decode_vector_axis(v, DecodeRules(subpixel="parabola"))[0] == 1.5


def test_end_peaks_keep_beyond_box_and_the_end_rules() -> None:
    rng = np.random.default_rng(1)
    v = rng.uniform(0, 1, size=(200, 16)).astype(np.float32)
    v[:50, 0] = 1.5  # peaks at the first element, below tau: Beyond Box
    v[50:100, -1] = 3.0  # last element, above tau: the end rule
    for bbs in (True, False):
        q, _ = decode_vector_axis(v, DecodeRules(beyond_box=bbs))
        p, _ = decode_vector_axis(v, DecodeRules(beyond_box=bbs, subpixel="parabola"))
        np.testing.assert_array_equal(p[:100], q[:100])
        assert np.abs(p[100:] - q[100:]).max() <= 0.75  # interior: within the quarter's cell


def test_unknown_rule_is_refused() -> None:
    v = np.zeros((1, 8), np.float32)
    with pytest.raises(ValueError, match="subpixel must be one of quarter, parabola"):
        decode_vectors(v, v, DecodeRules(subpixel="gaussian"))
    with pytest.raises(ValueError, match="'bilinear'"):
        decode_heatmaps(np.zeros((1, 4, 4), np.float32), DecodeRules(subpixel="bilinear"))
