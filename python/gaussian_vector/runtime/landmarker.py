"""`Landmarker`: image (+ face boxes) -> landmarks in image coordinates, on the board.

The flow is the on-device one of docs/design.md ("Flows"): face box (given, or the bundled detector)
-> the training's affine crop (`preprocess.crop_face`) -> the interpreter (on a delegate where
asked) -> packed x/y vectors -> native decoder (argmax, shift, Beyond Box) -> inverse affine ->
landmarks. Everything the crop and the decoder need comes from the model's metadata; nothing else is
read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..affine import box_from_landmarks
from ..decode import check_subpixel
from ..image import as_rgb, load_image
from ..metadata import GV_LAYOUT, HEATMAP_LAYOUT, ModelMetadata
from ..preprocess import crop_face, to_image_coords
from .decoding import DecodeParams, decode_heatmap_output, decode_packed, native_available
from .delegates import DelegateSpec
from .errors import BoxError, ModelError, NoFaceError, NotAFaceError
from .inputs import InputEncoder
from .interpreters import Backend, open_backend
from .model_file import model_format, read_metadata
from .models import resolve_model

#: Largest batch sent to the interpreter at once when the model's batch axis is dynamic.
MAX_BATCH = 32

Detector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: Lowest face score (mean landmark confidence) taken as a face, per head. Measured with the
#: shipped models on 970 faces (bench/face_scores.py, docs/runtime.md): GV faces score >= 1.14
#: (fp32 and int8, boxes shrunk 30% included; two int8 failures, NME 29%, score 0.41-0.48) and
#: heatmap faces >= 0.58; synthetic non-faces score <= 0.42 (GV) and <= 0.37 (heatmap).
MIN_FACE_SCORE = {"gv": 0.6, "heatmap": 0.4}


@dataclass
class Face:
    """One face's result. Coordinates are 0-based pixel centres of the input image."""

    box: np.ndarray  # (4,) x0, y0, x1, y1: the box the crop was made from
    landmarks: np.ndarray  # (K, 2) x, y
    confidence: np.ndarray  # (K,) vector peak: min of the x and y peaks (~1 + theta at best)
    outside_box: np.ndarray  # (K,) bool: Beyond Box placed the landmark outside the crop
    detector_score: float | None = None

    @property
    def score(self) -> float:
        """Mean landmark confidence: how much the model sees a face it can read in the crop."""
        return float(np.mean(self.confidence))

    @property
    def points(self) -> np.ndarray:
        """Alias of `landmarks` (K, 2)."""
        return self.landmarks

    def to_dict(self) -> dict:
        """Plain JSON-able dict (lists of floats)."""
        return {
            "box": [round(float(v), 2) for v in self.box],
            "landmarks": np.round(self.landmarks.astype(np.float64), 3).tolist(),
            "confidence": np.round(self.confidence.astype(np.float64), 4).tolist(),
            "score": round(self.score, 4),
            "outside_box": np.flatnonzero(self.outside_box).tolist(),
            "detector_score": None if self.detector_score is None else float(self.detector_score),
        }


@dataclass
class Timing:
    """Milliseconds spent in each step of the last `detect` call."""

    detect_faces: float = 0.0
    preprocess: float = 0.0
    invoke: float = 0.0
    decode: float = 0.0
    faces: int = 0
    extra: dict = field(default_factory=dict)


#: A face box may overhang the image (Beyond Box), but one this many times the image's longer
#: side would shrink the whole image to under a tenth of the crop: no face can be read there.
MAX_BOX_TO_IMAGE = 8.0


def check_box(box: object, height: int, width: int) -> np.ndarray:
    """A box as float64 (x0, y0, x1, y1); BoxError when malformed or entirely outside the image.

    A box that only overlaps the image edge is fine (faces at the border are what Beyond Box is
    for); one that does not overlap the image at all has no face in it.
    """
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,) or not np.all(np.isfinite(b)):
        raise BoxError(f"a face box is 4 finite numbers (x0, y0, x1, y1), got {box!r}")
    if b[2] <= b[0] or b[3] <= b[1]:
        raise BoxError(f"face box {b.tolist()} has no area (need x1 > x0 and y1 > y0)")
    if b[2] <= -0.5 or b[3] <= -0.5 or b[0] >= width - 0.5 or b[1] >= height - 0.5:
        raise BoxError(f"face box {b.tolist()} lies outside the {width}x{height} image")
    side = max(b[2] - b[0], b[3] - b[1])
    if side > MAX_BOX_TO_IMAGE * max(width, height):
        raise BoxError(f"face box {b.tolist()} is {side / max(width, height):.3g}x the "
                       f"{width}x{height} image's longer side (at most {MAX_BOX_TO_IMAGE}x: "
                       "the whole image would be a speck in the face crop)")
    return b


def check_threads(threads: object) -> None:
    """ValueError unless `threads` is None (the interpreter's default) or an integer >= 1: the
    interpreters' own refusal of 0 would read as a model that cannot be loaded."""
    integer = isinstance(threads, (int, np.integer)) and not isinstance(threads, bool)
    if threads is not None and not (integer and threads >= 1):
        raise ValueError(f"threads must be an integer >= 1, or None for the interpreter's "
                         f"default, got {threads!r}")


class Landmarker:
    """A loaded landmark model plus its pre- and post-processing. Build with `from_file`."""

    def __init__(
        self,
        backend: Backend,
        metadata: ModelMetadata,
        path: Path,
        *,
        detector: Detector | None = None,
        threads: int | None = None,
        use_native: bool | None = None,
        beyond_box: bool = True,
        tau: float | None = None,
        sigma: float | None = None,
        subpixel: str = "quarter",
        kernels: str = "default",
        min_score: float | None = None,
    ) -> None:
        self.backend, self.metadata, self.path = backend, metadata, path
        self._kernels = kernels
        self.config = metadata.config
        self._detector = detector
        self._threads = threads
        self._use_native = use_native
        self.decode_params = DecodeParams(
            width=self.config.output_size,
            tau=self.config.tau if tau is None else float(tau),
            sigma=self.config.sigma if sigma is None else float(sigma),
            beyond_box=bool(beyond_box),
            subpixel=check_subpixel(subpixel),
        )
        self.min_score = (MIN_FACE_SCORE.get(self.config.head, 0.0) if min_score is None
                          else float(min_score))
        if not (np.isfinite(self.min_score) and self.min_score >= 0):
            raise ValueError(f"min_score must be a finite number >= 0, got {min_score!r}")
        self.timing = Timing()
        self._check_contract()
        self._encode = InputEncoder(self.config, metadata.input.layout, backend.input.dtype,
                                    *self._quant("input"))

    @classmethod
    def from_file(
        cls,
        path: str | Path | None = None,
        delegate: str | DelegateSpec | tuple | Sequence | None = None,
        threads: int | None = None,
        *,
        cpu_fallback: bool = False,
        providers: Sequence[str] | None = None,
        detector: Detector | None = None,
        use_native: bool | None = None,
        beyond_box: bool = True,
        tau: float | None = None,
        sigma: float | None = None,
        subpixel: str = "quarter",
        kernels: str = "default",
        min_score: float | None = None,
    ) -> Landmarker:
        """Load an exported model (.tflite or .onnx; None or a shipped name like 'default').

        `delegate`: an external TFLite delegate library (path, 'LIB:key=value;...', a
        (path, options) pair, a DelegateSpec, or a list of them). It fails with DelegateError
        naming the library unless `cpu_fallback` is set. `providers`: ONNX Runtime execution
        providers. `detector`: a callable image -> (boxes (M, 4), scores (M,)); by default the
        bundled BlazeFace, loaded on first use. `use_native=False` forces the numpy decoder.
        `beyond_box`, `tau`, `sigma` override the decoder's settings from the metadata;
        `subpixel` picks the interior-peak rule: 'quarter' (the paper's) or 'parabola'.
        `kernels` ('default', 'builtin', 'reference') picks the TFLite kernel set, for the
        model and the bundled detector alike (reference: for emulators; see docs/runtime.md).
        `min_score`: the lowest face score taken as a face (default: MIN_FACE_SCORE of the
        model's head; 0 keeps every result).
        """
        check_threads(threads)
        p = resolve_model(path)
        fmt = model_format(p)
        metadata = read_metadata(p)  # before any delegate: a foreign model fails first
        if delegate is None:
            delegates: list = []
        elif isinstance(delegate, list):
            delegates = delegate
        else:
            delegates = [delegate]
        backend = open_backend(
            p, fmt, threads=threads, delegates=delegates, cpu_fallback=cpu_fallback,
            providers=providers, kernels=kernels,
        )
        return cls(backend, metadata, p, detector=detector, threads=threads,
                   use_native=use_native, beyond_box=beyond_box, tau=tau, sigma=sigma,
                   subpixel=subpixel, kernels=kernels, min_score=min_score)

    # ------------------------------------------------------------------ contract checks
    def _check_contract(self) -> None:
        cfg, meta, inp = self.config, self.metadata, self.backend.input
        s = cfg.input_size
        want = (s, s, 3) if meta.input.layout == "NHWC" else (3, s, s)
        if meta.input.layout not in ("NHWC", "NCHW") or tuple(inp.shape[1:]) != want:
            raise ModelError(
                f"{self.path}: input {inp.shape} does not match the metadata "
                f"({meta.input.layout}, size {s})"
            )
        layout = meta.output.layout
        if layout not in (GV_LAYOUT, HEATMAP_LAYOUT):
            raise ModelError(f"{self.path}: unknown output layout {layout!r}")
        if (layout == GV_LAYOUT) != (cfg.head == "gv"):
            raise ModelError(f"{self.path}: output layout {layout} does not fit head {cfg.head}")

    def _quant(self, which: str) -> tuple[float | None, int | None]:
        """Scale and zero point: the interpreter's where it has them, else the metadata's."""
        info = getattr(self.backend, which)
        if info.dtype.kind == "f":
            return None, None
        if info.scale is not None and info.scale > 0:
            return info.scale, info.zero_point
        spec = getattr(self.metadata, which)
        if spec.scale is None:
            raise ModelError(f"{self.path}: integer {which} without quantisation parameters")
        return spec.scale, spec.zero_point

    # ------------------------------------------------------------------ detection of faces
    @property
    def detector(self) -> Detector:
        """The face detector, the bundled one loaded on first use."""
        if self._detector is None:
            from ..detector import default_detector

            self._detector = default_detector(threads=self._threads, kernels=self._kernels)
        return self._detector

    def find_faces(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (M, 4) in the landmark-box convention and scores (M,); NoFaceError if none."""
        boxes, scores = self.detector(image)
        if len(boxes) == 0:
            raise NoFaceError("no face found")
        return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64)

    # ------------------------------------------------------------------ the landmarks
    def detect(
        self, image: np.ndarray | str | Path, boxes: object | None = None, *,
        refine: bool = False,
    ) -> list[Face]:
        """Landmarks of each face in `image` (RGB uint8 array, or a file path).

        `boxes`: (M, 4) face boxes x0, y0, x1, y1 in the training's convention (the tight box
        around the 68 landmarks); None runs the bundled face detector. All faces run as one
        batch where the model's batch axis allows it. `refine`: run the model a second time on
        the box around its own first landmarks (the training's framing exactly; worth it when
        the boxes are rough, costs a second invoke).
        """
        if isinstance(image, (str, Path)):
            image = load_image(image)
        image = as_rgb(image)
        h, w = image.shape[:2]
        self.timing = t = Timing()
        t0 = time.perf_counter()
        scores: list[float | None]
        if boxes is None:
            found, sc = self.find_faces(image)
            box_list = [check_box(b, h, w) for b in found]
            scores = [float(s) for s in sc]
        else:
            arr = np.asarray(boxes, dtype=np.float64)
            if arr.size == 0:
                return []  # no boxes given: no faces, nothing to run
            if arr.ndim == 1:
                arr = arr[None]
            if arr.ndim != 2 or arr.shape[1] != 4:
                raise BoxError(f"boxes must have shape (M, 4), got {np.shape(boxes)}")
            box_list = [check_box(b, h, w) for b in arr]
            scores = [None] * len(box_list)
        t1 = time.perf_counter()
        xy, conf, transforms = self._landmarks(image, box_list)
        if refine:
            first = [to_image_coords(xy[i], transforms[i], self.config)
                     for i in range(len(box_list))]
            box_list = [box_from_landmarks(p) for p in first]
            invoke = t.invoke
            xy, conf, transforms = self._landmarks(image, box_list)
            t.invoke += invoke
        t.detect_faces, t.faces = (t1 - t0) * 1e3, len(box_list)
        grid = self.config.output_size
        faces = []
        for i, b in enumerate(box_list):
            outside = np.any((xy[i] < -0.5) | (xy[i] > grid - 0.5), axis=-1)
            pts = to_image_coords(xy[i], transforms[i], self.config).astype(np.float32)
            faces.append(Face(b, pts, conf[i], outside, scores[i]))
        return self._faces_only(faces, from_detector=boxes is None)

    def _faces_only(self, faces: list[Face], from_detector: bool) -> list[Face]:
        """Faces scoring below `min_score` are no faces: the detector's are dropped (its false
        alarms), a given box is a NotAFaceError naming it (its landmarks would be wrong)."""
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

    def _landmarks(
        self, image: np.ndarray, boxes: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Crop, run, decode: vector-grid coordinates (M, K, 2), peaks (M, K), crop affines."""
        t = self.timing
        t0 = time.perf_counter()
        crops, transforms = [], []
        for b in boxes:
            crop, m = crop_face(image, b, self.config)
            crops.append(crop)
            transforms.append(m)
        batch = self._encode(np.stack(crops))
        t1 = time.perf_counter()
        out = self._run(batch)
        t2 = time.perf_counter()
        xy, conf = self._decode(out)
        t3 = time.perf_counter()
        t.preprocess, t.invoke, t.decode = (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3
        return xy, conf, transforms

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Run the crops as one batch where the batch axis is dynamic, else one by one."""
        n = batch.shape[0]
        fixed = self.backend.input.shape[0]
        if self.backend.input.dynamic_batch:
            parts = [self.backend.run(batch[i:i + MAX_BATCH]) for i in range(0, n, MAX_BATCH)]
        elif fixed > 1:  # a static batch of B: pad the last chunk
            parts = []
            for i in range(0, n, fixed):
                chunk = batch[i:i + fixed]
                pad = fixed - chunk.shape[0]
                if pad:
                    chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
                parts.append(self.backend.run(chunk)[: fixed - pad])
        else:
            parts = [self.backend.run(batch[i:i + 1]) for i in range(n)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _decode(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        scale, zp = self._quant("output")
        if cfg.head == "gv":
            return decode_packed(out, self.decode_params, scale, zp, use_native=self._use_native)
        return decode_heatmap_output(out, scale, zp, use_native=self._use_native,
                                     subpixel=self.decode_params.subpixel)

    def describe(self) -> dict:
        """What runs where: for logs and `gv-infer --json`."""
        return {
            "model": str(self.path),
            "interpreter": self.backend.name,
            "delegated": self.backend.delegated,
            "cpu_ops": self.backend.cpu_ops,
            "input": {
                "dtype": self.backend.input.dtype.name,
                "shape": list(self.backend.input.shape),
            },
            "output": {"dtype": self.backend.output.dtype.name},
            "head": self.config.head,
            "num_landmarks": self.config.num_landmarks,
            "decoder": self._describe_decoder(),
        }

    def _describe_decoder(self) -> dict:
        """How outputs become landmarks: the rules in use and which implementation runs them."""
        p = self.decode_params
        d: dict = {"subpixel": p.subpixel,
                   "native": self._use_native is not False and native_available()}
        if self.config.head == "gv":
            d.update(beyond_box=p.beyond_box, tau=p.tau, sigma=p.sigma)
        return d
