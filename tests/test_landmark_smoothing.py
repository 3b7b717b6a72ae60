"""The One-Euro filter on landmarks (runtime/smoothing.py): it removes jitter at rest, follows
motion with a lag that shrinks as beta grows, and refuses parameters that would freeze it."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector.runtime.smoothing import LandmarkSmoother, OneEuro, alpha, face_size

FPS = 30.0


def face(offset: float = 0.0) -> np.ndarray:
    """68 points on a 100-pixel face, shifted right by `offset` pixels."""
    rng = np.random.default_rng(0)
    return rng.uniform(0, 100, (68, 2)) + [offset, 0.0]


def run(smoother: LandmarkSmoother, frames: list[np.ndarray]) -> np.ndarray:
    return np.stack([smoother(p, i / FPS) for i, p in enumerate(frames)])


def test_first_points_pass_through_unchanged() -> None:
    p = face()
    np.testing.assert_array_equal(LandmarkSmoother()(p, 0.0), p)


def test_jitter_at_rest_shrinks() -> None:
    rng = np.random.default_rng(1)
    frames = [face() + rng.normal(0, 1.0, (68, 2)) for _ in range(120)]
    out = run(LandmarkSmoother(OneEuro(min_cutoff=1.0, beta=0.0)), frames)
    raw_jitter = np.abs(np.diff(np.stack(frames), axis=0)).mean()
    smooth_jitter = np.abs(np.diff(out, axis=0)).mean()
    assert smooth_jitter < 0.3 * raw_jitter


def test_plain_filter_lag_under_motion_shrinks_with_beta() -> None:
    frames = [face(3.0 * i) for i in range(60)]  # 90 px/s, ~0.9 face sizes a second
    lags = []
    for beta in (0.0, 10.0, 100.0):
        out = run(LandmarkSmoother(OneEuro(min_cutoff=1.0, beta=beta, frame="image")), frames)
        lags.append(float(np.abs(out[-1] - frames[-1]).mean()))
    assert lags[0] > lags[1] > lags[2]
    assert lags[2] < 1.0  # a fast filter follows within a pixel


def moving_head(i: int) -> np.ndarray:
    """The face of frame `i` of a head turning, growing and sliding (a similarity transform)."""
    angle, scale = 0.01 * i, 1.0 + 0.005 * i
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return face() @ rot.T + [4.0 * i, 1.5 * i]


def test_face_frame_follows_head_motion_without_lag_and_removes_the_noise() -> None:
    rng = np.random.default_rng(2)
    truth = [moving_head(i) for i in range(90)]
    noisy = [t + rng.normal(0, 1.0, t.shape) for t in truth]
    out = run(LandmarkSmoother(OneEuro(min_cutoff=1.0, beta=0.0, frame="face")), noisy)
    plain = run(LandmarkSmoother(OneEuro(min_cutoff=1.0, beta=0.0, frame="image")), noisy)
    err = np.linalg.norm(out[30:] - np.stack(truth)[30:], axis=-1).mean()
    raw_err = np.linalg.norm(np.stack(noisy)[30:] - np.stack(truth)[30:], axis=-1).mean()
    plain_err = np.linalg.norm(plain[30:] - np.stack(truth)[30:], axis=-1).mean()
    assert err < 0.5 * raw_err  # noise averaged away, and no lag behind the head
    assert plain_err > 10 * raw_err  # the plain filter trails the moving head


def test_similarity_fit_recovers_a_similarity_exactly() -> None:
    from gaussian_vector.runtime.smoothing import similarity_fit

    np.testing.assert_allclose(similarity_fit(moving_head(0), moving_head(40)), moving_head(40),
                               atol=1e-9)


def test_speed_is_measured_in_face_sizes() -> None:
    """The same motion on a face twice as large, twice as fast in pixels: the same relative lag."""
    def lag(scale: float) -> float:
        frames = [face(2.0 * i) * scale for i in range(40)]
        out = run(LandmarkSmoother(OneEuro(min_cutoff=1.0, beta=5.0, frame="image")), frames)
        return float(np.abs(out[-1] - frames[-1]).mean() / scale)

    assert lag(1.0) > 0.1
    assert lag(2.0) == pytest.approx(lag(1.0), rel=1e-6)


def test_reset_and_time_going_back_restart_the_filter() -> None:
    s = LandmarkSmoother()
    s(face(), 0.0)
    s(face(5.0), 1 / FPS)
    np.testing.assert_array_equal(s(face(50.0), 0.0), face(50.0))  # time went back
    s.reset()
    np.testing.assert_array_equal(s(face(9.0), 5.0), face(9.0))


def test_alpha_is_a_low_pass_factor() -> None:
    assert 0 < alpha(1.0, 1 / FPS) < alpha(10.0, 1 / FPS) < 1


def test_face_size_is_the_longer_side() -> None:
    assert face_size(np.array([[0.0, 0.0], [40.0, 10.0], [np.nan, 1e9]])) == 40.0


@pytest.mark.parametrize("kwargs", [{"min_cutoff": 0.0}, {"d_cutoff": 0.0}, {"beta": -1.0},
                                    {"min_cutoff": float("nan")}, {"beta": "fast"},
                                    {"frame": "world"}])
def test_bad_parameters_are_one_clear_error(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="One-Euro"):
        OneEuro(**kwargs)
