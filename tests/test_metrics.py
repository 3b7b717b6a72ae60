"""Metrics against hand computations: NME by ION/IPN, FR, AUC, CED, per-landmark error."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector import metrics
from gaussian_vector.schemes import get_scheme


def _face(rng: np.random.Generator, n: int = 68) -> np.ndarray:
    return rng.uniform(20, 200, (n, 2))


def test_nme_equals_a_hand_loop() -> None:
    rng = np.random.default_rng(0)
    gt = np.stack([_face(rng) for _ in range(5)])
    pred = gt + rng.normal(0, 3, gt.shape)
    want_ion, want_ipn = [], []
    for p, g in zip(pred, gt, strict=True):
        err = [np.hypot(*(p[k] - g[k])) for k in range(68)]
        iod = np.hypot(*(g[36] - g[45]))
        ipd = np.hypot(*(g[36:42].mean(0) - g[42:48].mean(0)))
        want_ion.append(np.mean(err) / iod)
        want_ipn.append(np.mean(err) / ipd)
    res = metrics.summarise(pred, gt, "300w68")
    assert res["n"] == 5
    assert res["nme_ion"] == pytest.approx(np.mean(want_ion))
    assert res["nme_ipn"] == pytest.approx(np.mean(want_ipn))
    np.testing.assert_allclose(res["per_image_ion"], want_ion)
    assert len(res["per_landmark_ion"]) == 68


def test_failure_rate_and_auc_on_known_distributions() -> None:
    nme = np.array([0.0, 0.05, 0.2, 0.099])
    assert metrics.failure_rate(nme, 0.1) == pytest.approx(0.25)
    assert metrics.auc(np.zeros(10)) == pytest.approx(1.0)
    assert metrics.auc(np.full(10, 0.5)) == pytest.approx(0.0)
    # all images at 0.05: the CED is 0 up to 0.05 and 1 after -> half the area
    assert metrics.auc(np.full(4, 0.05)) == pytest.approx(0.5, abs=2e-3)
    xs, ys = metrics.ced(nme)
    assert xs[0] == 0 and xs[-1] == pytest.approx(0.1)
    assert np.all(np.diff(ys) >= 0) and ys[-1] == pytest.approx(0.75)


def test_nan_prediction_is_a_failure_not_a_crash() -> None:
    rng = np.random.default_rng(2)
    gt = np.stack([_face(rng)])
    pred = gt.copy()
    pred[0, 3] = np.nan
    res = metrics.summarise(pred, gt)
    assert res["fr_0.1"] == 1.0 and np.isinf(res["nme_ion"])


def test_bad_shapes_and_zero_distances_are_value_errors() -> None:
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        metrics.nme_per_image(np.zeros((2, 68, 2)), np.zeros((2, 67, 2)), "300w68")
    with pytest.raises(ValueError, match="zero ion distance"):
        metrics.nme_per_image(np.zeros((1, 68, 2)), np.zeros((1, 68, 2)), "300w68")
    with pytest.raises(ValueError, match="'ion' or 'ipn'"):
        metrics.normaliser(np.ones((1, 68, 2)), "300w68", "box")


def test_other_schemes_use_their_own_eye_points() -> None:
    rng = np.random.default_rng(3)
    gt = rng.uniform(0, 100, (1, 98, 2))
    pred = gt + 1.0
    s = get_scheme("wflw98")
    want = np.sqrt(2) / np.hypot(*(gt[0, 60] - gt[0, 72]))
    assert metrics.nme_per_image(pred, gt, s)[0] == pytest.approx(want)
    assert metrics.nme_per_image(pred, gt, s, "ipn")[0] == pytest.approx(
        np.sqrt(2) / np.hypot(*(gt[0, 96] - gt[0, 97])))


def test_paired_difference_mean_wins_and_interval() -> None:
    from gaussian_vector.metrics import paired_difference

    a = np.array([0.03, 0.04, 0.05, 0.02])
    b = np.array([0.04, 0.04, 0.06, 0.01])
    r = paired_difference(a, b, n_boot=2000)
    assert r["mean"] == pytest.approx(np.mean(a - b))
    assert (r["a_lower"], r["b_lower"], r["n"]) == (2, 1, 4)
    assert -0.01 <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= 0.01
    # a clear, consistent gap gives an interval that excludes zero
    rng = np.random.default_rng(1)
    base = rng.uniform(0.02, 0.06, 200)
    gap = paired_difference(base - 0.005 + rng.normal(0, 0.001, 200), base)
    assert gap["ci_high"] < 0 and gap["a_lower"] > 190
    with pytest.raises(ValueError, match="equal-length"):
        paired_difference(a, b[:3])
