"""Landmarker end to end on oracle models (known outputs): the crop, the interpreter, the decoder
and the inverse affine compose to the right image coordinates, for TFLite and ONNX."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import runtime_fixtures as rf
from runtime_fixtures import expected_landmarks, write_oracle_onnx

from gaussian_vector.config import ModelConfig
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.heads import head_of
from gaussian_vector.runtime import (
    BoxError,
    FacePipeline,
    Landmarker,
    ModelError,
    NoFaceError,
    decoding,
    read_metadata,
)

oracle_onnx, oracle_tflite = rf.oracle_onnx, rf.oracle_tflite  # fixtures
foreign_onnx, foreign_tflite = rf.foreign_onnx, rf.foreign_tflite

IMAGE = np.full((200, 300, 3), 90, np.uint8)
BOXES = np.array([[50.0, 40.0, 150.0, 140.0], [120.0, 30.0, 220.0, 180.0], [-20, -10, 40, 60]])


@pytest.fixture(params=["tflite", "onnx"])
def model_path(request):
    return request.getfixturevalue(f"oracle_{request.param}")


def test_landmarks_in_image_coordinates(model_path):
    lm = Landmarker.from_file(model_path)
    faces = lm.detect(IMAGE, BOXES)
    assert len(faces) == len(BOXES)
    for face, box in zip(faces, BOXES, strict=True):
        want, peaks = expected_landmarks(box)
        np.testing.assert_allclose(face.landmarks, want, atol=1e-3)
        np.testing.assert_allclose(face.confidence, peaks, rtol=1e-5)
        # the oracle's last landmark lies left of the crop: Beyond Box, and only that one
        assert face.outside_box.tolist() == [False, False, False, False, True]
        np.testing.assert_array_equal(face.box, box)


def test_one_box_as_a_flat_list(oracle_onnx):
    lm = Landmarker.from_file(oracle_onnx)
    (face,) = lm.detect(IMAGE, [50, 40, 150, 140])
    np.testing.assert_allclose(face.landmarks, expected_landmarks(BOXES[0])[0], atol=1e-3)


def test_dynamic_batch_runs_as_one_batch(oracle_onnx, monkeypatch):
    lm = Landmarker.from_file(oracle_onnx)
    assert lm.backend.input.dynamic_batch
    calls = []
    run = lm.backend.run
    monkeypatch.setattr(lm.backend, "run", lambda b: calls.append(b.shape) or run(b))
    lm.detect(IMAGE, BOXES)
    assert calls == [(3, 3, 64, 64)]


def test_a_tflite_file_that_cannot_be_resized_runs_face_by_face(oracle_tflite, monkeypatch,
                                                                caplog):
    """The oracle's RESHAPE holds the traced batch of 1 (as gv-export's files did before it
    wrote -1 there): the resize is refused once, with one warning, and every face then runs
    alone, with the right landmarks."""
    lm = Landmarker.from_file(oracle_tflite)
    assert not lm.backend.input.dynamic_batch and lm.backend.input.shape[0] == 1
    calls = []
    run = lm.backend.run
    monkeypatch.setattr(lm.backend, "run", lambda b: calls.append(b.shape) or run(b))
    with caplog.at_level(logging.WARNING, logger="gaussian_vector.runtime"):
        faces = lm.detect(IMAGE, BOXES)
        lm.detect(IMAGE, BOXES)
    assert calls == [(1, 64, 64, 3)] * 6
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "takes no batch of 3 faces" in warning and "re-export it with gv-export" in warning
    assert lm.backend.resizable is False
    for face, box in zip(faces, BOXES, strict=True):
        np.testing.assert_allclose(face.landmarks, expected_landmarks(box)[0], atol=1e-3)


@pytest.fixture(scope="module")
def textured():
    """An image whose crops differ from box to box (a real model gives each its own output)."""
    return np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)


@pytest.mark.parametrize("target,int8", [("tflite", False), ("tflite", True), ("onnx", False)])
def test_several_boxes_in_one_call_equal_one_call_per_box(small_exports, textured, target, int8,
                                                          monkeypatch):
    """gv-export's files (traced at batch 1) run all faces of an image in one interpreter call
    and one decoder call, and each face comes out as it does alone."""
    lm = Landmarker.from_file(small_exports("gv", target, int8).path, threads=1)
    alone = [lm.detect(textured, box[None])[0] for box in BOXES]
    calls, decodes = [], []
    run, decode = lm.backend.run, decoding.decode_output
    monkeypatch.setattr(lm.backend, "run", lambda b: calls.append(b.shape[0]) or run(b))
    monkeypatch.setattr("gaussian_vector.runtime.landmarker.decode_output",
                        lambda h, out, *a, **k: decodes.append(len(out)) or decode(h, out, *a, **k))
    together = lm.detect(textured, BOXES)
    assert calls == [3] and decodes == [3] and lm.timing.faces == 3
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_allclose(b.landmarks, a.landmarks, atol=1e-4)
        np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-5)
    calls.clear()
    lm.detect(textured, BOXES[:2])  # the interpreter follows the number of faces
    assert calls == [2]


def test_image_path_and_grey_image(oracle_onnx, tmp_path):
    import cv2

    p = tmp_path / "grey.png"
    cv2.imwrite(str(p), IMAGE[:, :, 0])
    lm = Landmarker.from_file(oracle_onnx)
    a = lm.detect(p, BOXES[:1])[0].landmarks
    b = lm.detect(IMAGE[:, :, 0], BOXES[:1])[0].landmarks
    np.testing.assert_allclose(a, b)



@pytest.mark.parametrize("image, words", [
    (IMAGE.astype(np.float32) / 255, "must be uint8 arrays, got dtype float32"),
    (IMAGE[:, :, :2], r"must be \(H, W\), \(H, W, 3\) or \(H, W, 4\)"),
    (IMAGE.reshape(-1), r"got shape \(180000,\)"),
    (np.zeros((0, 0, 3), np.uint8), "the image is empty"),
    (np.zeros((10, 0), np.uint8), "the image is empty"),
    (None, "the image is None, not an array .cv2.imread returns None"),
    ([[1, 2], [3, 4]], "must be numpy uint8 arrays, got list"),
])
def test_images_the_runtime_cannot_read_are_clear_errors(oracle_onnx, image, words):
    lm = Landmarker.from_file(oracle_onnx)
    with pytest.raises(ValueError, match=words):
        lm.detect(image, BOXES[:1])

@pytest.mark.parametrize("box, words", [
    ([400, 10, 500, 100], "outside"),
    ([10, 300, 60, 400], "outside"),
    ([-200, -200, -100, -100], "outside"),
    ([50, 50, 40, 90], "no area"),
    ([0, 0, np.nan, 5], "finite"),
    ([1, 2, 3], r"shape \(M, 4\)"),
    ([0, 0, 1e9, 1e9], "image's longer side"),
])
def test_bad_boxes_are_clear_errors(oracle_onnx, box, words):
    lm = Landmarker.from_file(oracle_onnx)
    with pytest.raises(BoxError, match=words):
        lm.detect(IMAGE, [box])


def test_no_face_is_a_clear_error(oracle_onnx):
    lm = FacePipeline.from_file(oracle_onnx,
                                detector=lambda img: (np.zeros((0, 4)), np.zeros(0)))
    with pytest.raises(NoFaceError, match="no face"):
        lm.detect(IMAGE)


def test_detector_boxes_are_used(oracle_onnx):
    def det(img):
        return BOXES[:2], np.array([0.9, 0.8])

    faces = FacePipeline.from_file(oracle_onnx, detector=det).detect(IMAGE)
    assert [f.detector_score for f in faces] == [0.9, 0.8]
    np.testing.assert_allclose(faces[1].landmarks, expected_landmarks(BOXES[1])[0], atol=1e-3)


def test_models_that_are_not_ours(foreign_tflite, foreign_onnx, tmp_path):
    for p in (foreign_tflite, foreign_onnx):
        with pytest.raises(ModelError, match="not a gaussian-vector model"):
            Landmarker.from_file(p)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="not a TFLite model"):
        Landmarker.from_file(junk)
    (tmp_path / "model.pt").write_bytes(b"PK")
    with pytest.raises(ModelError, match="not a .tflite or .onnx model .export"):
        Landmarker.from_file(tmp_path / "model.pt")
    with pytest.raises(ModelError, match="model not found"):
        Landmarker.from_file(tmp_path / "missing.onnx")


@pytest.mark.parametrize("keep", [0.01, 0.5, 0.99])
def test_a_truncated_model_is_named_in_its_error(model_path, tmp_path, keep):
    """A cut-off download said 'unpack_from requires a buffer of at least ...' and no file."""
    data = model_path.read_bytes()
    cut = tmp_path / f"cut{model_path.suffix}"
    cut.write_bytes(data[:max(8, int(len(data) * keep))])
    with pytest.raises(ModelError) as e:
        Landmarker.from_file(cut)
    assert str(e.value).startswith(f"{cut}: ") and "unpack_from" not in str(e.value)
    cut.write_bytes(b"")
    with pytest.raises(ModelError, match=f"{cut}: the file is empty"):
        Landmarker.from_file(cut)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_threads_below_one_are_a_plain_value_error_not_a_model_error(oracle_tflite, threads):
    with pytest.raises(ValueError, match="threads must be an integer >= 1") as e:
        Landmarker.from_file(oracle_tflite, threads=threads)
    assert not isinstance(e.value, ModelError)  # the model is fine


def _with_metadata(src, dst, change) -> None:
    """Copy the ONNX model `src` to `dst` with `change(dict)` applied to our metadata."""
    import json

    import onnx

    from gaussian_vector.metadata import KEY

    model = onnx.load(src)
    (prop,) = [p for p in model.metadata_props if p.key == KEY]
    d = json.loads(prop.value)
    change(d)
    prop.value = json.dumps(d)
    onnx.save(model, dst)


def test_a_newer_writers_extra_metadata_keys_are_ignored(oracle_onnx, tmp_path):
    """A model exported by a newer version that adds keys (top level, config, tensors) runs as
    before; extra keys in a tensor spec were 'not gaussian-vector metadata'."""
    def add_keys(d):
        d["new_top"], d["config"]["new_config"] = {"x": 1}, 2
        d["input"]["channel_order"], d["output"]["new_output"] = "RGB", [1]

    newer = tmp_path / "newer.onnx"
    _with_metadata(oracle_onnx, newer, add_keys)
    got = Landmarker.from_file(newer).detect(IMAGE, BOXES[:1])[0].landmarks
    np.testing.assert_allclose(got, Landmarker.from_file(oracle_onnx).detect(
        IMAGE, BOXES[:1])[0].landmarks)


@pytest.mark.parametrize("version, words", [
    (2, r"written by a newer gaussian-vector .metadata version 2; this one reads up to 1.: "
        r"upgrade it with pip install -U gaussian-vector"),
    ("1", "metadata version '1' is not an integer"),
])
def test_a_metadata_version_this_runtime_cannot_read_is_one_line(oracle_onnx, tmp_path, version,
                                                                 words):
    bad = tmp_path / "bad.onnx"
    _with_metadata(oracle_onnx, bad, lambda d: d.update(version=version))
    with pytest.raises(ModelError, match=f"{bad}: .*{words}"):
        Landmarker.from_file(bad)


def test_metadata_readers_agree(oracle_tflite, oracle_onnx):
    a, b = read_metadata(oracle_tflite), read_metadata(oracle_onnx)
    assert a.config == b.config
    assert (a.input.layout, b.input.layout) == ("NHWC", "NCHW")


def test_decoder_overrides(oracle_onnx):
    lm = Landmarker.from_file(oracle_onnx, rules={"beyond_box": False})
    face = lm.detect(IMAGE, BOXES[:1])[0]
    assert not face.outside_box.any()  # without Beyond Box the point sits on the crop edge


def test_subpixel_rule_override(oracle_onnx):
    for use_native in ([False, None] if decoding.native_available() else [False]):
        lms = {s: Landmarker.from_file(oracle_onnx, rules={"subpixel": s}, use_native=use_native)
               for s in ("quarter", "parabola")}
        quarter, parabola = (lm.detect(IMAGE, BOXES[:1])[0].landmarks for lm in lms.values())
        cfg = lms["quarter"].config
        cell = 100.0 * cfg.enlarge / cfg.output_size  # one vector pixel in image pixels
        moved = np.abs(parabola - quarter).max(axis=1)
        assert moved.max() > 0  # the rule reaches the decoder ...
        assert moved.max() <= 0.75 * cell + 1e-3  # ... and stays within the quarter's cell
    with pytest.raises(ValueError, match="subpixel must be one of"):
        Landmarker.from_file(oracle_onnx, rules={"subpixel": "cubic"})


def test_a_models_own_subpixel_rule_is_the_runtimes_default(oracle_onnx, tmp_path):
    from runtime_fixtures import write_oracle_onnx

    from gaussian_vector.config import ModelConfig

    quarter = Landmarker.from_file(oracle_onnx)
    cfg = ModelConfig.from_dict({**quarter.config.to_dict(), "subpixel": "parabola"})
    own = Landmarker.from_file(write_oracle_onnx(tmp_path / "parabola.onnx", config=cfg))
    asked = Landmarker.from_file(oracle_onnx, rules={"subpixel": "parabola"})
    assert (quarter.rules.subpixel, own.rules.subpixel) == ("quarter", "parabola")
    np.testing.assert_array_equal(own.detect(IMAGE, BOXES[:1])[0].landmarks,
                                  asked.detect(IMAGE, BOXES[:1])[0].landmarks)


def test_numpy_fallback_warns_once(oracle_onnx, caplog, monkeypatch):
    monkeypatch.setattr(decoding, "_native", lambda: None)
    monkeypatch.setattr(decoding, "_warned", False)
    lm = Landmarker.from_file(oracle_onnx)
    with caplog.at_level(logging.WARNING, logger="gaussian_vector.runtime"):
        lm.detect(IMAGE, BOXES[:1])
        lm.detect(IMAGE, BOXES[:1])
    msgs = [r.getMessage() for r in caplog.records if "native" in r.getMessage()]
    assert len(msgs) == 1 and "numpy reference" in msgs[0]



def test_asking_for_the_numpy_reference_is_not_a_fallback_warning(caplog, monkeypatch):
    # gv-bench times the numpy reference on purpose next to the native decoder: no warning
    # that the native decoder is missing when the caller chose numpy.
    monkeypatch.setattr(decoding, "_native", lambda: None)
    monkeypatch.setattr(decoding, "_warned", False)
    packed = np.zeros((1, 68, 128), np.float32)
    gv, heatmap = head_of(ModelConfig()), head_of(ModelConfig(head="heatmap"))
    with caplog.at_level(logging.WARNING, logger="gaussian_vector.runtime"):
        decoding.decode_output(gv, packed, DecodeRules(), use_native=False)
        decoding.decode_output(heatmap, np.zeros((1, 68, 8, 8), np.float32), DecodeRules(),
                               use_native=False)
    assert not [r for r in caplog.records if "native" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="gaussian_vector.runtime"):
        decoding.decode_output(gv, packed, DecodeRules())
    assert [r for r in caplog.records if "native" in r.getMessage()]

def test_int8_output_decodes_like_dequantised_float(monkeypatch):
    from runtime_fixtures import oracle_config, oracle_vectors

    cfg = oracle_config()
    v = oracle_vectors(cfg)
    scale, zp = 4.2 / 255, -128
    q = np.clip(np.round(v / scale) + zp, -128, 127).astype(np.int8)
    head, rules = head_of(cfg), DecodeRules.of(cfg)
    deq = ((q.astype(np.float32) - zp) * np.float32(scale))
    for use_native in ([False, None] if decoding.native_available() else [False]):
        xy_q, p_q = decoding.decode_output(head, q, rules, scale, zp, use_native=use_native)
        xy_f, p_f = decoding.decode_output(head, deq, rules, use_native=False)
        np.testing.assert_allclose(xy_q, xy_f, atol=1e-5)
        np.testing.assert_allclose(p_q, p_f, rtol=1e-5)
    with pytest.raises(ValueError, match="scale and zero point"):
        decoding.decode_output(head, q, rules)


def test_model_describes_itself(oracle_onnx):
    d = Landmarker.from_file(oracle_onnx).describe()
    assert d["interpreter"] == "onnxruntime" and d["num_landmarks"] == 5
    assert d["cpu_ops"] is None and d["delegated"] is False
    assert d["decoder"] == {"subpixel": "quarter", "native": decoding.native_available(),
                            "beyond_box": True, "tau": 2.0, "sigma": 2.0}
    d = Landmarker.from_file(oracle_onnx, rules={"subpixel": "parabola", "beyond_box": False,
                                                 "tau": 1.5}, use_native=False).describe()
    assert d["decoder"] == {"subpixel": "parabola", "native": False, "beyond_box": False,
                            "tau": 1.5, "sigma": 2.0}


def test_input_layout_mismatch_is_refused(tmp_path):
    """An exporter bug (metadata says NHWC, graph takes NCHW) is caught at load, not as noise."""
    import onnx

    from gaussian_vector.metadata import KEY

    p = write_oracle_onnx(tmp_path / "m.onnx")
    model = onnx.load(p)
    for prop in model.metadata_props:
        if prop.key == KEY:
            prop.value = prop.value.replace('"NCHW"', '"NHWC"')
    onnx.save(model, p)
    with pytest.raises(ModelError, match="does not match the metadata"):
        Landmarker.from_file(p)


def test_refine_recrops_on_the_first_landmarks(oracle_onnx):
    from gaussian_vector import affine

    run = FacePipeline.from_file(oracle_onnx)
    first = run.detect(IMAGE, BOXES[:1])[0]
    again = run.detect(IMAGE, BOXES[:1], refine=True)[0]
    box = affine.box_from_landmarks(first.landmarks)
    np.testing.assert_allclose(again.box, box)
    np.testing.assert_allclose(again.landmarks, expected_landmarks(box)[0], atol=1e-3)


def test_heatmap_baseline_model(tmp_path):
    from runtime_fixtures import heatmap_peaks, write_heatmap_onnx

    from gaussian_vector import affine

    lm = Landmarker.from_file(write_heatmap_onnx(tmp_path / "hm.onnx"))
    (face,) = lm.detect(IMAGE, BOXES[:1])
    grid = np.array(heatmap_peaks(), float) + [0.25, 0.0]
    m = affine.crop_transform(BOXES[0], 64, lm.config.enlarge)
    want = affine.apply(affine.invert(m), affine.heatmap_to_crop(grid, 4))
    np.testing.assert_allclose(face.landmarks, want, atol=1e-3)
    np.testing.assert_allclose(face.confidence, 1.0)
    assert not face.outside_box.any()


def test_no_boxes_given_means_no_faces(oracle_onnx):
    lm = Landmarker.from_file(oracle_onnx)
    assert lm.detect(IMAGE, []) == [] and lm.detect(IMAGE, np.zeros((0, 4))) == []
