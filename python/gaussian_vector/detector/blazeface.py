"""BlazeFace short-range face detection in LiteRT, with our own anchor decoding and weighted NMS.

The model (`data/face_detection_short_range.tflite`, MediaPipe, Apache-2.0; see data/NOTICE.md)
takes a 128 x 128 RGB image in [-1, 1] and returns 896 anchor regressions (box centre and size,
six keypoints) and logits. The image is letterboxed to a square first, as MediaPipe does, so the
face's aspect ratio survives.

The landmark models were trained on crops of the tight box around the 68 landmarks, which is not
the box BlazeFace draws (BlazeFace's reaches higher up the forehead and less far down the chin).
`to_landmark_box` maps one to the other with a fixed centre shift and scale, fitted on 300-W
training faces (docs/runtime.md, "Face detector"); the landmark crop then sees faces framed as in
training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..image import as_rgb
from .anchors import FULL_RANGE_STRIDES, SHORT_RANGE_STRIDES, ssd_anchors
from .nms import weighted_nms

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BoxMapping:
    """Detector box -> landmark box: centre shift (fractions of the detector box's width and
    height) and the landmark box's width and height as multiples of the detector box's."""

    dx: float = 0.0
    dy: float = 0.0
    sw: float = 1.0
    sh: float = 1.0

    def apply(self, boxes: np.ndarray) -> np.ndarray:
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        cx = (b[:, 0] + b[:, 2]) / 2 + self.dx * w
        cy = (b[:, 1] + b[:, 3]) / 2 + self.dy * h
        hw, hh = self.sw * w / 2, self.sh * h / 2
        return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)


#: Fitted on the 1,107 300-W AFW + HELEN training faces (HELEN val.txt held out), every one
#: detected: `python -m gaussian_vector.detector.calibrate ../shared/data` (docs/runtime.md).
LANDMARK_BOX = BoxMapping(dx=0.004, dy=0.051, sw=0.955, sh=0.929)
#: The same for full-range, whose boxes sit higher and are larger still: fitted on the 974 of
#: those faces it finds (`... calibrate ../shared/data --variant full`).
FULL_RANGE_BOX = BoxMapping(dx=0.001, dy=0.098, sw=0.886, sh=0.856)


@dataclass(frozen=True)
class Variant:
    """One BlazeFace model and its anchor options (MediaPipe's face_detection_*.pbtxt)."""

    model: Path
    input_size: int
    strides: tuple[int, ...]
    per_layer: int
    score_threshold: float
    mapping: BoxMapping  # its boxes -> landmark boxes


SHORT_RANGE = Variant(
    DATA / "face_detection_short_range.tflite", 128, SHORT_RANGE_STRIDES, 2, 0.5, LANDMARK_BOX
)
FULL_RANGE = Variant(
    DATA / "face_detection_full_range_sparse.tflite", 192, FULL_RANGE_STRIDES, 1, 0.6,
    FULL_RANGE_BOX,
)
VARIANTS = {"short": SHORT_RANGE, "full": FULL_RANGE}
MODEL_PATH = SHORT_RANGE.model


@dataclass
class Detections:
    """Faces found in one image, in image pixel coordinates (0-based pixel centres)."""

    boxes: np.ndarray  # (M, 4) x0, y0, x1, y1: BlazeFace's own boxes
    scores: np.ndarray  # (M,)
    keypoints: np.ndarray  # (M, 6, 2): eyes, nose tip, mouth, ear tragions
    variant: Variant | None = None  # the model that found them


class _Model:
    """One BlazeFace variant loaded in LiteRT: image -> raw detections."""

    def __init__(self, variant: Variant, threads: int | None, kernels: str = "default") -> None:
        from ..modelfile.errors import InterpreterMissing
        from ..modelfile.quiet import litert_info_filtered
        from ..modelfile.tflite_files import import_litert, resolver_kwargs

        try:
            interpreter_cls, _, resolver = import_litert()
        except InterpreterMissing as e:
            raise InterpreterMissing(
                f"the bundled face detector (BlazeFace) runs in LiteRT: {e}; or pass face boxes "
                "(detect(image, boxes) / gv-infer --box)"
            ) from e
        self.variant = variant
        with litert_info_filtered():
            self.interpreter = interpreter_cls(model_path=str(variant.model), num_threads=threads,
                                               **resolver_kwargs(resolver, kernels))
            self.interpreter.allocate_tensors()
        inp = self.interpreter.get_input_details()[0]
        outs = {tuple(d["shape"])[-1]: d["index"] for d in self.interpreter.get_output_details()}
        self._in, self._reg, self._cls = inp["index"], outs[16], outs[1]
        self.anchors = ssd_anchors(variant.input_size, variant.strides, 0.5, variant.per_layer)

    def detect(self, image: np.ndarray, nms_threshold: float) -> Detections:
        """Detections after the variant's score threshold and weighted NMS."""
        import cv2

        size = self.variant.input_size
        img = as_rgb(image)
        h, w = img.shape[:2]
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        square = cv2.copyMakeBorder(
            img, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=0
        )
        interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
        x = cv2.resize(square, (size, size), interpolation=interp).astype(np.float32)
        x = x[None] / np.float32(127.5) - np.float32(1.0)
        self.interpreter.set_tensor(self._in, x)
        self.interpreter.invoke()
        reg = self.interpreter.get_tensor(self._reg)[0]
        logits = self.interpreter.get_tensor(self._cls)[0, :, 0].astype(np.float64)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        keep = scores >= self.variant.score_threshold
        reg, scores, anchors = reg[keep].astype(np.float64), scores[keep], self.anchors[keep]
        centre = reg[:, :2] / size + anchors
        half = reg[:, 2:4] / size / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = reg[:, 4:16].reshape(-1, 6, 2) / size + anchors[:, None, :]
        boxes, scores, kps = weighted_nms(boxes, scores, kps, nms_threshold)
        # normalised square coordinates -> image pixel centres
        to_px = np.array([side, side], np.float64)
        shift = np.array([left + 0.5, top + 0.5])
        boxes = (boxes.reshape(-1, 2, 2) * to_px - shift).reshape(-1, 4)
        kps = kps * to_px - shift
        return Detections(boxes, scores, kps, self.variant)


class BlazeFace:
    """BlazeFace in ai-edge-litert (or tflite-runtime); call it on an RGB image.

    `variant="auto"` runs short-range (faces that fill a good part of the frame: selfies,
    portraits) and, when it finds nothing, full-range (small faces in a larger scene).
    """

    def __init__(
        self,
        variant: str = "auto",
        *,
        threads: int | None = None,
        nms_threshold: float = 0.3,
        mapping: BoxMapping | None = None,
        kernels: str = "default",
    ) -> None:
        """`mapping`: detector box -> landmark box; None uses each variant's fitted one."""
        choices = {"auto": (SHORT_RANGE, FULL_RANGE), "short": (SHORT_RANGE,),
                   "full": (FULL_RANGE,)}
        if variant not in choices:
            raise ValueError(f"variant must be one of {', '.join(choices)}, got {variant!r}")
        self._variants = choices[variant]
        self._models: dict[Variant, _Model] = {}
        self._threads, self.nms_threshold, self.mapping = threads, nms_threshold, mapping
        self._kernels = kernels

    def _model(self, v: Variant) -> _Model:
        if v not in self._models:
            self._models[v] = _Model(v, self._threads, self._kernels)
        return self._models[v]

    def detect(self, image: np.ndarray) -> Detections:
        """BlazeFace's own boxes (not yet mapped to landmark boxes), best first."""
        for v in self._variants:
            d = self._model(v).detect(image, self.nms_threshold)
            if len(d.scores):
                return d
        return d

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face boxes in the landmark models' convention (M, 4), and scores (M,), best first."""
        d = self.detect(image)
        mapping = self.mapping or (d.variant.mapping if d.variant else LANDMARK_BOX)
        return mapping.apply(d.boxes), d.scores


def fit_mapping(detected: np.ndarray, landmark_boxes: np.ndarray) -> BoxMapping:
    """The BoxMapping taking detector boxes (M, 4) to landmark boxes (M, 4): medians of the
    per-face centre shifts and size ratios (robust to the odd wrong detection)."""
    d = np.asarray(detected, np.float64).reshape(-1, 4)
    g = np.asarray(landmark_boxes, np.float64).reshape(-1, 4)
    dw, dh = d[:, 2] - d[:, 0], d[:, 3] - d[:, 1]
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    dx = ((g[:, 0] + g[:, 2]) - (d[:, 0] + d[:, 2])) / 2 / dw
    dy = ((g[:, 1] + g[:, 3]) - (d[:, 1] + d[:, 3])) / 2 / dh
    return BoxMapping(*(float(np.median(v)) for v in (dx, dy, gw / dw, gh / dh)))
