"""`FacePipeline`: an image -> its faces' landmarks, the whole on-device flow of docs/design.md.

It puts a face detector (the bundled BlazeFace by default, or any callable) in front of a
`Landmarker` and keeps what is not the model's: finding the faces, the second pass on each
face's own landmarks (`refine`), and the face-score filter that tells faces the model can read
from the detector's false alarms and from given boxes with no face in them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..affine import box_from_landmarks
from ..heads import HEADS
from ..modelfile.errors import NoFaceError, NotAFaceError
from .landmarker import Face, Landmarker, Timing, check_box

Detector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: Lowest face score (mean landmark confidence) taken as a face, per head (`Head.min_face_score`,
#: measured with the shipped models on 970 faces: bench/face_scores.py, docs/runtime.md).
MIN_FACE_SCORE = {name: head.min_face_score for name, head in HEADS.items()}


class FacePipeline:
    """A face detector and a landmark model: `detect(image)` finds the faces and their
    landmarks. Build with `from_file`, or around a `Landmarker` you have."""

    def __init__(self, landmarker: Landmarker, detector: Detector | None = None, *,
                 min_score: float | None = None) -> None:
        """`detector`: a callable image -> (boxes (M, 4), scores (M,)); by default the bundled
        BlazeFace, loaded on first use with the landmarker's threads and kernels. `min_score`:
        the lowest face score taken as a face (default: the model's own floor, else its head's
        `min_face_score`: `Head.face_score_floor`; 0 keeps every result)."""
        self.landmarker = landmarker
        self._detector = detector
        self.min_score = (landmarker.head.face_score_floor if min_score is None
                          else float(min_score))
        if not (np.isfinite(self.min_score) and self.min_score >= 0):
            raise ValueError(f"min_score must be a finite number >= 0, got {min_score!r}")
        self.timing = Timing()

    @classmethod
    def from_file(cls, path: str | Path | None = None, *, detector: Detector | None = None,
                  min_score: float | None = None, **options: object) -> FacePipeline:
        """The pipeline of an exported model: `Landmarker.from_file(path, **options)` (delegate,
        threads, cpu_fallback, providers, use_native, rules, kernels) behind `detector`, its
        faces filtered at `min_score`."""
        return cls(Landmarker.from_file(path, **options), detector, min_score=min_score)

    @property
    def detector(self) -> Detector:
        """The face detector, the bundled one loaded on first use."""
        if self._detector is None:
            from ..detector import default_detector

            lm = self.landmarker
            self._detector = default_detector(threads=lm.threads, kernels=lm.kernels)
        return self._detector

    def find_faces(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (M, 4) in the landmark-box convention and scores (M,); NoFaceError if none."""
        boxes, scores = self.detector(image)
        if len(boxes) == 0:
            raise NoFaceError("no face found")
        return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64)

    def detect(self, image: np.ndarray | str | Path, boxes: object | None = None, *,
               refine: bool = False) -> list[Face]:
        """Landmarks of each face in `image` (RGB uint8 array, or a file path).

        `boxes`: (M, 4) face boxes x0, y0, x1, y1 in the training's convention (the tight box
        around the 68 landmarks); None runs the detector. `refine`: run the model a second time
        on the box around its own first landmarks (the training's framing exactly; worth it
        when the boxes are rough, costs a second invoke). Faces scoring below `min_score` are
        no faces: the detector's are dropped, a given box is a NotAFaceError naming it.
        """
        lm = self.landmarker
        image = lm.image(image)
        h, w = image.shape[:2]
        self.timing = Timing()
        t0 = time.perf_counter()
        scores: list[float | None]
        if boxes is None:
            found, sc = self.find_faces(image)
            box_list = [check_box(b, h, w) for b in found]
            scores = [float(s) for s in sc]
        else:
            box_list = lm.check_boxes(boxes, h, w)
            if not box_list:
                return []  # no boxes given: no faces, nothing to run
            scores = [None] * len(box_list)
        t1 = time.perf_counter()
        first_invoke = 0.0
        if refine:
            box_list = [box_from_landmarks(p) for p in lm.image_points(image, box_list)]
            first_invoke = lm.timing.invoke
        faces = lm.faces(image, box_list, scores)
        t = lm.timing
        self.timing = Timing(detect_faces=(t1 - t0) * 1e3, preprocess=t.preprocess,
                             invoke=t.invoke + first_invoke if refine else t.invoke,
                             decode=t.decode, faces=len(box_list))
        return self._faces_only(faces, from_detector=boxes is None)

    def _faces_only(self, faces: list[Face], from_detector: bool) -> list[Face]:
        """Faces scoring below `min_score` are no faces: the detector's are dropped (its false
        alarms), a given box is a NotAFaceError naming it (its landmarks would be wrong)."""
        if self.min_score == 0:  # 0 keeps every result, whatever its score (even below 0)
            return faces
        low = [i for i, f in enumerate(faces) if f.score < self.min_score]
        if not low:
            return faces
        if from_detector:
            kept = [f for i, f in enumerate(faces) if i not in low]
            if not kept:
                raise NoFaceError(f"no face found (the detector's {len(faces)} candidate(s) "
                                  f"score below {self.min_score:g})")
            return kept
        i = low[0]
        raise NotAFaceError(
            f"box {i} {[round(float(v), 1) for v in faces[i].box]}: not a face the model can "
            f"read (face score {faces[i].score:.2f} < {self.min_score:g}; a min_score of 0 "
            "returns its landmarks anyway)")

    def describe(self) -> dict:
        """What runs where (the landmarker's description): for logs and `gv-infer --json`."""
        return self.landmarker.describe()
