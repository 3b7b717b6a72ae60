"""Weighted non-maximum suppression (BlazeFace's "WEIGHTED" overlap type): the boxes that overlap
the best remaining one are averaged, weighted by score, instead of being dropped. It steadies the
box from frame to frame, which a landmark crop is sensitive to."""

from __future__ import annotations

import numpy as np


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with each of `boxes` (M, 4)."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_box(truth: np.ndarray, boxes: np.ndarray, min_iou: float = 0.3) -> np.ndarray | None:
    """The box of `boxes` (M, 4) that overlaps `truth` most, or None when none reaches `min_iou`
    (a missed face: the detector found someone else, or nothing)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return None
    overlap = iou(np.asarray(truth, np.float64), boxes)
    best = int(np.argmax(overlap))
    return boxes[best] if overlap[best] >= min_iou else None


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, extra: np.ndarray | None = None,
    threshold: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Merge overlapping detections. `boxes` (M, 4), `scores` (M,), `extra` (M, ...) (e.g.
    keypoints) is averaged along with the boxes. Returns them for the kept faces, best first;
    each kept score is the best score of its cluster."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    extra = None if extra is None else extra[order]
    out_b, out_s, out_e = [], [], []
    remaining = np.arange(len(boxes))
    while remaining.size:
        best = remaining[0]
        overlap = iou(boxes[best], boxes[remaining]) > threshold
        cluster = remaining[overlap]
        w = scores[cluster][:, None]
        out_b.append((boxes[cluster] * w).sum(0) / w.sum())
        out_s.append(scores[best])
        if extra is not None:
            we = w.reshape(-1, *([1] * (extra.ndim - 1)))
            out_e.append((extra[cluster] * we).sum(0) / we.sum())
        remaining = remaining[~overlap]
    b = np.array(out_b, np.float64).reshape(-1, 4)
    s = np.array(out_s, np.float64)
    e = None if extra is None else np.array(out_e, np.float64).reshape(-1, *extra.shape[1:])
    return b, s, e
