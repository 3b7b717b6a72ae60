"""The native decoder returns the numpy reference's numbers: float32 and int8/uint8, split and
packed layouts, batches and single faces, heatmaps, both sub-pixel rules, and from several
threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaussian_vector import decode as ref
from gaussian_vector import native
from gaussian_vector.decode_rules import DecodeRules

SPECIALS = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40], dtype=np.float32)
SUBPIXEL = pytest.mark.parametrize("subpixel", ref.SUBPIXEL_MODES)


def gv_like(rng: np.random.Generator, shape: tuple[int, ...], specials: bool = True) -> np.ndarray:
    """Noisy Gaussian bumps (peaks inside and beyond both ends), ties and special values."""
    w = shape[-1]
    centre = rng.uniform(-8, w + 8, size=shape[:-1] + (1,))
    width = rng.uniform(0.7, 4.0, size=shape[:-1] + (1,))
    height = rng.uniform(0.05, 3.5, size=shape[:-1] + (1,))
    v = height * np.exp(-0.5 * ((np.arange(w) - centre) / width) ** 2)
    v = v + rng.uniform(-0.05, 0.05, size=shape) * rng.integers(0, 2, size=shape[:-1] + (1,))
    v = v.astype(np.float32)
    ties = rng.random(shape[:-1]) < 0.1
    v[ties] = np.round(v[ties] * 2) / 2
    if specials:
        mask = rng.random(shape) < 0.02
        v[mask] = rng.choice(SPECIALS, size=int(mask.sum()))
    return v


def assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32
    assert got[0].shape == want[0].shape and got[1].shape == want[1].shape
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


F3 = np.ones((2, 8), np.float32)
Q3 = np.ones((2, 8), np.int8)


def dequantise(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


def zero_point_at(dtype: np.dtype, fraction: float) -> int:
    """A zero point `fraction` of the way through the integer dtype's range."""
    info = np.iinfo(dtype)
    return int(info.min + round(fraction * (info.max - info.min)))


@SUBPIXEL
@pytest.mark.parametrize("seed", range(40))
def test_vectors_equal_reference_over_many_seeds(seed: int, subpixel: str) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 4)), int(rng.integers(1, 80))
    w, h = int(rng.integers(2, 130)), int(rng.integers(2, 130))
    x, y = gv_like(rng, (n, k, w)), gv_like(rng, (n, k, h))
    rules = DecodeRules(beyond_box=bool(rng.integers(0, 2)), tau=float(rng.uniform(0.2, 3.0)),
                        sigma=float(rng.uniform(0.5, 4.0)), subpixel=subpixel)
    assert_same(native.decode_vectors(x, y, rules), ref.decode_vectors(x, y, rules))
    packed = np.ascontiguousarray(np.concatenate([x, y], axis=-1))
    assert_same(native.decode_packed(packed, w, rules), ref.decode_vectors(x, y, rules))


@SUBPIXEL
@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_int8_equals_dequantise_then_reference(seed: int, dtype: type, subpixel: str) -> None:
    rng = np.random.default_rng(1000 + seed)
    info = np.iinfo(dtype)
    n, k, w, h = 2, int(rng.integers(1, 70)), int(rng.integers(2, 100)), int(rng.integers(2, 100))
    packed = rng.integers(info.min, info.max, size=(n, k, w + h), endpoint=True, dtype=dtype)
    scale = float(rng.choice([1 / 255, 0.0039215, 0.05, 1.7, float(rng.uniform(1e-4, 0.2))]))
    zp = int(rng.integers(info.min, info.max, endpoint=True))
    rules = DecodeRules(beyond_box=bool(rng.integers(0, 2)),
                        tau=scale * float(rng.uniform(1, 200)),
                        sigma=float(rng.uniform(0.5, 4.0)), subpixel=subpixel)
    real = dequantise(packed, scale, zp)
    want = ref.decode_vectors(real[..., :w], real[..., w:], rules)
    x, y = np.ascontiguousarray(packed[..., :w]), np.ascontiguousarray(packed[..., w:])
    assert_same(native.decode_vectors_int8(x, y, scale, zp, rules), want)
    assert_same(native.decode_packed_int8(packed, w, scale, zp, rules), want)


@SUBPIXEL
@pytest.mark.parametrize("seed", range(20))
def test_heatmaps_equal_reference(seed: int, subpixel: str) -> None:
    rng = np.random.default_rng(2000 + seed)
    n, k = int(rng.integers(1, 3)), int(rng.integers(1, 20))
    rows, cols = int(rng.integers(1, 70)), int(rng.integers(1, 70))
    hm = gv_like(rng, (n, k, rows * cols)).reshape(n, k, rows, cols)
    assert_same(native.decode_heatmaps(hm, DecodeRules(subpixel=subpixel)),
                ref.decode_heatmaps(hm, DecodeRules(subpixel=subpixel)))
    # A smooth 2-D bump as well: interior peaks on both axes, so the sub-pixel rule is used.
    r, c = np.arange(rows)[:, None], np.arange(cols)[None, :]
    cy = rng.uniform(0, rows - 1, size=(n, k, 1, 1))
    cx = rng.uniform(0, cols - 1, size=(n, k, 1, 1))
    bump = np.exp(-0.5 * ((r - cy) ** 2 + (c - cx) ** 2) / 4.0).astype(np.float32)
    assert_same(native.decode_heatmaps(bump, DecodeRules(subpixel=subpixel)),
                ref.decode_heatmaps(bump, DecodeRules(subpixel=subpixel)))
    for dtype in (np.int8, np.uint8):
        info = np.iinfo(dtype)
        q = rng.integers(info.min, info.max, size=hm.shape, endpoint=True, dtype=dtype)
        zp = int(rng.integers(info.min, info.max, endpoint=True))
        rules = DecodeRules(subpixel=subpixel)
        got = native.decode_heatmaps_int8(q, 0.02, zp, rules)
        assert_same(got, ref.decode_heatmaps(dequantise(q, 0.02, zp), rules))


finite32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


@settings(max_examples=300, deadline=None)
@given(
    x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=4, min_side=2, max_side=9),
                 elements=finite32),
    data=st.data(),
    beyond_box=st.booleans(),
    tau=st.floats(0.01, 10.0),
    sigma=st.floats(0.1, 10.0),
    subpixel=st.sampled_from(ref.SUBPIXEL_MODES),
)
def test_vectors_equal_reference_hypothesis(x, data, beyond_box, tau, sigma, subpixel) -> None:
    h = data.draw(st.integers(2, 9))
    y = data.draw(hnp.arrays(np.float32, x.shape[:-1] + (h,), elements=finite32))
    rules = DecodeRules(beyond_box=beyond_box, tau=tau, sigma=sigma, subpixel=subpixel)
    assert_same(native.decode_vectors(x, y, rules), ref.decode_vectors(x, y, rules))


def int8_arrays(min_dims: int, max_dims: int, min_side: int, max_side: int):
    """int8 or uint8 arrays of the given rank and side ranges."""
    return hnp.arrays(st.sampled_from([np.int8, np.uint8]),
                      hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                       max_side=max_side))


QUANT = {"scale": st.floats(1e-6, 1e3), "zp_fraction": st.floats(0, 1),
         "subpixel": st.sampled_from(ref.SUBPIXEL_MODES)}


@settings(max_examples=200, deadline=None)
@given(q=int8_arrays(2, 3, 2, 12), **QUANT)
def test_int8_equals_reference_hypothesis(q, scale, zp_fraction, subpixel) -> None:
    zp = zero_point_at(q.dtype, zp_fraction)
    real = dequantise(q, scale, zp)
    rules = DecodeRules(tau=100.0 * scale, sigma=2.0, subpixel=subpixel)
    assert_same(native.decode_vectors_int8(q, q, scale, zp, rules),
                ref.decode_vectors(real, real, rules))


@settings(max_examples=200, deadline=None)
@given(
    h=hnp.arrays(np.float32, hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=9),
                 elements=finite32),
    subpixel=st.sampled_from(ref.SUBPIXEL_MODES),
)
def test_heatmaps_equal_reference_hypothesis(h, subpixel) -> None:
    assert_same(native.decode_heatmaps(h, DecodeRules(subpixel=subpixel)),
                ref.decode_heatmaps(h, DecodeRules(subpixel=subpixel)))


@settings(max_examples=200, deadline=None)
@given(q=int8_arrays(3, 4, 1, 9), **QUANT)
def test_int8_heatmaps_equal_reference_hypothesis(q, scale, zp_fraction, subpixel) -> None:
    zp = zero_point_at(q.dtype, zp_fraction)
    assert_same(native.decode_heatmaps_int8(q, scale, zp, DecodeRules(subpixel=subpixel)),
                ref.decode_heatmaps(dequantise(q, scale, zp), DecodeRules(subpixel=subpixel)))


def test_parabola_recovers_a_sampled_vertex() -> None:
    j = np.arange(64)
    for centre in (5.25, 20.7, 20.3):
        v = (10.0 - (j - centre) ** 2).astype(np.float32)[None]
        xy, _ = native.decode_vectors(v, v, DecodeRules(subpixel="parabola"))
        np.testing.assert_array_equal(xy, np.full((1, 2), centre, np.float32))
    # The default stays the quarter shift toward the larger neighbour.
    xy, _ = native.decode_vectors(v, v)
    np.testing.assert_array_equal(xy, np.full((1, 2), 20.25, np.float32))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: native.decode_vectors(F3, F3, DecodeRules(subpixel=s)),
        lambda s: native.decode_vectors_int8(Q3, Q3, 0.1, 0, DecodeRules(subpixel=s)),
        lambda s: native.decode_packed(F3, 4, DecodeRules(subpixel=s)),
        lambda s: native.decode_packed_int8(Q3, 4, 0.1, 0, DecodeRules(subpixel=s)),
        lambda s: native.decode_heatmaps(F3[None], DecodeRules(subpixel=s)),
        lambda s: native.decode_heatmaps_int8(Q3[None], 0.1, 0, DecodeRules(subpixel=s)),
    ],
)
@pytest.mark.parametrize("name", ["xyz", "Quarter", "", None, 2])
def test_unknown_subpixel_raises_value_error_naming_it(call, name) -> None:
    with pytest.raises(ValueError, match="subpixel must be one of quarter, parabola") as err:
        call(name)
    assert str(err.value) == f"subpixel must be one of quarter, parabola, got {name!r}"
    with pytest.raises(ValueError) as want:
        ref.check_subpixel(name)
    assert str(err.value) == str(want.value)


# Vector lengths of the models' input sizes (64 at 256 px, 48 at 192 px; 16 to 128 from 64 to
# 512 px) and odd ones around them: x and y of one length, as a network gives them, take the
# decoder's short-row and whole-batch paths.
GV_LENGTHS = [16, 17, 24, 32, 40, 47, 48, 49, 56, 63, 64, 65, 72, 80, 96, 112, 127, 128, 129]


@SUBPIXEL
@pytest.mark.parametrize("length", GV_LENGTHS)
def test_every_input_size_equals_reference(length: int, subpixel: str) -> None:
    rng = np.random.default_rng(3000 + length)
    rules = DecodeRules(subpixel=subpixel)
    x, y = gv_like(rng, (3, 68, length)), gv_like(rng, (3, 68, length))
    want = ref.decode_vectors(x, y, rules)
    assert_same(native.decode_vectors(x, y, rules), want)
    packed = np.ascontiguousarray(np.concatenate([x, y], axis=-1))
    assert_same(native.decode_packed(packed, length, rules), want)
    for dtype in (np.int8, np.uint8):
        info = np.iinfo(dtype)
        q = rng.integers(info.min, info.max, size=(3, 68, 2 * length), endpoint=True, dtype=dtype)
        q[..., :: max(1, length // 5)] = info.max  # ties of the largest value, ends included
        scale, zp = 0.02, zero_point_at(dtype, 0.4)
        real = dequantise(q, scale, zp)
        want = ref.decode_vectors(real[..., :length], real[..., length:], rules)
        assert_same(native.decode_packed_int8(q, length, scale, zp, rules), want)
        xq, yq = np.ascontiguousarray(q[..., :length]), np.ascontiguousarray(q[..., length:])
        assert_same(native.decode_vectors_int8(xq, yq, scale, zp, rules), want)


def test_packed_split_batch_and_single_agree() -> None:
    rng = np.random.default_rng(7)
    x, y = gv_like(rng, (64, 68, 64)), gv_like(rng, (64, 68, 64))
    packed = np.ascontiguousarray(np.concatenate([x, y], axis=-1))
    whole = native.decode_vectors(x, y)
    assert_same(native.decode_packed(packed, 64), whole)
    for i in range(0, 64, 9):
        one = native.decode_vectors(x[i : i + 1], y[i : i + 1])
        assert_same(one, (whole[0][i : i + 1], whole[1][i : i + 1]))
    # Leading axes are kept: (K, W) and (A, B, K, W) work as well as (N, K, W).
    assert_same(native.decode_vectors(x[0], y[0]), (whole[0][0], whole[1][0]))
    four = native.decode_vectors(x.reshape(8, 8, 68, 64), y.reshape(8, 8, 68, 64))
    assert_same(four, (whole[0].reshape(8, 8, 68, 2), whole[1].reshape(8, 8, 68)))


def test_threads_get_the_same_answers() -> None:
    rng = np.random.default_rng(8)
    faces = [(gv_like(rng, (16, 68, 64)), gv_like(rng, (16, 68, 64))) for _ in range(8)]
    want = [ref.decode_vectors(x, y) for x, y in faces]
    heat = gv_like(rng, (2, 68, 4096)).reshape(2, 68, 64, 64)
    heat_want = ref.decode_heatmaps(heat)

    def work(i: int) -> bool:
        for _ in range(30):
            assert_same(native.decode_vectors(*faces[i % 8]), want[i % 8])
            assert_same(native.decode_heatmaps(heat), heat_want)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(32)))


def test_outputs_are_new_writable_arrays() -> None:
    x = np.zeros((1, 3, 8), np.float32)
    x[..., 4] = 1.0
    coords, scores = native.decode_vectors(x, x)
    assert coords.flags.c_contiguous and coords.flags.writeable and coords.flags.owndata
    np.testing.assert_array_equal(coords, np.full((1, 3, 2), 4.0, np.float32))
    np.testing.assert_array_equal(scores, np.ones((1, 3), np.float32))


def test_isa_names() -> None:
    assert native.isa() in native.supported_isas()
    assert "scalar" in native.supported_isas()
    assert set(native.supported_isas()) <= {"scalar", "sse41", "avx2", "avx512", "neon"}
