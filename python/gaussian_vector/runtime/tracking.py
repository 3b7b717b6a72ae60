"""`FaceTracker`: faces followed through a video, as MediaPipe's face pipeline does it.

The detector is the bill on a board (docs/runtime.md, "Video"), so it runs only when needed: on
the first frame, when a tracked face is lost, on a shot change and, if asked, every N frames.
Otherwise each face's crop comes from its own landmarks on the previous frame (their tight box,
which the model enlarges exactly as in training), and all tracked faces of a frame go through
the interpreter and the decoder as one batch. A face is lost when its face score falls below
the pipeline's minimum, when its landmarks leave the frame, or when the face in its crop stops
looking like the one of the previous frame (a cut to another face: the crop's small grey
thumbnail no longer correlates). Each face keeps an id from the frame it was found until it is
lost; its landmarks pass through a One-Euro filter (`smoothing`) unless smoothing is off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .. import affine
from ..modelfile.errors import BoxError, NoFaceError
from .landmarker import Face, Timing, check_box
from .pipeline import FacePipeline
from .smoothing import LandmarkSmoother, OneEuro

#: A detection overlapping a tracked face this much (intersection over union) is that face.
SAME_FACE_IOU = 0.4
#: A tracked face whose landmark box lies less than this share inside the frame has left it.
MIN_INSIDE = 0.5
#: Side of the grey thumbnail of a face's crop that tells one face from the next, and the
#: lowest correlation of consecutive thumbnails still taken as the same face (gv-bench video:
#: the same face between frames > 0.9, a cut to another face < 0.5).
THUMB = 16
MIN_LIKENESS = 0.6
#: The smoothing a tracker applies unless told otherwise (docs/runtime.md, "Video").
DEFAULT_SMOOTHING = OneEuro()


@dataclass
class TrackedFace:
    """One face of one frame: its landmarks (smoothed when the tracker smooths), its id, and
    whether its crop came from the previous frame's landmarks or from the detector."""

    id: int
    face: Face
    tracked: bool

    def to_dict(self) -> dict:
        """`Face.to_dict` with the id and how the face was found."""
        return {"id": self.id, "tracked": self.tracked, **self.face.to_dict()}


@dataclass
class _Track:
    id: int
    points: np.ndarray  # raw landmarks of the last frame: the next crop's box
    thumb: np.ndarray
    smoother: LandmarkSmoother | None


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def inside_share(box: np.ndarray, height: int, width: int) -> float:
    """The share of `box`'s area inside a `width` x `height` image."""
    w = min(box[2], width - 0.5) - max(box[0], -0.5)
    h = min(box[3], height - 0.5) - max(box[1], -0.5)
    area = (box[2] - box[0]) * (box[3] - box[1])
    return float(max(w, 0) * max(h, 0) / area) if area > 0 else 0.0


def thumbnail(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The face around `points` (the part of their tight box inside the image, area-averaged
    to THUMB x THUMB grey), zero mean and unit norm: what `likeness` compares between frames.
    Axis-aligned (no warp): between two frames a face turns by a few degrees at most."""
    import cv2

    h, w = image.shape[:2]
    x0, y0, x1, y1 = affine.box_from_landmarks(points)
    c0, r0 = min(max(int(x0), 0), w - 1), min(max(int(y0), 0), h - 1)
    c1, r1 = max(min(int(np.ceil(x1)) + 1, w), c0 + 1), max(min(int(np.ceil(y1)) + 1, h), r0 + 1)
    patch = cv2.resize(image[r0:r1, c0:c1], (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    grey = patch.astype(np.float32).mean(axis=2).ravel() if patch.ndim == 3 else \
        patch.astype(np.float32).ravel()
    grey -= grey.mean()
    norm = float(np.linalg.norm(grey))
    return grey / norm if norm > 1e-6 else grey


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two thumbnails: 1 for the same picture, about 0 for unrelated ones."""
    return float(np.dot(a, b))


class FaceTracker:
    """A `FacePipeline` run on consecutive frames: `update(frame)` returns the frame's faces
    with ids. Build one per video (or call `reset` between videos)."""

    def __init__(self, pipeline: FacePipeline, *, smoothing: OneEuro | None = DEFAULT_SMOOTHING,
                 redetect_every: int = 0, fps: float = 30.0,
                 max_faces: int | None = None) -> None:
        """`smoothing`: the One-Euro parameters, None for raw landmarks. `redetect_every`: run
        the detector every N frames too, to find faces that enter later (0: only when a face
        is lost). `fps`: the frame rate the smoothing assumes when `update` gets no time.
        `max_faces`: track at most this many faces (the detector's best first)."""
        if not (isinstance(redetect_every, int) and redetect_every >= 0):
            raise ValueError(f"redetect_every must be an integer >= 0, got {redetect_every!r}")
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a number > 0, got {fps!r}")
        if max_faces is not None and not (isinstance(max_faces, int) and max_faces >= 1):
            raise ValueError(f"max_faces must be an integer >= 1, got {max_faces!r}")
        self.pipeline = pipeline
        self.smoothing = smoothing
        self.redetect_every, self.fps, self.max_faces = redetect_every, float(fps), max_faces
        self.timing = Timing()
        self.reset()

    def reset(self) -> None:
        """Forget every face: the next frame starts with the detector and fresh ids."""
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._frame = -1

    def update(self, frame: np.ndarray, t: float | None = None) -> list[TrackedFace]:
        """The faces of the next frame (RGB uint8), `t` its time in seconds (default: the
        frame count over `fps`). An empty list when there is no face."""
        image = self.pipeline.landmarker.image(frame)
        self._frame += 1
        t = self._frame / self.fps if t is None else float(t)
        self._clock = {"detect_faces": 0.0, "preprocess": 0.0, "invoke": 0.0, "decode": 0.0}
        kept, lost = self._follow(image)
        detect = (not kept or lost > 0
                  or (self.redetect_every and self._frame % self.redetect_every == 0))
        found = self._detect(image, kept) if detect else []
        out = [self._emit(track, face, tracked, t) for track, face, tracked in kept + found]
        self._tracks = [track for track, _, _ in kept + found]
        self.timing = Timing(**self._clock, faces=len(out),
                             extra={"detector_ran": bool(detect), "lost": lost})
        return out

    def _follow(self, image: np.ndarray) -> tuple[list, int]:
        """Run the model on each tracked face's box from its last landmarks, as one batch:
        ([(track, face, True)] of the faces still there, how many were lost)."""
        if not self._tracks:
            return [], 0
        h, w = image.shape[:2]
        boxes, live = [], []
        for track in self._tracks:
            try:
                boxes.append(check_box(affine.box_from_landmarks(track.points), h, w))
                live.append(track)
            except (BoxError, ValueError):
                pass  # the face left the frame
        faces = self._run(image, boxes)
        kept: list = []
        kept_boxes: list[np.ndarray] = []
        for track, face in zip(live, faces, strict=True):  # oldest first
            box = affine.box_from_landmarks(face.landmarks)
            if any(iou(box, b) >= SAME_FACE_IOU for b in kept_boxes):
                continue  # two tracks on one face: the older one keeps it
            if self._still_there(image, track, face, box):
                kept.append((track, face, True))
                kept_boxes.append(box)
        return kept, len(self._tracks) - len(kept)

    def _still_there(self, image: np.ndarray, track: _Track, face: Face, box: np.ndarray) -> bool:
        """Whether `face` (found in `track`'s crop; `box` its landmarks' box) is still `track`'s
        face; updates the track."""
        h, w = image.shape[:2]
        pts = face.landmarks.astype(np.float64)
        if face.score < self.pipeline.min_score or not np.all(np.isfinite(pts)):
            return False
        if inside_share(box, h, w) < MIN_INSIDE:
            return False
        thumb = thumbnail(image, pts)
        if likeness(thumb, track.thumb) < MIN_LIKENESS:
            return False  # another face now fills the crop: a cut
        track.points, track.thumb = pts, thumb
        return True

    def _detect(self, image: np.ndarray, kept: list) -> list:
        """New tracks for the detector's faces that are not tracked already."""
        t0 = time.perf_counter()
        try:
            boxes, scores = self.pipeline.find_faces(image)
        except NoFaceError:
            boxes, scores = np.zeros((0, 4)), np.zeros(0)
        self._clock["detect_faces"] += (time.perf_counter() - t0) * 1e3
        h, w = image.shape[:2]
        tracked = [affine.box_from_landmarks(tr.points) for tr, _, _ in kept]
        order = np.argsort(-scores)
        new_boxes, new_scores = [], []
        for i in order:
            box = np.asarray(boxes[i], np.float64)
            if any(iou(box, b) >= SAME_FACE_IOU for b in tracked + new_boxes):
                continue
            try:
                new_boxes.append(check_box(box, h, w))
                new_scores.append(float(scores[i]))
            except BoxError:
                continue
        room = None if self.max_faces is None else max(self.max_faces - len(kept), 0)
        new_boxes, new_scores = new_boxes[:room], new_scores[:room]
        found = []
        for face, score in zip(self._run(image, new_boxes), new_scores, strict=True):
            if face.score < self.pipeline.min_score:
                continue  # the detector's false alarm
            pts = face.landmarks.astype(np.float64)
            smoother = LandmarkSmoother(self.smoothing) if self.smoothing else None
            track = _Track(self._next_id, pts, thumbnail(image, pts), smoother)
            self._next_id += 1
            found.append((track, replace(face, detector_score=score), False))
        return found

    def _run(self, image: np.ndarray, boxes: list[np.ndarray]) -> list[Face]:
        """The landmark model on `boxes` as one batch, its times added to this frame's."""
        if not boxes:
            return []
        lm = self.pipeline.landmarker
        faces = lm.faces(image, boxes)
        for k in ("preprocess", "invoke", "decode"):
            self._clock[k] += getattr(lm.timing, k)
        return faces

    def _emit(self, track: _Track, face: Face, tracked: bool, t: float) -> TrackedFace:
        """The face as returned: its landmarks smoothed by its track's filter."""
        if track.smoother is not None:
            smoothed = track.smoother(face.landmarks, t).astype(np.float32)
            face = replace(face, landmarks=smoothed)
        return TrackedFace(track.id, face, tracked)
