"""gv-infer on videos and cameras: --track gives ids that change at a cut and runs the detector
only where needed, --draw writes one video, an absent camera is one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gaussian_vector.video.io import open_frames
from gaussian_vector.video.synth import SyntheticVideo, sample_faces

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gaussian_vector.cli.infer", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    SyntheticVideo(sample_faces(), n_frames=24, cut_every=12, seed=3).write(path)
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()][1:]


def test_track_gives_ids_that_change_at_the_cut(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    res = run_cli(str(clip), "--track", "--model", "default-int8", "--threads", "1",
                  "--jsonl", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    recs = records(out)
    assert [r["frame"] for r in recs] == list(range(24))
    assert [f["id"] for r in recs for f in r["faces"]] == [0] * 12 + [1] * 12
    assert [i for i, r in enumerate(recs) if r["detector_ran"]] == [0, 12]
    assert all(f["tracked"] == (i not in (0, 12)) for i, r in enumerate(recs)
               for f in r["faces"])


def test_without_track_every_frame_is_detected_and_has_no_ids(clip: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    res = run_cli(str(clip), "--model", "default-int8", "--jsonl", str(out), "--every", "6")
    assert res.returncode == 0, res.stderr
    recs = records(out)
    assert [r["frame"] for r in recs] == [0, 6, 12, 18]
    assert all("id" not in f for r in recs for f in r["faces"])


def test_draw_on_a_video_writes_one_video(clip: Path, tmp_path: Path) -> None:
    res = run_cli(str(clip), "--track", "--draw", str(tmp_path / "d"), "--model", "default-int8")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["clip.mp4"]
    src = open_frames(tmp_path / "d" / "clip.mp4")
    assert src.frame_count == 24 and src.size == (640, 480)
    src.close()


def test_an_absent_camera_is_one_clear_line() -> None:
    res = run_cli("7", "--track")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert lines == ["gv-infer: 7: no camera at index 7 (/dev/video7 does not exist)"], lines


def test_track_on_images_says_it_applies_to_videos(tmp_path: Path) -> None:
    res = run_cli("--samples", "--track", "--json", str(tmp_path / "r.json"))
    assert res.returncode == 0, res.stderr
    assert "--track follows faces through videos and cameras" in res.stderr


@pytest.mark.parametrize("args, needle", [(["--smooth-min-cutoff", "0"], "--smooth-min-cutoff"),
                                          (["--smooth-beta", "-1"], "--smooth-beta"),
                                          (["--redetect-every", "-2"], "--redetect-every")])
def test_bad_tracking_options_are_one_clear_error(args: list[str], needle: str) -> None:
    res = run_cli("--samples", "--track", *args)
    assert res.returncode == 2
    assert needle in res.stderr and "Traceback" not in res.stderr
