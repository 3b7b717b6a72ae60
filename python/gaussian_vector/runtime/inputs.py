"""uint8 RGB face crops -> the model's input tensor, through a 256-entry table per channel.

`preprocess.normalise` is elementwise per channel, so its value for every possible byte can be
computed once (by calling it on the bytes 0-255) and then looked up: the result is bit-identical
to calling `normalise` on the crop (a test pins that), at a fraction of the cost, and int8 models
get their quantised input from the same table (one lookup, no float tensor at all).
"""

from __future__ import annotations

import numpy as np

from ..config import ModelConfig
from ..preprocess import normalise


class InputEncoder:
    """Encode crops (M, S, S, 3) uint8 for one model: layout NHWC/NCHW, dtype, quantisation."""

    def __init__(
        self,
        config: ModelConfig,
        layout: str,
        dtype: np.dtype,
        scale: float | None = None,
        zero_point: int | None = None,
    ) -> None:
        if layout not in ("NHWC", "NCHW"):
            raise ValueError(f"input layout must be NHWC or NCHW, got {layout!r}")
        self.layout, self.dtype = layout, np.dtype(dtype)
        byte = np.arange(256, dtype=np.uint8)
        table = normalise(np.repeat(byte[:, None], 3, axis=1)[None], config)[:, 0, :]  # (3, 256)
        if self.dtype.kind in "iu":
            if scale is None or zero_point is None:
                raise ValueError(f"an {self.dtype} input needs its scale and zero point")
            info = np.iinfo(self.dtype)
            q = np.round(table / np.float32(scale)) + zero_point
            table = np.clip(q, info.min, info.max)
        # cv2.LUT layout: (1, 256, channels), of the output dtype
        self._lut = np.ascontiguousarray(table.T[None].astype(self.dtype))

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """(M, S, S, 3) uint8 RGB -> (M, S, S, 3) or (M, 3, S, S) of the model's dtype."""
        import cv2

        m, s = crops.shape[0], crops.shape[1]
        flat = np.ascontiguousarray(crops).reshape(m * s, s, 3)
        if self.dtype == np.float32 or self.dtype.itemsize == 1:
            out = cv2.LUT(flat, self._lut).reshape(m, s, s, 3)
        else:  # dtypes cv2.LUT cannot produce: numpy gather
            out = self._lut[0, flat, np.arange(3)].reshape(m, s, s, 3)
        if self.layout == "NCHW":
            out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
        return out
