"""Bad input to the native decoder raises ValueError naming the problem, never crashes; and a
hypothesis fuzz of arbitrary arrays through the binding either decodes like the reference or
raises ValueError."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaussian_vector import decode as ref
from gaussian_vector import native
from gaussian_vector.decode_rules import DecodeRules

F = np.ones((2, 5, 8), np.float32)
Q = np.ones((2, 5, 8), np.int8)
H = np.ones((2, 5, 6, 7), np.float32)


def strided(a: np.ndarray) -> np.ndarray:
    """A non-contiguous view with a's shape."""
    big = np.repeat(a, 2, axis=-1)
    return big[..., ::2]


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: native.decode_vectors(F[0, 0], F[0, 0]), "at least 2 dimensions"),
        (lambda: native.decode_vectors(F, F[:1]), "agree on all but the last axis"),
        (lambda: native.decode_vectors(F, F[..., :1]), "length >= 2"),
        (lambda: native.decode_vectors(np.ones((2, 0, 8), np.float32), F), "empty"),
        (lambda: native.decode_vectors(np.ones((0, 5, 8), np.float32), F), "empty"),
        (lambda: native.decode_vectors(F.astype(np.float64), F), "dtype float32"),
        (lambda: native.decode_vectors(F, F.astype(">f4")), "dtype float32"),
        (lambda: native.decode_vectors(F.tolist(), F), "numpy array"),
        (lambda: native.decode_vectors(strided(F), F), "C-contiguous"),
        (lambda: native.decode_vectors(F, F, DecodeRules(sigma=0.0)), "sigma"),
        (lambda: native.decode_vectors(F, F, DecodeRules(sigma=-1.0)), "sigma"),
        (lambda: native.decode_vectors(F, F, DecodeRules(sigma=float("nan"))), "sigma"),
        (lambda: native.decode_vectors(F, F, DecodeRules(tau=0.0)), "tau"),
        (lambda: native.decode_vectors(F, F, DecodeRules(tau=float("inf"))), "tau"),
        (lambda: native.decode_vectors_int8(F, F, 0.1, 0), "dtype int8 or uint8"),
        (lambda: native.decode_vectors_int8(Q, Q.astype(np.uint8), 0.1, 0), "same dtype"),
        (lambda: native.decode_vectors_int8(Q, Q, 0.0, 0), "scale"),
        (lambda: native.decode_vectors_int8(Q, Q, -0.5, 0), "scale"),
        (lambda: native.decode_vectors_int8(Q, Q, float("nan"), 0), "scale"),
        (lambda: native.decode_vectors_int8(Q, Q, 1e-300, 0), "scale"),
        (lambda: native.decode_vectors_int8(Q, Q, 0.1, 128), "zero_point"),
        (lambda: native.decode_vectors_int8(Q.astype(np.uint8), Q.astype(np.uint8), 0.1, -1),
         "zero_point"),
        (lambda: native.decode_packed(F, 1), "width"),
        (lambda: native.decode_packed(F, 7), "width"),
        (lambda: native.decode_packed(F[..., :3], 2), "length >= 4"),
        (lambda: native.decode_packed(strided(F), 4), "C-contiguous"),
        (lambda: native.decode_packed_int8(Q, 4, 0.0, 0), "scale"),
        (lambda: native.decode_heatmaps(F[0]), "at least 3 dimensions"),
        (lambda: native.decode_heatmaps(H.astype(np.float16)), "dtype float32"),
        (lambda: native.decode_heatmaps(np.ones((2, 0, 6, 7), np.float32)), "empty"),
        (lambda: native.decode_heatmaps(np.ones((2, 5, 6, 0), np.float32)), "empty"),
        (lambda: native.decode_heatmaps(strided(H)), "C-contiguous"),
        (lambda: native.decode_heatmaps_int8(H, 0.1, 0), "dtype int8 or uint8"),
        (lambda: native.decode_heatmaps_int8(H.astype(np.int8), float("inf"), 0), "scale"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        call()


def test_unaligned_input_is_rejected() -> None:
    raw = np.zeros(2 * 5 * 8 * 4 + 1, np.uint8)
    unaligned = raw[1:].view(np.float32).reshape(2, 5, 8)
    assert not unaligned.flags.aligned
    with pytest.raises(ValueError, match="aligned"):
        native.decode_vectors(unaligned, unaligned)


def test_nan_and_inf_inputs_have_the_documented_result() -> None:
    x = np.full((1, 2, 6), np.nan, np.float32)
    x[0, 1] = [np.nan, 0.5, np.inf, np.inf, 0.0, -np.inf]
    coords, scores = native.decode_vectors(x, x, DecodeRules(sigma=2.0))
    # All NaN: argmax 0, the peak NaN is below no tau, so Beyond Box puts it 3 sigma outside.
    np.testing.assert_array_equal(coords[0, 0], [-6.0, -6.0])
    assert np.isnan(scores[0, 0])
    # inf wins (first of two), NaN never does; neighbours inf vs 0.5 shift +0.25.
    np.testing.assert_array_equal(coords[0, 1], [2.25, 2.25])
    assert scores[0, 1] == np.inf


@settings(max_examples=400, deadline=None)
@given(
    a=hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int8, np.uint8, np.int32, np.float16]),
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    ),
    b_same=st.booleans(),
    width=st.integers(-3, 10),
    sigma=st.floats(allow_nan=True, allow_infinity=True),
    scale=st.floats(allow_nan=True, allow_infinity=True),
    zp=st.integers(-300, 300),
)
def test_fuzz_binding_never_crashes(a, b_same, width, sigma, scale, zp) -> None:
    b = a if b_same or a.ndim == 0 else a[..., :1]
    for call in (
        lambda: native.decode_vectors(a, b, DecodeRules(sigma=sigma)),
        lambda: native.decode_vectors_int8(a, b, scale, zp),
        lambda: native.decode_packed(a, width),
        lambda: native.decode_packed_int8(a, width, scale, zp),
        lambda: native.decode_heatmaps(a),
        lambda: native.decode_heatmaps_int8(a, scale, zp),
    ):
        try:
            coords, scores = call()
        except ValueError:
            continue
        assert coords.shape[:-1] == scores.shape and coords.shape[-1] == 2
    if a.dtype == np.float32 and a.ndim >= 2 and a.size and a.shape[-1] >= 2 and np.isfinite(
        sigma
    ) and sigma > 0:
        assert_equal = np.testing.assert_array_equal
        got = native.decode_vectors(a, a, DecodeRules(sigma=sigma))
        want = ref.decode_vectors(a, a, DecodeRules(sigma=sigma))
        assert_equal(got[0], want[0])
        assert_equal(got[1], want[1])


def import_native_with_isa(name: str) -> str:
    """stdout of a fresh interpreter importing gaussian_vector.native with GV_DECODE_ISA=name:
    'W <message>' when the import warns, else 'isa <path in use>'."""
    code = ("import warnings; warnings.simplefilter('error')\n"
            "try:\n    import gaussian_vector.native as n; print('isa', n.isa())\n"
            "except RuntimeWarning as w: print('W', w)")
    env = {**os.environ, "GV_DECODE_ISA": name}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("name", ["avx9000", "neon_or_sse"])
def test_an_isa_name_that_cannot_run_warns_on_import(name: str) -> None:
    out = import_native_with_isa(name)
    assert out.startswith("W ") and repr(name) in out and "decoding with" in out


def test_a_supported_isa_name_is_used_without_a_warning() -> None:
    assert import_native_with_isa("scalar") == "isa scalar"
    assert import_native_with_isa("automatic") == f"isa {native.isa()}"
