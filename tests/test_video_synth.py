"""Synthetic test videos (gaussian_vector.video.synth): the ground truth is where the pixels
went, the motion is smooth, a cut changes the faces exactly at its frame, the video written reads
back with its ground truth, and a seed gives the same video."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gaussian_vector import affine
from gaussian_vector.video.io import open_frames
from gaussian_vector.video.synth import (
    Face,
    SyntheticVideo,
    data_faces,
    main,
    read_truth,
    sample_faces,
    truth_path,
)

#: Well separated points of the 68 (eye corners, nose tip, mouth corners, chin) for spot tests.
SPOTS = [36, 45, 30, 48, 54, 8]


@pytest.fixture(scope="module")
def faces() -> list[Face]:
    return sample_faces()


def spot_face(source_iod: float, spot_sigma: float) -> Face:
    """A black photo with a Gaussian spot (peak 250) on each SPOTS landmark of einstein's face
    scaled to `source_iod`: where the spots land in a frame is measurable to a tenth of a pixel."""
    p = sample_faces()[0].points
    p = (p - p.min(axis=0)) * source_iod / np.linalg.norm(p[36] - p[45])
    p += 6 * spot_sigma + 20
    h, w = (np.ceil(p.max(axis=0)) + 6 * spot_sigma + 20).astype(int)[::-1]
    yy, xx = np.mgrid[:h, :w]
    img = np.zeros((h, w))
    for x, y in p[SPOTS]:
        img += 250 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * spot_sigma ** 2))
    return Face(np.repeat(np.round(img).astype(np.uint8)[:, :, None], 3, axis=2), p, "spots")


def centroid(frame: np.ndarray, at: np.ndarray, radius: int) -> np.ndarray:
    """Intensity-weighted centre (0-based pixel centres) of the window around `at`."""
    x0, y0 = np.round(at).astype(int) - radius
    win = frame[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1, 0].astype(np.float64)
    yy, xx = np.mgrid[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1]
    return np.array([(win * xx).sum(), (win * yy).sum()]) / win.sum()


def test_ground_truth_is_the_frame_transform_applied_to_the_photo_points(faces):
    v = SyntheticVideo(faces, n_frames=30, cut_every=15, per_frame=2, seed=3)
    for i in (0, 14, 15, 29):
        for slot, (ident, pts) in enumerate(v.truth(i)):
            np.testing.assert_allclose(pts, affine.apply(v.transforms[i, slot],
                                                         faces[ident].points), atol=1e-9)


@pytest.mark.parametrize("source_iod, iod", [(200.0, 60.0), (50.0, 90.0)],
                         ids=["shrunk-by-area-first", "enlarged"])
def test_the_drawn_pixels_sit_on_the_ground_truth(source_iod, iod):
    """A spot drawn at a landmark of the photo is centred on that landmark's ground truth in
    every frame, shrunk (area reduction folded into the warp) or enlarged: 0-based pixel centres
    kept through both."""
    sigma_frame = 2.0
    face = spot_face(source_iod, sigma_frame * source_iod / iod)
    v = SyntheticVideo([face], n_frames=40, iod=(iod, iod), scale=0.0, cut_every=None, seed=1)
    worst = 0.0
    for i in range(0, 40, 3):
        frame = v.frame(i)
        (_, pts), = v.truth(i)
        for k in SPOTS:
            worst = max(worst, float(np.linalg.norm(centroid(frame, pts[k], 8) - pts[k])))
    assert worst < 0.05, f"a spot lies {worst:.3f} px from its ground truth"


def test_faces_move_smoothly_and_every_frame(faces):
    v = SyntheticVideo(faces, n_frames=240, cut_every=120, seed=0)
    g = v.ground_truth
    iod = np.linalg.norm(g.points[:, :, 36] - g.points[:, :, 45], axis=-1)
    assert iod.min() > 50 and iod.max() < 120  # a face a detector sees in a 640x480 frame
    step = np.linalg.norm(np.diff(g.points, axis=0), axis=-1).mean(axis=-1) / iod[1:]
    within = np.diff(g.segments) == 0
    assert step[within].min() > 0.002 and step[within].max() < 0.1
    accel = np.linalg.norm(np.diff(g.points, 2, axis=0), axis=-1).max(axis=-1) / iod[2:]
    assert accel[within[1:] & within[:-1]].max() < 0.015
    # The motion covers translation, rotation and scale.
    m = v.transforms[within.nonzero()[0], 0]
    angle = np.degrees(np.arctan2(m[:, 0, 1], m[:, 0, 0]))
    scale = np.sqrt(np.abs(np.linalg.det(m[:, :, :2])))
    assert np.ptp(angle) > 3 and np.ptp(scale) / scale.mean() > 0.1
    assert np.ptp(g.points[within.nonzero()[0], 0, :, 0].mean(axis=-1)) > 30


def test_a_cut_changes_the_face_exactly_at_its_frame(faces):
    v = SyntheticVideo(faces, n_frames=100, cut_every=40, seed=2)
    g = v.ground_truth
    assert g.cuts.tolist() == [40, 80]
    assert g.segments.tolist() == [0] * 40 + [1] * 40 + [2] * 20
    ids = g.identities[:, 0]
    assert set(ids[:40]) == {0} and set(ids[40:80]) == {1} and set(ids[80:]) == {0}
    assert [t.identity for t in v.truth(39)] == [0] and [t.identity for t in v.truth(40)] == [1]
    assert g.names == ("einstein", "takeo")
    assert not np.array_equal(v.frame(39), v.frame(40))


def test_faces_side_by_side_stay_in_their_strips_and_take_turns(faces):
    four = [*faces, *(Face(f.image, f.points, f.name + "-2") for f in faces)]
    v = SyntheticVideo(four, n_frames=60, cut_every=30, per_frame=2, seed=5)
    g = v.ground_truth
    assert g.identities[0].tolist() == [0, 1] and g.identities[30].tolist() == [2, 3]
    xs = g.points[..., 0]
    assert xs[:, 0].max() < 320 <= xs[:, 1].min()
    assert g.points[..., 1].min() >= 0 and g.points[..., 1].max() <= 479
    assert [t.identity for t in v.truth(45)] == [2, 3]


def test_the_written_video_reads_back_with_its_ground_truth(faces, tmp_path):
    v = SyntheticVideo(faces, n_frames=12, size=(320, 240), fps=25.0, cut_every=6,
                       iod=(40.0, 50.0), seed=4)
    truth = v.write(tmp_path / "synth.mp4")
    assert truth == tmp_path / "synth.truth.npz" == truth_path(tmp_path / "synth.mp4")
    with open_frames(tmp_path / "synth.mp4") as src:
        assert src.size == (320, 240) and src.fps == 25.0
        frames = list(src)
    assert [i for i, _ in frames] == list(range(12))
    for i, f in frames:  # compressed: close, not equal
        assert f.shape == (240, 320, 3)
        assert np.abs(f.astype(int) - v.frame(i)).mean() < 6
    back = read_truth(tmp_path / "synth.mp4")
    np.testing.assert_array_equal(back.points, v.points)
    np.testing.assert_array_equal(back.identities, v.identities)
    np.testing.assert_array_equal(back.segments, v.segments)
    assert (back.names, back.fps, back.size) == (("einstein", "takeo"), 25.0, (320, 240))


def test_the_same_seed_gives_the_same_video_and_another_seed_another(faces):
    a, b, c = (SyntheticVideo(faces, n_frames=8, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.points, b.points)
    assert all(np.array_equal(a.frame(i), b.frame(i)) for i in (0, 7))
    assert np.abs(a.points - c.points).max() > 1


def test_a_frame_too_small_for_the_faces_is_one_clear_error(faces):
    with pytest.raises(ValueError, match="leaves no room for face"):
        SyntheticVideo(faces, size=(40, 40), per_frame=2)


def test_the_command_writes_a_video_and_names_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "s.avi"
    assert main([str(out), "--frames", "6", "--cut-every", "3", "--size", "320x240"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf"{re.escape(str(out))}: 6 frames 320x240 at 30 fps, cuts at 3; faces "
                        r"einstein, takeo, inter-ocular \d+-\d+ px; ground truth "
                        + re.escape(str(tmp_path / "s.truth.npz")), line), line
    with open_frames(out) as src:
        assert src.frame_count == 6


@pytest.mark.parametrize("args, message", [
    (["--data", "{tmp}/nowhere"], "data folder not found: {tmp}/nowhere"),
    (["--data", "{tmp}"], "{tmp} has no 300w/helen/trainset folder"),
])
def test_bad_data_is_one_error_line(tmp_path, capsys, args, message):
    argv = [str(tmp_path / "s.mp4"), *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("synth: error: " + message.format(tmp=tmp_path)) and "\n" not in err
    assert not (tmp_path / "s.mp4").exists()


def test_an_unwritable_output_is_one_error_line(tmp_path, capsys):
    out = tmp_path / "missing" / "s.mp4"
    assert main([str(out), "--frames", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"synth: error: cannot write the video {out}: folder {out.parent} does not exist"


def test_faces_from_the_data_split_by_seed_or_name(data_root):
    a = data_faces(data_root, 3, split="helen-val", seed=1)
    names = (data_root / "300w/helen/val.txt").read_text().split()
    assert len({f.name for f in a}) == 3 and {f.name for f in a} <= set(names)
    assert [f.name for f in data_faces(data_root, 3, split="helen-val", seed=1)] == [
        f.name for f in a]
    people = {f.name.rsplit("_", 1)[0] for f in data_faces(data_root, 8, split="youtube-test")}
    assert len(people) == 8  # a cut changes the person, not only the frame of one person
    b = data_faces(data_root, split="youtube-test", names=["Abdullah_Gul_11"])
    assert [f.name for f in b] == ["Abdullah_Gul_11"] and b[0].points.shape == (68, 2)
    with pytest.raises(ValueError, match="no readable face named nobody"):
        data_faces(data_root, split="helen-val", names=["nobody"])
