"""The runtime's input encoding is the training's `preprocess.normalise`, bit for bit, in either
layout, and its int8 quantisation is round(x / scale) + zero point, clipped."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector.config import ModelConfig
from gaussian_vector.preprocess import normalise
from gaussian_vector.runtime.inputs import InputEncoder

CFG = ModelConfig(mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
CROPS = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)


def test_float_nchw_and_nhwc_equal_normalise_exactly():
    ref = normalise(CROPS, CFG)
    np.testing.assert_array_equal(InputEncoder(CFG, "NCHW", np.float32)(CROPS), ref)
    np.testing.assert_array_equal(InputEncoder(CFG, "NHWC", np.float32)(CROPS),
                                  np.moveaxis(ref, 1, -1))


@pytest.mark.parametrize("dtype, scale, zp", [(np.int8, 0.0187, -14), (np.uint8, 0.02, 120)])
def test_integer_inputs_are_quantised_from_normalise(dtype, scale, zp):
    ref = np.moveaxis(normalise(CROPS, CFG), 1, -1)
    info = np.iinfo(dtype)
    want = np.clip(np.round(ref / np.float32(scale)) + zp, info.min, info.max).astype(dtype)
    got = InputEncoder(CFG, "NHWC", dtype, scale, zp)(CROPS)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        InputEncoder(CFG, "CHW", np.float32)
    with pytest.raises(ValueError, match="scale and zero point"):
        InputEncoder(CFG, "NHWC", np.int8)
