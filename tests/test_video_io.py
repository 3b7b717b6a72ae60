"""Frames in and out (gaussian_vector.video.io): a video written by VideoSink reads back through
open_frames with its size, rate and frames; every N-th frame is the right one; a camera that is
not there, an unreadable video and an unwritable output are one clear error line each."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.video.io import VideoSink, camera_index, open_frames


def grey_frames(n: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """`n` RGB frames whose colour encodes their index (readable through lossy codecs)."""
    w, h = size
    return [np.full((h, w, 3), (20 * i % 250, 100, 250 - 20 * i % 250), np.uint8)
            for i in range(n)]


def write(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    with VideoSink(path, fps, (frames[0].shape[1], frames[0].shape[0])) as sink:
        for f in frames:
            sink.write(f)
    assert sink.frames == len(frames)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".mkv"])
def test_frames_written_read_back_with_size_rate_and_count(tmp_path, suffix):
    frames = grey_frames(5)
    path = write(tmp_path / f"v{suffix}", frames, fps=12.0)
    with open_frames(path) as src:
        assert (src.size, src.fps, src.frame_count, src.camera) == ((64, 48), 12.0, 5, False)
        got = list(src)
    assert [i for i, _ in got] == list(range(5))
    for (_, f), want in zip(got, frames, strict=True):
        assert f.shape == (48, 64, 3) and f.dtype == np.uint8
        assert np.abs(f.astype(int) - want).mean() < 6  # RGB order kept, lossy codec


def test_every_nth_frame_is_the_right_frame(tmp_path):
    frames = grey_frames(10)
    path = write(tmp_path / "v.avi", frames)
    got = list(open_frames(str(path), every=3))
    assert [i for i, _ in got] == [0, 3, 6, 9]
    for i, f in got:
        assert np.abs(f.astype(int) - frames[i]).mean() < 6


def test_odd_sizes_are_padded_on_the_right_and_bottom(tmp_path):
    rng = np.random.default_rng(0)
    frame = np.repeat(np.kron(rng.integers(0, 255, (7, 9)), np.ones((7, 7))).astype(np.uint8)
                      [:, :, None], 3, axis=2)  # 49 x 63, blocks that survive compression
    path = write(tmp_path / "odd.avi", [frame] * 2)
    ((_, f), _) = open_frames(path)
    assert f.shape == (50, 64, 3)
    assert np.abs(f[:49, :63].astype(int) - frame).mean() < 6  # nothing moved


def test_a_sink_without_size_opens_on_its_first_frame_and_writes_nothing_without_one(tmp_path):
    with VideoSink(tmp_path / "later.mp4") as sink:
        sink.write(grey_frames(1, (32, 24))[0])
        assert sink.size == (32, 24)
        with pytest.raises(ValueError, match=r"frame 1 of .* is 64x48, the video 32x24"):
            sink.write(grey_frames(1)[0])
    assert (tmp_path / "later.mp4").is_file()
    VideoSink(tmp_path / "never.mp4").close()
    assert not (tmp_path / "never.mp4").exists()


@pytest.mark.parametrize("name, fps, message", [
    ("v.gif", 10, r"cannot write a video named .*v\.gif: the suffix must be one of"),
    ("missing/v.mp4", 10, r"cannot write the video .*v\.mp4: folder .*missing does not exist"),
    ("v.mp4", 0, "a video's fps must be > 0, got 0.0"),
])
def test_a_sink_that_cannot_write_is_one_clear_error(tmp_path, name, fps, message):
    with pytest.raises(ValueError, match=message):
        VideoSink(tmp_path / name, fps, (64, 48))


def test_a_folder_is_no_video_to_write(tmp_path):
    (tmp_path / "d.mp4").mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        VideoSink(tmp_path / "d.mp4", 10, (64, 48))


def test_camera_indices_are_ints_or_digits_that_name_no_file(tmp_path, monkeypatch):
    assert [camera_index(s) for s in (0, 3, "0", "12", Path("2"))] == [0, 3, 0, 12, 2]
    assert [camera_index(s) for s in ("a.mp4", True, "0.5", "-1")] == [None] * 4
    monkeypatch.chdir(tmp_path)
    Path("0").write_bytes(b"")
    assert camera_index("0") is None and camera_index(0) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names /dev/videoN")
@pytest.mark.parametrize("source", [99, "99", 0])
def test_an_absent_camera_is_one_clear_error(source):
    if source == 0 and Path("/dev/video0").exists():
        pytest.skip("this machine has a camera at /dev/video0")
    n = int(source)
    with pytest.raises(ValueError, match=rf"^no camera at index {n} \(/dev/video{n} does not "
                                         r"exist\)$"):
        open_frames(source)


def test_a_video_opencv_cannot_read_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video\n")
    with pytest.raises(ValueError, match=rf"^OpenCV cannot read the video {bad}$"):
        open_frames(bad)
    with pytest.raises(FileNotFoundError, match="video not found: .*nothing.mp4"):
        open_frames(tmp_path / "nothing.mp4")
    with pytest.raises(ValueError, match="is not a video file"):
        open_frames(tmp_path)
    with pytest.raises(ValueError, match="every must be an integer >= 1, got 0"):
        open_frames(bad, every=0)
