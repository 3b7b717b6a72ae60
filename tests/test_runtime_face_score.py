"""The face score (mean landmark confidence): a given box with no face the model can read is a
NotAFaceError naming the box, the detector's low-scoring candidates are dropped, and min_score=0
keeps every result. Real and oracle models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runtime_fixtures as rf

from gaussian_vector.image import load_image
from gaussian_vector.runtime import FacePipeline, NoFaceError, NotAFaceError
from gaussian_vector.runtime.pipeline import MIN_FACE_SCORE

oracle_onnx = rf.oracle_onnx  # fixture
SAMPLES = Path(__file__).resolve().parents[1] / "python/gaussian_vector/samples"
IMAGE = np.full((200, 300, 3), 90, np.uint8)
BOXES = np.array([[50.0, 40.0, 150.0, 140.0], [120.0, 30.0, 220.0, 180.0]])


def _second_box_scores(lm: FacePipeline, monkeypatch, value: float, index: int = 1) -> None:
    """Make the model's peaks for crop `index` `value` (the oracle's are high everywhere)."""
    real = lm.landmarker._landmarks

    def low(image, boxes):
        xy, conf, transforms = real(image, boxes)
        conf = conf.copy()
        conf[index] = value
        return xy, conf, transforms

    monkeypatch.setattr(lm.landmarker, "_landmarks", low)


def test_a_given_box_that_scores_low_is_a_not_a_face_error_naming_it(oracle_onnx, monkeypatch):
    lm = FacePipeline.from_file(oracle_onnx)
    assert lm.min_score == MIN_FACE_SCORE["gv"]
    _second_box_scores(lm, monkeypatch, 0.2)
    with pytest.raises(NotAFaceError, match=r"box 1 \[120.0, 30.0, 220.0, 180.0\].*0.20 < "
                       + f"{lm.min_score:g};"):
        lm.detect(IMAGE, BOXES)


def test_the_detectors_low_scoring_candidates_are_dropped(oracle_onnx, monkeypatch):
    lm = FacePipeline.from_file(oracle_onnx, detector=lambda img: (BOXES, np.array([0.9, 0.8])))
    _second_box_scores(lm, monkeypatch, 0.2)
    faces = lm.detect(IMAGE)
    assert len(faces) == 1 and faces[0].score >= lm.min_score
    np.testing.assert_array_equal(faces[0].box, BOXES[0])
    monkeypatch.undo()
    lm = FacePipeline.from_file(oracle_onnx, detector=lambda img: (BOXES[1:], np.array([0.8])))
    _second_box_scores(lm, monkeypatch, 0.2, index=0)
    with pytest.raises(NoFaceError, match="candidate"):
        lm.detect(IMAGE)


def test_min_score_zero_keeps_every_result(oracle_onnx, monkeypatch):
    lm = FacePipeline.from_file(oracle_onnx, min_score=0)
    _second_box_scores(lm, monkeypatch, 0.2)
    faces = lm.detect(IMAGE, BOXES)
    assert [round(f.score, 3) for f in faces][1] == 0.2
    assert faces[1].to_dict()["score"] == pytest.approx(0.2)
    # peaks below 0 (an untrained model's, a blank crop's) are kept too: 0 means every result
    monkeypatch.undo()
    _second_box_scores(lm, monkeypatch, -0.3)
    assert [round(f.score, 3) for f in lm.detect(IMAGE, BOXES)] == [round(faces[0].score, 3), -0.3]
    with pytest.raises(ValueError, match="min_score"):
        FacePipeline.from_file(oracle_onnx, min_score=-1)


def test_a_model_that_carries_its_own_floor_is_filtered_at_it():
    """The shipped 192 px model scores higher than the 256 px one (faces and noise alike) and
    carries its measured floor in its config: the pipeline takes it, the head's stays for
    models that do not say."""
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    fast = FacePipeline.from_file("fast-int8")
    assert fast.landmarker.config.extra["min_face_score"] == fast.min_score == 1.2
    assert FacePipeline.from_file("default-int8").min_score == MIN_FACE_SCORE["gv"]
    assert FacePipeline.from_file("fast", min_score=0.3).min_score == 0.3
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    with pytest.raises(NotAFaceError, match="< 1.2;"):
        fast.detect(noise, [[40, 40, 216, 216]])


def test_the_shipped_model_refuses_noise_and_reads_a_real_face():
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    lm = FacePipeline.from_file("default")
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    with pytest.raises(NotAFaceError, match="not a face"):
        lm.detect(noise, [[40, 40, 216, 216]])
    with pytest.raises(NotAFaceError):
        lm.detect(np.full((256, 256, 3), 128, np.uint8), [[40, 40, 216, 216]])
    (face,) = lm.detect(load_image(SAMPLES / "einstein.jpg"))
    assert face.score > 1.3 * lm.min_score  # einstein.jpg: 1.44, detector's box
