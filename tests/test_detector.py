"""The bundled BlazeFace detector: anchors as MediaPipe lays them out, weighted NMS, faces found
on the samples where the annotation puts them, nothing on a blank image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.affine import box_from_landmarks
from gaussian_vector.data.readers import read_pts
from gaussian_vector.detector import LANDMARK_BOX, BlazeFace, BoxMapping
from gaussian_vector.detector.anchors import FULL_RANGE_STRIDES, ssd_anchors
from gaussian_vector.detector.blazeface import DATA, fit_mapping
from gaussian_vector.detector.nms import iou, weighted_nms
from gaussian_vector.image import load_image

SAMPLES = Path(__file__).resolve().parents[1] / "python" / "gaussian_vector" / "samples"


def test_short_range_anchors():
    a = ssd_anchors()
    assert a.shape == (896, 2)
    # 16x16 map, 2 anchors a cell, then 8x8 map, 6 a cell; centres at (i + 0.5) / side
    np.testing.assert_allclose(a[0], a[1])
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(a[512:518], np.repeat(a[512:513], 6, axis=0))
    np.testing.assert_allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_full_range_anchors():
    a = ssd_anchors(192, FULL_RANGE_STRIDES, per_layer=1)
    assert a.shape == (2304, 2)
    np.testing.assert_allclose(a[48], [0.5 / 48, 1.5 / 48])


def test_weighted_nms_averages_a_cluster_and_keeps_separate_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], float)
    scores = np.array([0.9, 0.3, 0.8])
    kps = boxes[:, None, :2].copy()
    b, s, k = weighted_nms(boxes, scores, kps, 0.3)
    np.testing.assert_allclose(s, [0.9, 0.8])
    np.testing.assert_allclose(b[0], [0.25, 0.25, 10.25, 10.25])  # (0.9*0 + 0.3*1) / 1.2
    np.testing.assert_allclose(k[0, 0], [0.25, 0.25])
    np.testing.assert_allclose(b[1], boxes[2])
    assert iou(b[0], b[1:]).item() == 0.0


def test_mapping_fit_recovers_a_known_mapping():
    rng = np.random.default_rng(0)
    det = np.concatenate([rng.uniform(0, 100, (50, 2)), rng.uniform(150, 250, (50, 2))], axis=1)
    m = BoxMapping(dx=0.02, dy=0.05, sw=0.95, sh=0.9)
    got = fit_mapping(det, m.apply(det))
    np.testing.assert_allclose([got.dx, got.dy, got.sw, got.sh], [0.02, 0.05, 0.95, 0.9])


def test_bundled_models_and_notice_ship():
    for name in ("face_detection_short_range.tflite", "face_detection_full_range_sparse.tflite",
                 "NOTICE.md", "LICENSE-mediapipe-Apache-2.0.txt"):
        assert (DATA / name).is_file(), name


@pytest.fixture(scope="module")
def detector():
    pytest.importorskip("ai_edge_litert")
    return BlazeFace()


@pytest.mark.parametrize("name", ["einstein.jpg", "takeo.ppm"])
def test_finds_the_annotated_face(detector, name):
    image = load_image(SAMPLES / name)
    truth = box_from_landmarks(read_pts((SAMPLES / name).with_suffix(".pts")))
    boxes, scores = detector(image)
    assert len(boxes) == 1 and scores[0] > 0.5
    # after the mapping the box frames the face as the landmark box does
    assert iou(truth, boxes).item() > 0.6
    side = max(truth[2] - truth[0], truth[3] - truth[1])
    centre = (boxes[0, :2] + boxes[0, 2:]) / 2 - (truth[:2] + truth[2:]) / 2
    assert np.linalg.norm(centre) < 0.15 * side


def test_keypoints_put_the_eyes_on_the_eyes(detector):
    image = load_image(SAMPLES / "takeo.ppm")
    pts = read_pts(SAMPLES / "takeo.pts")
    d = detector.detect(image)
    eyes = np.stack([pts[36:42].mean(0), pts[42:48].mean(0)])  # subject's right, left
    iod = np.linalg.norm(eyes[0] - eyes[1])
    found = d.keypoints[0, :2]
    by_x = np.argsort(found[:, 0]), np.argsort(eyes[:, 0])
    err = np.linalg.norm(found[by_x[0]] - eyes[by_x[1]], axis=1)
    assert err.max() < 0.3 * iod


def test_blank_and_tiny_images_have_no_face(detector):
    assert len(detector(np.zeros((240, 320, 3), np.uint8))[0]) == 0
    assert len(detector(np.full((3, 5), 200, np.uint8))[0]) == 0


def test_mapping_is_the_fitted_one():
    assert BoxMapping() != LANDMARK_BOX  # calibrated, not the identity placeholder
    assert 0.8 < LANDMARK_BOX.sw < 1.1 and 0.8 < LANDMARK_BOX.sh < 1.1


def test_match_box_picks_the_true_face_or_reports_a_miss() -> None:
    from gaussian_vector.detector.nms import match_box

    truth = np.array([100.0, 100, 200, 200])
    found = np.array([[0.0, 0, 50, 50], [110, 105, 205, 210], [90, 90, 150, 150]])
    assert np.array_equal(match_box(truth, found), found[1])
    assert match_box(truth, found[[0]]) is None  # someone else's face: a miss
    assert match_box(truth, np.zeros((0, 4))) is None
