"""FaceTracker (runtime/tracking.py) on synthetic videos with known landmarks: it follows the
face with the detector idle, re-detects after a cut and gives the new face a new id, finds a
face entering later only with periodic re-detection, lets go of a face that leaves, sends the
faces of a frame through the model together, and smooths without adding error."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector.metrics import nme_per_image
from gaussian_vector.runtime import FacePipeline
from gaussian_vector.runtime.smoothing import OneEuro
from gaussian_vector.runtime.tracking import FaceTracker, iou, likeness, thumbnail
from gaussian_vector.video.synth import SyntheticVideo, sample_faces

#: Mean ION NME bound on these videos of the two bundled photos (the detect-every-frame
#: pipeline measures ~3-5% on them; a tracker that drifts off the face gives > 20%).
NME_BOUND = 0.08


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return FacePipeline.from_file("default-int8", threads=1)


@pytest.fixture(scope="module")
def video() -> SyntheticVideo:
    return SyntheticVideo(sample_faces(), n_frames=60, cut_every=30, seed=3)


def run(tracker: FaceTracker, frames) -> list:
    return [tracker.update(f) for f in frames]


def test_tracking_follows_the_face_and_the_detector_runs_only_at_the_start_and_the_cut(
        pipeline, video) -> None:
    tracker = FaceTracker(pipeline, smoothing=None)
    ran, nme, ids = [], [], []
    for i in range(len(video)):
        faces = tracker.update(video.frame(i))
        ran.append(tracker.timing.extra["detector_ran"])
        assert len(faces) == 1, f"frame {i}: {len(faces)} faces"
        truth = video.truth(i)[0].points
        nme.append(nme_per_image(faces[0].face.landmarks[None], truth[None], "300w68")[0])
        ids.append(faces[0].id)
    assert np.flatnonzero(ran).tolist() == [0, 30]
    assert np.mean(nme) < NME_BOUND
    assert ids == [0] * 30 + [1] * 30  # one id per face, a new one after the cut
    assert not faces[0].tracked or tracker.timing.detect_faces == 0.0


def test_a_new_face_gets_a_new_id_even_where_the_old_crop_still_holds_a_face(pipeline) -> None:
    """The cut lands the other photo where the first one was: the face score alone would keep
    the track; the crop's likeness tells the faces apart."""
    video = SyntheticVideo(sample_faces(), n_frames=20, cut_every=10, seed=1, shift=0.0,
                           rotation_deg=0.0, scale=0.0, iod=(80.0, 80.0))
    frames = [video.frame(i) for i in range(len(video))]
    ids = [[f.id for f in faces] for faces in run(FaceTracker(pipeline), frames)]
    assert ids[:10] == [[0]] * 10
    assert ids[10:] == [[1]] * 10


def test_the_same_face_keeps_its_likeness_and_another_face_does_not(video) -> None:
    same = likeness(thumbnail(video.frame(0), video.truth(0)[0].points),
                    thumbnail(video.frame(1), video.truth(1)[0].points))
    other = likeness(thumbnail(video.frame(29), video.truth(29)[0].points),
                     thumbnail(video.frame(30), video.truth(29)[0].points))
    assert same > 0.9
    assert other < 0.6


def test_a_face_entering_later_is_found_only_with_periodic_redetection(pipeline) -> None:
    video = SyntheticVideo(sample_faces(), n_frames=24, cut_every=None, per_frame=2, seed=2)
    half = video.size[0] // 2

    def frame(i: int) -> np.ndarray:
        f = video.frame(i)
        if i < 8:
            f[:, half:] = 0  # the right face enters at frame 8
        return f

    counts = {}
    for every in (0, 5):
        tracker = FaceTracker(pipeline, redetect_every=every)
        counts[every] = [len(tracker.update(frame(i))) for i in range(len(video))]
    assert counts[0] == [1] * 24
    assert counts[5][:8] == [1] * 8
    assert counts[5][-1] == 2 and counts[5].index(2) == 10  # the first re-detection after 8


def test_a_face_that_leaves_is_let_go_and_found_again(pipeline, video) -> None:
    tracker = FaceTracker(pipeline)
    blank = np.zeros_like(video.frame(0))
    out = [tracker.update(video.frame(0)), tracker.update(blank),
           tracker.update(video.frame(2))]
    assert [len(o) for o in out] == [1, 0, 1]
    assert out[2][0].id == 1 and not out[2][0].tracked


def test_the_faces_of_a_frame_run_through_the_model_in_one_call(pipeline, monkeypatch) -> None:
    video = SyntheticVideo(sample_faces(), n_frames=6, cut_every=None, per_frame=2, seed=4)
    tracker = FaceTracker(pipeline)
    tracker.update(video.frame(0))
    calls = []
    real = pipeline.landmarker.faces
    monkeypatch.setattr(pipeline.landmarker, "faces",
                        lambda image, boxes, *a: calls.append(len(boxes)) or real(image, boxes, *a))
    for i in range(1, 6):
        assert len(tracker.update(video.frame(i))) == 2
    assert calls == [2] * 5


def test_smoothing_lowers_jitter_without_adding_error(pipeline) -> None:
    video = SyntheticVideo(sample_faces()[:1], n_frames=45, cut_every=None, seed=5)
    frames = [video.frame(i) for i in range(len(video))]
    truth = np.stack([video.truth(i)[0].points for i in range(len(video))])
    result = {}
    for name, smoothing in (("raw", None), ("smooth", OneEuro())):
        pts = np.stack([f[0].face.landmarks for f in run(FaceTracker(pipeline,
                                                                     smoothing=smoothing),
                                                         frames)])
        err = pts - truth
        result[name] = (np.linalg.norm(np.diff(err, axis=0), axis=-1).mean(),
                        np.linalg.norm(err, axis=-1).mean())
    assert result["smooth"][0] < 0.7 * result["raw"][0]
    assert result["smooth"][1] < 1.05 * result["raw"][1]


def test_iou_of_boxes() -> None:
    a = np.array([0.0, 0.0, 10.0, 10.0])
    assert iou(a, a) == 1.0
    assert iou(a, a + 20) == 0.0
    assert iou(a, np.array([5.0, 0.0, 15.0, 10.0])) == pytest.approx(1 / 3)


@pytest.mark.parametrize("kwargs", [{"redetect_every": -1}, {"fps": 0.0}, {"max_faces": 0}])
def test_bad_tracker_settings_are_one_clear_error(pipeline, kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        FaceTracker(pipeline, **kwargs)
