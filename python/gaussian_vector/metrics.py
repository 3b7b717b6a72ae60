"""Landmark accuracy metrics (numpy only; the runtime and gv-bench reuse them).

Per image: NME = mean over landmarks of the point-to-point error / a normalising distance
(inter-ocular: outer eye corners; inter-pupil: pupil centres). Over a set: mean NME, failure
rate FR@t = fraction of images with NME > t, AUC@t = area under the CED curve up to t divided
by t, and per-landmark mean normalised error.
"""

from __future__ import annotations

import numpy as np

from .schemes import Scheme, get_scheme


def _pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 2:
        raise ValueError(f"predictions and ground truth must both be (N, K, 2), got "
                         f"{p.shape} and {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("ground-truth landmarks contain NaN or Inf")
    return p, g


def normaliser(gt: np.ndarray, scheme: Scheme | str, norm: str = "ion") -> np.ndarray:
    """Normalising distance per image `(N,)`: 'ion' (outer eye corners) or 'ipn' (pupils)."""
    scheme = get_scheme(scheme) if not isinstance(scheme, Scheme) else scheme
    if norm == "ion":
        d = scheme.interocular(gt)
    elif norm == "ipn":
        d = scheme.interpupil(gt)
    else:
        raise ValueError(f"norm must be 'ion' or 'ipn', got {norm!r}")
    if np.any(d <= 0):
        raise ValueError(f"{np.sum(d <= 0)} images have a zero {norm} distance")
    return d


def point_errors(pred: np.ndarray, gt: np.ndarray, scheme: Scheme | str,
                 norm: str = "ion") -> np.ndarray:
    """Normalised error of every landmark `(N, K)`; a non-finite prediction counts as inf."""
    p, g = _pair(pred, gt)
    e = np.linalg.norm(p - g, axis=-1)
    e = np.where(np.isfinite(e), e, np.inf)
    return e / normaliser(g, scheme, norm)[:, None]


def nme_per_image(pred: np.ndarray, gt: np.ndarray, scheme: Scheme | str,
                  norm: str = "ion") -> np.ndarray:
    """NME of each image `(N,)` (fraction, not %)."""
    return point_errors(pred, gt, scheme, norm).mean(axis=1)


def ced(
    nme: np.ndarray, threshold: float = 0.1, steps: int = 1001
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: thresholds `(steps,)` in [0, t] and fraction of images
    with NME <= each threshold."""
    e = np.asarray(nme, dtype=np.float64).ravel()
    if e.size == 0:
        raise ValueError("CED needs at least one image")
    xs = np.linspace(0.0, threshold, steps)
    ys = (e[None, :] <= xs[:, None]).mean(axis=1)
    return xs, ys


def failure_rate(nme: np.ndarray, threshold: float = 0.1) -> float:
    """Fraction of images whose NME exceeds `threshold`."""
    e = np.asarray(nme, dtype=np.float64).ravel()
    if e.size == 0:
        raise ValueError("failure rate needs at least one image")
    return float(np.mean(e > threshold))


def auc(nme: np.ndarray, threshold: float = 0.1, steps: int = 1001) -> float:
    """Area under the CED curve up to `threshold`, divided by `threshold` (1 = all perfect)."""
    xs, ys = ced(nme, threshold, steps)
    area = float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2.0)
    return area / threshold


def summarise(pred: np.ndarray, gt: np.ndarray, scheme: Scheme | str = "300w68",
              threshold: float = 0.1) -> dict:
    """Every metric for one set: n, nme_ion, nme_ipn, fr_<t>, auc_<t> (fractions), per-landmark
    ION error and per-image ION NME (lists, for the JSON report and CED plots)."""
    ion = point_errors(pred, gt, scheme, "ion")
    per_image = ion.mean(axis=1)
    ipn = nme_per_image(pred, gt, scheme, "ipn")
    t = f"{threshold:g}"
    return {
        "n": int(len(per_image)),
        "nme_ion": float(per_image.mean()),
        "nme_ipn": float(ipn.mean()),
        f"fr_{t}": failure_rate(per_image, threshold),
        f"auc_{t}": auc(per_image, threshold),
        "per_landmark_ion": ion.mean(axis=0).tolist(),
        "per_image_ion": per_image.tolist(),
    }


def format_summary(res: dict, threshold: float = 0.1) -> str:
    """'ION 3.46% IPN 4.81% FR@0.1 0.0% AUC@0.1 0.6540': the one way the commands print a
    `summarise` result (errors in percent; the JSON files keep fractions)."""
    t = f"{threshold:g}"
    return (f"ION {res['nme_ion'] * 100:.2f}% IPN {res['nme_ipn'] * 100:.2f}% "
            f"FR@{t} {res[f'fr_{t}'] * 100:.1f}% AUC@{t} {res[f'auc_{t}']:.4f}")


def paired_difference(a: np.ndarray, b: np.ndarray, n_boot: int = 10000,
                      seed: int = 0, level: float = 0.95) -> dict:
    """Mean of a − b over the same images (e.g. per-image NME of two models), a bootstrap
    confidence interval of it (images resampled with replacement), and how often each is lower:
    how sure a difference between two models on a small validation set is."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"need two equal-length 1-D arrays, got {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d = a - b
    idx = np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return {"mean": float(d.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "level": level, "a_lower": int((d < 0).sum()), "b_lower": int((d > 0).sum()),
            "n": int(d.size)}
