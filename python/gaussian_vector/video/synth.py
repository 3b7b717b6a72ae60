"""Synthetic test videos with known landmarks: annotated photos moved by smooth similarity
transforms (translation, rotation, scale over time), with hard cuts to other faces, so tracking,
smoothing and jitter can be measured against exact ground truth.

Each frame draws every face with one 2x3 matrix per face (source photo -> frame) and its
ground truth is that matrix applied to the photo's landmarks: the same matrix `cv2.warpAffine`
samples with, so with 0-based pixel centres (docs/design.md) the points follow the pixels
exactly. A photo shrunk by more than 20% is first reduced with area averaging (no aliasing),
the reduction folded into the matrix. Around the photo the frame shows the photo's edges
stretched and blurred (no mirrored copies of the face for a detector to find). Motion is a sum of
two sinusoids per parameter with random periods and phases, deterministic by seed.

    python -m gaussian_vector.video.synth OUT.mp4 [--data DIR] [--frames N] [--cut-every N]
        [--faces 2] [--seed S]      # writes OUT.mp4 and its ground truth OUT.truth.npz
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import affine
from ..data.readers import read_300w, read_name_list
from ..image import as_rgb, load_image
from ..schemes import get_scheme
from .io import VideoSink

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

#: split name -> (folder under the data root, optional name list there): ../shared/data/README.md
SPLITS: dict[str, tuple[str, str | None]] = {
    "helen-val": ("300w/helen/trainset", "300w/helen/val.txt"),
    "youtube-test": ("youtube-faces/testset", None),
    "afw": ("300w/afw", None),
}

#: Faces shrunk more than this are reduced by area averaging before the per-frame warp.
_PRESHRINK_BELOW = 0.8
#: The background is warped and blurred at 1/_BG_STEP of the frame's resolution.
_BG_STEP = 8
#: Pixels kept between a face's landmarks and the edge of its part of the frame.
_MARGIN = 4.0


@dataclass(frozen=True, eq=False)
class Face:
    """One annotated photo: RGB image (H, W, 3) uint8 and its landmarks (K, 2), 0-based."""

    image: np.ndarray
    points: np.ndarray
    name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", as_rgb(self.image))
        p = np.asarray(self.points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2 or len(p) < 2 or not np.all(np.isfinite(p)):
            raise ValueError(f"face {self.name}: landmarks must be finite (K, 2), got {p.shape}")
        object.__setattr__(self, "points", p)


def _faces_of(samples: Sequence) -> list[Face]:
    return [Face(load_image(s.image), s.points, s.name) for s in samples]


def sample_faces() -> list[Face]:
    """The package's two sample faces (einstein, takeo): test videos without the 300-W data."""
    samples, _ = read_300w(SAMPLES)
    return _faces_of(samples)


def data_faces(data: str | Path, n: int = 4, *, split: str = "helen-val", seed: int = 0,
               names: Sequence[str] | None = None) -> list[Face]:
    """`n` faces of a split of a 300-W data root laid out as ../shared/data (`SPLITS`), picked
    at random by `seed` from different people (or photos), or the faces called `names` in that
    order. ValueError names what is missing."""
    root = Path(data)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if not root.is_dir():
        raise ValueError(f"data folder not found: {root}")
    sub, listed = SPLITS[split]
    folder = root / sub
    if not folder.is_dir():
        raise ValueError(f"{root} has no {sub} folder (the layout of ../shared/data/README.md)")
    keep = list(names) if names is not None else (
        read_name_list(root / listed) if listed else None)
    samples, _ = read_300w(folder, names=keep)
    if names is not None:
        by_name = {s.name: s for s in samples}
        missing = [m for m in names if m not in by_name]
        if missing:
            raise ValueError(f"no readable face named {', '.join(missing)} in {folder}")
        return _faces_of([by_name[m] for m in names])
    # One face per source: YouTube names are person_NN, 300-W ones photo_N; a cut must change
    # the person, so names that differ only in that suffix count once.
    pick: dict[str, int] = {}
    for i in np.random.default_rng(seed).permutation(len(samples)):
        pick.setdefault(re.sub(r"_\d+$", "", samples[i].name), int(i))
        if len(pick) == n:
            return _faces_of([samples[i] for i in pick.values()])
    raise ValueError(f"{split} in {root} has faces of {len(pick)} people or photos, {n} asked "
                     "for")


class Truth(NamedTuple):
    """One visible face of a frame: its identity (index into the video's faces) and landmarks
    (K, 2) in frame pixels, 0-based."""

    identity: int
    points: np.ndarray


@dataclass(frozen=True)
class GroundTruth:
    """A video's ground truth as arrays: what `SyntheticVideo.ground_truth` and `read_truth`
    give. `points` (F, M, K, 2) for M faces a frame; `identities` (F, M) index `names`;
    `segments` (F,) counts the cuts before each frame."""

    points: np.ndarray
    identities: np.ndarray
    segments: np.ndarray
    names: tuple[str, ...]
    fps: float
    size: tuple[int, int]

    def frame(self, index: int) -> list[Truth]:
        """The faces of frame `index`."""
        return [Truth(int(i), p) for i, p in zip(self.identities[index], self.points[index],
                                                 strict=True)]

    @property
    def cuts(self) -> np.ndarray:
        """The frame indices where a new segment (new faces, new motion) starts."""
        return np.flatnonzero(np.diff(self.segments)) + 1


def truth_path(video: str | Path) -> Path:
    """The ground-truth file written beside a video: OUT.mp4 -> OUT.truth.npz."""
    return Path(video).with_suffix(".truth.npz")


def read_truth(path: str | Path) -> GroundTruth:
    """The ground truth `SyntheticVideo.write` saved: its .truth.npz, or the video's path."""
    p = Path(path)
    p = p if p.name.endswith(".npz") else truth_path(p)
    if not p.is_file():
        raise FileNotFoundError(f"ground truth not found: {p}")
    with np.load(p, allow_pickle=False) as z:
        return GroundTruth(z["points"], z["identities"], z["segments"],
                           tuple(str(s) for s in z["names"]), float(z["fps"]),
                           (int(z["size"][0]), int(z["size"][1])))


def _wave(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A smooth signal in [-1, 1] over times `t` (seconds): two sinusoids with random periods
    (3-6 s and 1.2-2.5 s) and phases, weighted 0.7 and 0.3."""
    p1, p2 = rng.uniform(3.0, 6.0), rng.uniform(1.2, 2.5)
    f1, f2 = rng.uniform(0, 2 * math.pi, 2)
    return 0.7 * np.sin(2 * math.pi * t / p1 + f1) + 0.3 * np.sin(2 * math.pi * t / p2 + f2)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 transform applying `inner`, then `outer`."""
    return np.concatenate([outer[:, :2] @ inner[:, :2], outer[:, :2] @ inner[:, 2:] +
                           outer[:, 2:]], axis=1)


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


@dataclass(eq=False)
class SyntheticVideo:
    """A test video of `n_frames` frames of `size` (width, height): `per_frame` faces side by
    side (each in its own vertical strip), moving smoothly; every `cut_every` frames (None: never)
    a hard cut to the next faces of `faces` (identities repeat when there are too few) with new
    motion. Face size: inter-ocular distance drawn per segment from `iod` pixels (less where the
    face would not fit), then scaled by up to ±`scale`; rotation up to ±`rotation_deg`; the face
    centre moves up to ±`shift` of its strip's width and of the height. Deterministic by `seed`.
    Ground truth: `transforms` (F, M, 2, 3) photo -> frame, `points` (F, M, K, 2), `identities`
    (F, M), `segments` (F,), all computed up front; frames are drawn on demand."""

    faces: Sequence[Face]
    n_frames: int = 240
    size: tuple[int, int] = (640, 480)
    fps: float = 30.0
    cut_every: int | None = 120
    per_frame: int = 1
    seed: int = 0
    iod: tuple[float, float] = (60.0, 100.0)
    shift: float = 0.1
    rotation_deg: float = 8.0
    scale: float = 0.15
    transforms: np.ndarray = field(init=False, repr=False)
    points: np.ndarray = field(init=False, repr=False)
    identities: np.ndarray = field(init=False, repr=False)
    segments: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.faces = tuple(self.faces)
        self._check()
        w, h = self.size
        m = self.per_frame
        frame_index = np.arange(self.n_frames)
        step = self.cut_every or self.n_frames
        self.segments = frame_index // step
        n_seg = int(self.segments[-1]) + 1
        k = len(self.faces[0].points)
        self.transforms = np.zeros((self.n_frames, m, 2, 3))
        self.identities = np.zeros((self.n_frames, m), dtype=np.int64)
        self._base_scale = np.zeros((n_seg, m))
        for seg in range(n_seg):
            rows = self.segments == seg
            t = (frame_index[rows] - seg * step) / self.fps
            for slot in range(m):
                ident = (seg * m + slot) % len(self.faces)
                self.identities[rows, slot] = ident
                self.transforms[rows, slot], self._base_scale[seg, slot] = self._motion(
                    self.faces[ident], slot, np.random.default_rng([self.seed, seg, slot]), t)
        src = np.stack([f.points for f in self.faces])[self.identities]  # (F, M, K, 2)
        self.points = (np.einsum("fmij,fmkj->fmki", self.transforms[..., :2], src)
                       + self.transforms[:, :, None, :, 2])
        # Each face inside its strip (guaranteed by _motion's fit; checked, never assumed).
        x0 = (np.arange(m) * w // m)[None, :, None]
        x1 = (np.arange(1, m + 1) * w // m)[None, :, None]
        px, py = self.points[..., 0], self.points[..., 1]
        assert np.all((px >= x0) & (px <= x1 - 1) & (py >= 0) & (py <= h - 1)), "face left strip"
        assert self.points.shape == (self.n_frames, m, k, 2)
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _check(self) -> None:
        if not self.faces or not all(isinstance(f, Face) for f in self.faces):
            raise ValueError("a synthetic video needs at least one Face (sample_faces(), "
                             "data_faces())")
        counts = {len(f.points) for f in self.faces}
        if len(counts) != 1:
            raise ValueError(f"the faces have different landmark counts: {sorted(counts)}")
        get_scheme(counts.pop())  # ValueError for a count no scheme has (no eye corners)
        w, h = self.size
        if min(w, h) < 16:
            raise ValueError(f"frame size must be at least 16x16, got {w}x{h}")
        if not (isinstance(self.n_frames, int) and self.n_frames >= 1):
            raise ValueError(f"n_frames must be an integer >= 1, got {self.n_frames!r}")
        if self.cut_every is not None and not (isinstance(self.cut_every, int)
                                               and self.cut_every >= 1):
            raise ValueError(f"cut_every must be None or an integer >= 1, got {self.cut_every!r}")
        if not (isinstance(self.per_frame, int) and 1 <= self.per_frame <= 4):
            raise ValueError(f"per_frame (faces side by side) must be 1-4, got {self.per_frame}")
        if not (self.fps > 0 and 0 < self.iod[0] <= self.iod[1] and 0 <= self.shift < 0.5
                and 0 <= self.scale < 1 and 0 <= self.rotation_deg <= 90):
            raise ValueError("need fps > 0, 0 < iod[0] <= iod[1], 0 <= shift < 0.5, "
                             "0 <= scale < 1, 0 <= rotation_deg <= 90")

    def _motion(self, face: Face, slot: int, rng: np.random.Generator,
                t: np.ndarray) -> tuple[np.ndarray, float]:
        """(photo -> frame transforms (T, 2, 3) of one face over times `t`, its base scale)."""
        w, h = self.size
        x0, x1 = slot * w // self.per_frame, (slot + 1) * w // self.per_frame
        sw = x1 - x0
        p = face.points
        centre = (p.min(axis=0) + p.max(axis=0)) / 2
        radius = float(np.max(np.linalg.norm(p - centre, axis=1)))
        iod = float(get_scheme(len(p)).interocular(p))
        room = min(sw / 2 - self.shift * sw, h / 2 - self.shift * h) - _MARGIN
        base = min(rng.uniform(*self.iod) / iod, room / (radius * (1 + self.scale)))
        if room <= 0 or base * iod < 8:
            raise ValueError(f"a {w}x{h} frame with {self.per_frame} face(s) side by side leaves "
                             f"no room for face {face.name} (make the frame larger or "
                             "shift/scale smaller)")
        tx = self.shift * sw * _wave(rng, t)
        ty = self.shift * h * _wave(rng, t)
        angle = np.radians(self.rotation_deg * _wave(rng, t))
        s = base * (1 + self.scale * _wave(rng, t))
        a, b = s * np.cos(angle), s * np.sin(angle)
        m = np.zeros((len(t), 2, 3))
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a, b, -b, a
        target = np.stack([x0 + (sw - 1) / 2 + tx, (h - 1) / 2 + ty], axis=1)
        m[:, :, 2] = target - np.einsum("tij,j->ti", m[:, :, :2], centre)
        return m, base

    def __len__(self) -> int:
        return self.n_frames

    @property
    def ground_truth(self) -> GroundTruth:
        """The ground truth as arrays (what `write` saves beside the video)."""
        return GroundTruth(self.points, self.identities, self.segments,
                           tuple(f.name for f in self.faces), float(self.fps),
                           (int(self.size[0]), int(self.size[1])))

    def truth(self, index: int) -> list[Truth]:
        """The faces visible in frame `index`, left to right."""
        return self.ground_truth.frame(index)

    def _source(self, seg: int, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """(the photo as warped, the 2x3 map from the photo's pixels to it): the photo itself, or
        reduced by area averaging where the face is shrunk a lot. Cached per segment."""
        import cv2

        key = (seg, slot)
        if key not in self._cache:
            if len(self._cache) > 4 * self.per_frame:
                self._cache.clear()
            rows = np.flatnonzero(self.segments == seg)
            img = self.faces[self.identities[rows[0], slot]].image
            r = self._base_scale[seg, slot]
            if r >= _PRESHRINK_BELOW:
                self._cache[key] = (img, np.eye(2, 3))
            else:
                h, w = img.shape[:2]
                nw, nh = max(1, round(w * r)), max(1, round(h * r))
                small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
                rx, ry = nw / w, nh / h  # resize maps pixel centres: u' = (u + 0.5) r - 0.5
                pre = np.array([[rx, 0.0, 0.5 * rx - 0.5], [0.0, ry, 0.5 * ry - 0.5]])
                self._cache[key] = (small, pre)
        return self._cache[key]

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint8 RGB."""
        import cv2

        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} of a {self.n_frames}-frame video")
        w, h = self.size
        m = self.per_frame
        out = np.empty((h, w, 3), np.uint8)
        for slot in range(m):
            x0, x1 = slot * w // m, (slot + 1) * w // m
            img, pre = self._source(int(self.segments[index]), slot)
            # photo as warped -> this strip's pixels
            mat = _compose(_translate(-x0, 0.0),
                           _compose(self.transforms[index, slot], affine.invert(pre)))
            # Background: the photo's edge pixels stretched outward, warped at low resolution,
            # blurred and enlarged (u_low = (u + 0.5) / step - 0.5, as cv2.resize maps centres).
            lw, lh = -(-(x1 - x0) // _BG_STEP), -(-h // _BG_STEP)
            c = 0.5 / _BG_STEP - 0.5
            low = _compose(np.array([[1 / _BG_STEP, 0, c], [0, 1 / _BG_STEP, c]]), mat)
            bg = cv2.warpAffine(img, low, (lw, lh), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
            bg = cv2.GaussianBlur(bg, (0, 0), 1.5)
            strip = cv2.resize(bg, (lw * _BG_STEP, lh * _BG_STEP),
                               interpolation=cv2.INTER_LINEAR)[:h, : x1 - x0].copy()
            cv2.warpAffine(img, mat, (x1 - x0, h), dst=strip, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_TRANSPARENT)
            out[:, x0:x1] = strip
        return out

    def frames(self) -> Iterator[tuple[int, np.ndarray, list[Truth]]]:
        """(index, frame (H, W, 3) uint8 RGB, the faces in it) for every frame in order."""
        for i in range(self.n_frames):
            yield i, self.frame(i), self.truth(i)

    def write(self, path: str | Path) -> Path:
        """Write the video (codec by suffix, `io.VideoSink`) and its ground truth beside it
        (`truth_path`); returns the ground truth's path. ValueError when either cannot be
        written."""
        video = Path(path)
        truth = truth_path(video)
        with VideoSink(video, self.fps, self.size) as sink:
            for _, frame, _ in self.frames():
                sink.write(frame)
        g = self.ground_truth
        try:
            np.savez_compressed(truth, points=g.points, identities=g.identities,
                                segments=g.segments, names=np.array(g.names), fps=g.fps,
                                size=np.array(g.size))
        except OSError as e:
            raise ValueError(f"cannot write the ground truth {truth}: {e.strerror or e}") from e
        return truth


def frame_size(text: str) -> tuple[int, int]:
    """argparse type: 'WIDTHxHEIGHT' -> (width, height)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a size is WIDTHxHEIGHT, e.g. 640x480, got {text!r}") from None
    return w, h


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"need an integer >= 1, got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gaussian_vector.video.synth",
        description="Write a synthetic test video with known landmarks (faces from 300-W photos "
                    "moving smoothly, with cuts to other faces) and its ground truth "
                    "OUT.truth.npz.")
    p.add_argument("out", type=Path, help="the video to write (.mp4, .avi, .mkv, .mov, .m4v)")
    p.add_argument("--data", type=Path, default=None,
                   help="300-W data root laid out as ../shared/data (default: the package's two "
                        "sample faces)")
    p.add_argument("--split", choices=sorted(SPLITS), default="helen-val",
                   help="which faces of --data (default helen-val)")
    p.add_argument("--frames", type=_positive, default=240, help="frames (default 240)")
    p.add_argument("--cut-every", type=int, default=120,
                   help="a cut to other faces every N frames, 0 for none (default 120)")
    p.add_argument("--faces", type=int, choices=(1, 2, 3, 4), default=1,
                   help="faces side by side in each frame (default 1)")
    p.add_argument("--size", type=frame_size, default=(640, 480),
                   help="WIDTHxHEIGHT (default 640x480)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--seed", type=int, default=0, help="motion and face choice (default 0)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    prog = "synth"
    try:
        if args.cut_every < 0:
            raise ValueError(f"--cut-every must be >= 0, got {args.cut_every}")
        cut = args.cut_every or None
        if args.data is None:
            faces = sample_faces()
        else:
            segments = -(-args.frames // (cut or args.frames))
            faces = data_faces(args.data, segments * args.faces, split=args.split,
                               seed=args.seed)
        video = SyntheticVideo(faces, n_frames=args.frames, size=args.size, fps=args.fps,
                               cut_every=cut, per_frame=args.faces, seed=args.seed)
        truth = video.write(args.out)
    except (ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    g = video.ground_truth
    cuts = ", ".join(str(c) for c in g.cuts) or "none"
    shown = ", ".join(g.names[i] for i in dict.fromkeys(g.identities.ravel().tolist()))
    iod = get_scheme(g.points.shape[2]).interocular(g.points)
    print(f"{args.out}: {args.frames} frames {args.size[0]}x{args.size[1]} at {args.fps:g} fps, "
          f"cuts at {cuts}; faces {shown}, inter-ocular {iod.min():.0f}-{iod.max():.0f} px; "
          f"ground truth {truth}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    sys.exit(main())
