"""Beyond Box Strategy (paper Eq. 6-7) and the reference decoders' handling of bad input."""

import numpy as np
import pytest

from gaussian_vector.decode import decode_heatmaps, decode_vector_axis, decode_vectors, split_packed
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.labels import gaussian_vector_1d

W = 64
SIGMA = TAU = 2.0


def gaussian(center: float, amplitude: float = TAU) -> np.ndarray:
    i = np.arange(W, dtype=np.float64)
    return (amplitude * np.exp(-((i - center) ** 2) / (2 * SIGMA**2))).astype(np.float32)


@pytest.mark.parametrize("outside", [1.0, 2.5, 4.0, 6.0])
@pytest.mark.parametrize("far_end", [False, True])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_peak_outside_the_crop_is_recovered_with_bbs_and_clamped_without(outside, far_end, axis):
    center = W - 1 + outside if far_end else -outside
    edge = W - 1 if far_end else 0
    vec, inside = gaussian(center)[None], gaussian(30.0, 4.0)[None]
    x, y = (vec, inside) if axis == "x" else (inside, vec)
    col = 0 if axis == "x" else 1
    on, _ = decode_vectors(x, y, DecodeRules(beyond_box=True, tau=TAU, sigma=SIGMA))
    off, _ = decode_vectors(x, y, DecodeRules(beyond_box=False, tau=TAU, sigma=SIGMA))
    assert abs(on[0, col] - center) <= 0.5
    assert abs(off[0, col] - edge) <= 0.25
    assert on[0, 1 - col] == pytest.approx(30.0)  # the other axis is untouched


@pytest.mark.parametrize("x0", [0.0, 0.2, -0.2, W - 1.0, W - 1.3])
def test_bbs_leaves_a_confident_end_peak_inside(x0):
    v = gaussian_vector_1d(np.array([x0]), W, SIGMA, 3.0)[0]  # peak 4 >= tau: on an end pixel
    loc, peak = decode_vector_axis(v, DecodeRules(tau=TAU, sigma=SIGMA))
    assert abs(loc - x0) <= 0.25 and peak == pytest.approx(4.0)


def test_bbs_distance_is_clamped_to_the_label_support():
    v = np.zeros(W, np.float32)  # no signal at all: argmax 0, value 0
    loc, _ = decode_vector_axis(v, DecodeRules(tau=TAU, sigma=SIGMA))
    assert loc == pytest.approx(-3 * SIGMA)
    v[-1] = 1e-30
    loc, _ = decode_vector_axis(v, DecodeRules(tau=TAU, sigma=SIGMA))
    assert loc == pytest.approx(W - 1 + 3 * SIGMA)


def test_nan_never_wins_the_argmax():
    v = gaussian(20.0)
    v[5] = np.nan
    loc, peak = decode_vector_axis(v)
    assert loc == pytest.approx(20.0) and peak == pytest.approx(TAU)


def test_packed_layout_splits_x_then_y():
    packed = np.concatenate([gaussian(10.0), gaussian(33.0)[:32]])[None, None]  # y: H = 32
    x, y = split_packed(packed, W)
    assert x.shape == (1, 1, W) and y.shape == (1, 1, 32)
    xy, _ = decode_vectors(x, y)
    assert xy[0, 0].tolist() == pytest.approx([10.0, 33.0], abs=1e-4)  # y beyond the far end


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros(64), np.zeros(64)), "at least 2 dimensions"),
        ((np.zeros((68, 64)), np.zeros((67, 64))), "must agree"),
        ((np.zeros((68, 1)), np.zeros((68, 64))), "length >= 2"),
        ((np.zeros((0, 64)), np.zeros((0, 64))), "empty"),
        ((np.zeros((68, 64), dtype=complex), np.zeros((68, 64))), "dtype"),
        ((np.array([["a", "b"]]), np.zeros((1, 2))), "dtype"),
    ],
)
def test_bad_vectors_raise_value_error_naming_the_problem(args, match):
    with pytest.raises(ValueError, match=match):
        decode_vectors(*args)


@pytest.mark.parametrize("param", ["tau", "sigma"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("inf")])
def test_bad_bbs_parameters_raise(param, value):
    with pytest.raises(ValueError, match=param):
        decode_vectors(np.ones((1, 8)), np.ones((1, 8)), DecodeRules(**{param: value}))


def test_bad_heatmaps_raise():
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        decode_heatmaps(np.zeros((64, 64)))
    with pytest.raises(ValueError, match="empty"):
        decode_heatmaps(np.zeros((0, 64, 64)))


@pytest.mark.parametrize("sigma", [5e-324, 1e-160])
def test_tiny_sigma_decodes_like_double_arithmetic_instead_of_raising(sigma):
    v = gaussian(-2.0)[None]
    # 1/(2 sigma^2) overflows to inf: d clamps to 3σ
    xy, _ = decode_vectors(v, v, DecodeRules(sigma=sigma))
    assert np.all(np.isfinite(xy)) and xy[0, 0] == pytest.approx(-3 * sigma, abs=1e-6)
