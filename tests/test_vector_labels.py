"""Vector labels (paper Eq. 1-2) and their reference decoding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaussian_vector.labels import HeatmapLabel, VectorLabel, gaussian_vector_1d


def test_label_shape_and_values_follow_eq1_and_eq2():
    lab = VectorLabel(width=64, height=32, sigma=2.0, theta=3.0)
    x, y = lab.encode(np.array([[[10.0, 5.0], [20.3, 30.9]]]))
    assert x.shape == (1, 2, 64) and y.shape == (1, 2, 32) and x.dtype == np.float32
    assert x[0, 0, 10] == pytest.approx(4.0)  # 1 + theta at d = 0
    assert x[0, 0, 11] == pytest.approx(np.exp(-1 / 8))
    assert x[0, 0, 15] == pytest.approx(np.exp(-25 / 8))  # d = 5 < 3 sigma
    assert x[0, 0, 16] == 0.0 and x[0, 0, 4] == 0.0  # d = 6 = 3 sigma: cut
    assert x[0, 1, 20] == pytest.approx(4.0)  # nearest element of 20.3 gets the peak
    assert x[0, 1, 21] == pytest.approx(np.exp(-(0.7**2) / 8), rel=1e-6)


@pytest.mark.parametrize("w", [8, 64, 65])
def test_encode_decode_round_trip_is_within_a_quarter_pixel(w):
    rng = np.random.default_rng(w)
    lab = VectorLabel(width=w, height=w)
    inside = rng.uniform(-0.5, w - 0.5 - 1e-6, size=(50, 68, 2))
    ends = np.array([0.0, w - 1.0, -0.5, w - 0.51, 0.25, w - 1.25])
    kp = np.concatenate([inside.reshape(-1, 2), np.stack([ends, ends[::-1]], 1)])
    xy, score = lab.decode(*lab.encode(kp[None]))
    assert np.abs(xy[0] - kp).max() <= 0.25 + 1e-6
    assert np.all(score == pytest.approx(4.0))


@settings(max_examples=200, deadline=None)
@given(
    x0=st.floats(-0.5, 63.49),
    y0=st.floats(-0.5, 63.49),
    sigma=st.floats(0.8, 4.0),
    theta=st.floats(0.0, 5.0),
)
def test_round_trip_any_sigma_theta(x0, y0, sigma, theta):
    lab = VectorLabel(sigma=sigma, theta=theta, tau=0.9 * (1.0 + theta))
    xy, _ = lab.decode(*lab.encode(np.array([[x0, y0]])))
    assert np.abs(xy - [x0, y0]).max() <= 0.25 + 1e-6


def test_landmark_outside_the_crop_gets_only_the_tail():
    v = gaussian_vector_1d(np.array([-2.0]), 16, 2.0, 3.0)[0]
    assert v.max() < 1.0 and v[0] == pytest.approx(np.exp(-4 / 8))
    v = gaussian_vector_1d(np.array([-7.0]), 16, 2.0, 3.0)[0]
    assert np.all(v == 0)


def test_heatmap_labels_round_trip_inside_the_border():
    rng = np.random.default_rng(0)
    lab = HeatmapLabel(width=48, height=40)
    kp = np.stack([rng.uniform(1, 46, 200), rng.uniform(1, 38, 200)], 1)
    h = lab.encode(kp)
    assert h.shape == (200, 40, 48)
    xy, score = lab.decode(h)
    assert np.abs(xy - kp).max() <= 0.25 + 1e-6
    assert np.all(score <= 1.0) and np.all(score > np.exp(-0.5 / 8) - 1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sigma": 0}, "sigma"),
        ({"sigma": -1}, "sigma"),
        ({"width": 1}, "width"),
        ({"theta": -1}, "theta"),
        ({"tau": float("nan")}, "tau"),
    ],
)
def test_bad_label_parameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VectorLabel(**kwargs)


@pytest.mark.parametrize(
    "kp, match",
    [(np.zeros((3, 3)), "shape"), (np.zeros((0, 2)), "K >= 1"), (np.array([[np.nan, 1]]), "NaN")],
)
def test_bad_keypoints_raise_value_error(kp, match):
    with pytest.raises(ValueError, match=match):
        VectorLabel().encode(kp)
