"""`Landmarker`: image + face boxes -> landmarks in image coordinates, on the board.

The model's part of the on-device flow of docs/design.md ("Flows"): face box -> the training's
affine crop (`preprocess.crop_face`) -> the interpreter (on a delegate where asked) -> the
head's output -> its decoder (native: argmax, shift, Beyond Box) -> inverse affine -> landmarks.
Everything the crop and the decoder need comes from the model's metadata; nothing else is read.
Finding the faces, the face-score filter and refine are `pipeline.FacePipeline`'s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..decode_rules import Rules, rules_for
from ..flip_test import merge, mirror_crops
from ..heads import HEADS, head_of
from ..image import as_rgb, load_image
from ..metadata import ModelMetadata
from ..modelfile.delegates import DelegateSpec
from ..modelfile.errors import BoxError, ModelError
from ..modelfile.interpreters import Backend, open_backend
from ..modelfile.reader import model_format, read_metadata
from ..modelfile.shipped import resolve_model
from ..preprocess import crop_face, to_image_coords
from .decoding import decode_output, native_available
from .inputs import InputEncoder

#: Largest batch sent to the interpreter in one call.
MAX_BATCH = 32


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
    """Milliseconds spent in each step of the last `detect` call (finding faces: the
    pipeline's; a landmarker's own passes leave it 0)."""

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
    """A loaded landmark model plus its pre- and post-processing: landmarks of the faces in
    given boxes. Build with `from_file`."""

    def __init__(
        self,
        backend: Backend,
        metadata: ModelMetadata,
        path: Path,
        *,
        threads: int | None = None,
        use_native: bool | None = None,
        rules: Rules = None,
        kernels: str = "default",
        flip_test: bool = False,
    ) -> None:
        self.backend, self.metadata, self.path = backend, metadata, path
        self.flip_test = bool(flip_test)
        self.config = metadata.config
        self.head = head_of(self.config)
        self.threads, self.kernels = threads, kernels  # what a detector beside it runs with
        self._use_native = use_native
        self.rules = rules_for(self.config, rules)
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
        use_native: bool | None = None,
        rules: Rules = None,
        kernels: str = "default",
        flip_test: bool = False,
    ) -> Landmarker:
        """Load an exported model (.tflite or .onnx; None or a shipped name like 'default').

        `delegate`: an external TFLite delegate library (path, 'LIB:key=value;...', a
        (path, options) pair, a DelegateSpec, or a list of them). It fails with DelegateError
        naming the library unless `cpu_fallback` is set. `providers`: ONNX Runtime execution
        providers. `use_native=False` forces the numpy decoder. `rules`: the decoder's
        `DecodeRules`, or changes to the model's own (e.g. {"beyond_box": False, "subpixel":
        "parabola"}); None: the model's. `kernels` ('default', 'builtin', 'reference') picks
        the TFLite kernel set (reference: for emulators; see docs/runtime.md). `flip_test`
        also reads each face's mirror image and averages the two (`gaussian_vector.flip_test`:
        more accurate, twice the forward passes).
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
        return cls(backend, metadata, p, threads=threads, use_native=use_native, rules=rules,
                   kernels=kernels, flip_test=flip_test)

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
        if layout not in {h.layout for h in HEADS.values()}:
            raise ModelError(f"{self.path}: unknown output layout {layout!r}")
        if layout != self.head.layout:
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

    # ------------------------------------------------------------------ the landmarks
    def detect(self, image: np.ndarray | str | Path, boxes: object) -> list[Face]:
        """Landmarks of the face in each box of `image` (RGB uint8 array, or a file path).

        `boxes`: (M, 4) face boxes x0, y0, x1, y1 in the training's convention (the tight box
        around the 68 landmarks); no boxes, no faces. All faces run as one batch where the
        model's batch axis allows it. Every face is returned, whatever its score (the
        pipeline's face-score filter tells faces from non-faces).
        """
        image = self.image(image)
        box_list = self.check_boxes(boxes, *image.shape[:2])
        if not box_list:
            self.timing = Timing()
            return []  # no boxes given: no faces, nothing to run
        return self.faces(image, box_list)

    @staticmethod
    def image(image: np.ndarray | str | Path) -> np.ndarray:
        """An image as RGB uint8: read from a path, or converted from grey or RGBA."""
        if isinstance(image, (str, Path)):
            image = load_image(image)
        return as_rgb(image)

    @staticmethod
    def check_boxes(boxes: object, height: int, width: int) -> list[np.ndarray]:
        """Given face boxes as a list of checked (4,) float64 arrays; BoxError when malformed."""
        arr = np.asarray(boxes, dtype=np.float64)
        if arr.size == 0:
            return []
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise BoxError(f"boxes must have shape (M, 4), got {np.shape(boxes)}")
        return [check_box(b, height, width) for b in arr]

    def faces(self, image: np.ndarray, boxes: list[np.ndarray],
              detector_scores: Sequence[float | None] | None = None) -> list[Face]:
        """One `Face` per checked box of an RGB image (`detector_scores`: the detector's, when
        it found the boxes)."""
        xy, conf, transforms = self._landmarks(image, boxes)
        scores = list(detector_scores) if detector_scores is not None else [None] * len(boxes)
        grid = self.config.output_size
        faces = []
        for i, b in enumerate(boxes):
            outside = np.any((xy[i] < -0.5) | (xy[i] > grid - 0.5), axis=-1)
            pts = to_image_coords(xy[i], transforms[i], self.config).astype(np.float32)
            faces.append(Face(b, pts, conf[i], outside, scores[i]))
        return faces

    def image_points(self, image: np.ndarray, boxes: list[np.ndarray]) -> list[np.ndarray]:
        """The landmarks (K, 2) of each checked box in image coordinates, float64 (what a
        second pass frames its box on)."""
        xy, _, transforms = self._landmarks(image, boxes)
        return [to_image_coords(xy[i], transforms[i], self.config) for i in range(len(boxes))]

    def _landmarks(
        self, image: np.ndarray, boxes: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Crop, run, decode: output-grid coordinates (M, K, 2), peaks (M, K), crop affines;
        the pass's times in `timing`. With `flip_test` the mirrored crops run in the same batch
        and each face's two readings are merged."""
        t0 = time.perf_counter()
        crops, transforms = [], []
        for b in boxes:
            crop, m = crop_face(image, b, self.config)
            crops.append(crop)
            transforms.append(m)
        stacked = np.stack(crops)
        if self.flip_test:
            stacked = np.concatenate([stacked, mirror_crops(stacked)])
        batch = self._encode(stacked)
        t1 = time.perf_counter()
        out = self._run(batch)
        t2 = time.perf_counter()
        xy, conf = decode_output(self.head, out, self.rules, *self._quant("output"),
                                 use_native=self._use_native)
        if self.flip_test:
            n = len(boxes)
            xy, conf = merge(xy[:n], conf[:n], xy[n:], conf[n:], self.config)
        t3 = time.perf_counter()
        self.timing = Timing(preprocess=(t1 - t0) * 1e3, invoke=(t2 - t1) * 1e3,
                             decode=(t3 - t2) * 1e3, faces=len(boxes))
        return xy, conf, transforms

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """Run the crops in one call (up to MAX_BATCH at a time) where the backend takes that
        batch (a dynamic axis, or a TFLite file resized to it), else by the file's own batch."""
        n = batch.shape[0]
        fixed = self.backend.input.shape[0]
        if self.backend.resize(min(n, MAX_BATCH)):
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
            "flip_test": self.flip_test,
        }

    def _describe_decoder(self) -> dict:
        """How outputs become landmarks: the rules the head reads and which implementation
        runs them."""
        d: dict = {"subpixel": self.rules.subpixel,
                   "native": self._use_native is not False and native_available()}
        d.update({k: getattr(self.rules, k) for k in self.head.rules_read if k != "subpixel"})
        return d
