"""Frames in and out: a video file or a camera as (index, RGB frame) with its frame rate, and a
video file written from RGB frames (the drawn output of a video, one file instead of one PNG per
frame). Errors a user can fix are one-line `ValueError`s naming the file or camera.

OpenCV is imported inside the functions (the numpy floor of docs/design.md)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Frame rate written where the source does not tell one (cameras often report 0).
DEFAULT_FPS = 30.0

#: Video suffix -> the FourCC OpenCV writes it with (both tested on the FFmpeg backend).
WRITE_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG"}


def camera_index(source: object) -> int | None:
    """The camera index `source` names, or None for a file: an int, or a str/Path of digits
    only ("0") that is not an existing file (a file named "0" stays a file)."""
    if isinstance(source, bool):
        return None
    if isinstance(source, (int, np.integer)):
        return int(source)
    if isinstance(source, (str, Path)) and re.fullmatch(r"\d+", str(source)):
        return None if Path(source).exists() else int(str(source))
    return None


class FrameSource:
    """An opened video file or camera. Iterate for (index, RGB frame (H, W, 3) uint8): every
    `every`-th frame, indices counted over all frames. `fps`, `size` (width, height) and
    `frame_count` are None where OpenCV does not know them (a camera has no count). A context
    manager; iteration releases the capture when it ends."""

    def __init__(self, capture: object, name: str, every: int, camera: bool) -> None:
        import cv2

        self._cap, self.name, self.every, self.camera = capture, name, every, camera
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        self.fps: float | None = fps if np.isfinite(fps) and fps > 0 else None
        w, h = (int(capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        self.size: tuple[int, int] | None = (w, h) if w > 0 and h > 0 else None
        n = float(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count: int | None = (int(n) if not camera and np.isfinite(n) and n > 0
                                        else None)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        import cv2

        cap = self._cap
        if cap is None:
            raise ValueError(f"{self.name} is closed")
        try:
            i = 0
            while True:
                # grab() alone for the frames skipped: no decode into BGR nor colour conversion
                if i % self.every == 0:
                    ok, frame = cap.read()
                    if not ok or frame is None:
                        break
                    yield i, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                elif not cap.grab():
                    break
                i += 1
        finally:
            self.close()

    def close(self) -> None:
        """Release the capture (idempotent)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FrameSource({self.name!r}, fps={self.fps}, size={self.size}, "
                f"frame_count={self.frame_count}, every={self.every})")


def open_frames(source: str | Path | int, every: int = 1) -> FrameSource:
    """Open a video file or a camera (an int, or digits such as "0": /dev/video0 on Linux) for
    reading RGB frames. FileNotFoundError for a missing file; ValueError, one line, for a file
    OpenCV cannot read or a camera that is absent or cannot be opened."""
    import cv2

    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    index = camera_index(source)
    if index is not None:
        device = Path(f"/dev/video{index}")
        linux = sys.platform.startswith("linux")
        if linux and not device.exists():
            raise ValueError(f"no camera at index {index} ({device} does not exist)")
        cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            cap.release()
            where = f" ({device})" if linux else ""
            raise ValueError(f"cannot open the camera at index {index}{where}: in use by another "
                             "program, not a capture device, or no permission")
        return FrameSource(cap, f"camera {index}", int(every), camera=True)
    path = Path(source)
    if not path.is_file():
        if path.exists():
            raise ValueError(f"{path} is not a video file")
        raise FileNotFoundError(f"video not found: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise ValueError(f"OpenCV cannot read the video {path}")
    return FrameSource(cap, str(path), int(every), camera=False)


class VideoSink:
    """Writes RGB frames (H, W, 3) uint8 to a video file, the codec chosen by the suffix
    (`WRITE_CODECS`: .mp4/.m4v/.mov/.mkv mp4v, .avi MJPG). `size` (width, height) is taken from
    the first frame when None. Odd sides are padded by one edge pixel on the right or bottom
    (the codecs store even sides; padding there keeps pixel coordinates). A context manager."""

    def __init__(self, path: str | Path, fps: float | None = None,
                 size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.codec = WRITE_CODECS.get(self.path.suffix.lower())
        if self.codec is None:
            known = " ".join(sorted(WRITE_CODECS))
            raise ValueError(f"cannot write a video named {self.path}: the suffix must be one "
                             f"of {known}")
        fps = DEFAULT_FPS if fps is None else float(fps)
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"a video's fps must be > 0, got {fps}")
        folder = self.path.parent
        if not folder.is_dir():
            raise ValueError(f"cannot write the video {self.path}: folder {folder} does not "
                             "exist")
        if self.path.is_dir() or not os.access(folder, os.W_OK):
            raise ValueError(f"cannot write the video {self.path}: "
                             + ("it is a folder" if self.path.is_dir() else
                                f"folder {folder} is not writable"))
        self.fps = fps
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height) as given, before padding
        self._writer: object | None = None
        self._closed = False
        if size is not None:
            self._open(size)

    def _open(self, size: tuple[int, int]) -> None:
        import cv2

        w, h = (int(v) for v in size)
        if w < 1 or h < 1:
            raise ValueError(f"a video's size is (width, height) >= 1, got {size}")
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.codec), self.fps,
                                 (w + w % 2, h + h % 2))
        if not writer.isOpened():
            writer.release()
            raise ValueError(f"OpenCV cannot open {self.path} for writing (codec {self.codec}, "
                             f"{w}x{h})")
        self._writer, self.size = writer, (w, h)

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB frame of the sink's size (OpenCV would drop another size silently)."""
        import cv2

        if self._closed:
            raise ValueError(f"the video {self.path} is closed")
        f = np.asarray(frame)
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"video frames are (H, W, 3) uint8 RGB, got {f.shape} {f.dtype}")
        if self._writer is None:
            self._open((f.shape[1], f.shape[0]))
        w, h = self.size
        if f.shape[:2] != (h, w):
            raise ValueError(f"frame {self.frames} of {self.path} is {f.shape[1]}x{f.shape[0]}, "
                             f"the video {w}x{h}")
        bgr = cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
        if w % 2 or h % 2:
            bgr = cv2.copyMakeBorder(bgr, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
        self._writer.write(bgr)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (idempotent). A sink given no size that never got a frame writes no
        file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._closed = True

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
