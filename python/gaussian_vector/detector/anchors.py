"""SSD anchors of BlazeFace short-range, as MediaPipe's SsdAnchorsCalculator makes them.

Options of `face_detection_short_range.pbtxt`: 4 layers, strides 8, 16, 16, 16, one aspect ratio
plus the interpolated scale, fixed anchor size, offset 0.5, input 128 x 128. Layers that share a
stride share a feature map, so the 16 x 16 map has 2 anchors a cell and the 8 x 8 map 6:
16·16·2 + 8·8·6 = 896, the model's output count. Full-range: one layer of stride 4 on a 192 x 192
input, one anchor a cell.
"""

from __future__ import annotations

import numpy as np

SHORT_RANGE_STRIDES = (8, 16, 16, 16)


FULL_RANGE_STRIDES = (4,)


def ssd_anchors(
    input_size: int = 128,
    strides: tuple[int, ...] = SHORT_RANGE_STRIDES,
    offset: float = 0.5,
    per_layer: int = 2,
) -> np.ndarray:
    """Anchor centres (A, 2) as (x, y) fractions of the input, in the model's output order.

    With a fixed anchor size all anchors have unit width and height, so only centres matter;
    `per_layer` anchors per layer sit on each cell: 2 for short-range (aspect ratio 1 and the
    interpolated scale), 1 for full-range (no interpolated scale, strides (4,): 48 x 48 = 2304).
    """
    centres: list[np.ndarray] = []
    i = 0
    while i < len(strides):
        stride, layers = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            layers, i = layers + 1, i + 1
        side = int(np.ceil(input_size / stride))
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        cell = np.stack([(xs + offset) / side, (ys + offset) / side], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, per_layer * layers, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)
