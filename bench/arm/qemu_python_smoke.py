"""Run under an aarch64 Python (qemu) by cross_test.sh: the cross-built gaussian_vector._native
must import, report the NEON path, and return the numpy reference's numbers on random inputs
(half of them with x and y of one length: 48 and 64, the 192 and 256 px models, and others)."""

from __future__ import annotations

import platform

import numpy as np

from gaussian_vector import decode as ref
from gaussian_vector import native
from gaussian_vector.decode_rules import DecodeRules


def main() -> None:
    assert platform.machine() == "aarch64", platform.machine()
    assert native.isa() == "neon", native.isa()
    for seed in range(20):
        rng = np.random.default_rng(seed)
        k, w, h = int(rng.integers(1, 70)), int(rng.integers(2, 130)), int(rng.integers(2, 130))
        if seed % 2 == 0:  # x and y alike, as a network gives them: the NEON face decoder
            w = h = (48, 64, 32, 20, 80, 128, 47, 16, 96, 56)[seed // 2]
        x = rng.normal(0, 1, (2, k, w)).astype(np.float32)
        y = rng.normal(0, 1, (2, k, h)).astype(np.float32)
        x[rng.random(x.shape) < 0.02] = np.nan
        for got, want in zip(native.decode_vectors(x, y), ref.decode_vectors(x, y), strict=True):
            np.testing.assert_array_equal(got, want)
        q = rng.integers(-128, 128, (2, k, w + h), dtype=np.int8)
        real = (q.astype(np.float32) - np.float32(3)) * np.float32(0.05)
        want = ref.decode_vectors(real[..., :w], real[..., w:], DecodeRules(tau=1.0))
        got = native.decode_packed_int8(q, w, 0.05, 3, DecodeRules(tau=1.0))
        for g, wv in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, wv)
        hm = rng.normal(0, 1, (1, k, 9, 11)).astype(np.float32)
        for g, wv in zip(native.decode_heatmaps(hm), ref.decode_heatmaps(hm), strict=True):
            np.testing.assert_array_equal(g, wv)
    try:
        native.decode_vectors(x.astype(np.float64), y)
    except ValueError as exc:
        assert "float32" in str(exc)
    else:
        raise AssertionError("float64 input was accepted")
    print(f"aarch64 python smoke: ok ({native.isa()}, numpy {np.__version__})")


if __name__ == "__main__":
    main()
