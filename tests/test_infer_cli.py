"""gv-infer end to end: the shipped models on the bundled sample against its annotation, and one
clear message plus the documented exit status for each way an input can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import runtime_fixtures as rf

from gaussian_vector.cli.infer import main
from gaussian_vector.data.readers import read_pts
from gaussian_vector.metrics import nme_per_image
from gaussian_vector.modelfile.shipped import SHIPPED
from gaussian_vector.runtime import shipped_model_path
from gaussian_vector.runtime.pipeline import MIN_FACE_SCORE

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "python" / "gaussian_vector" / "samples"
oracle_onnx, oracle_tflite, foreign_onnx = rf.oracle_onnx, rf.oracle_tflite, rf.foreign_onnx

#: ION NME bounds for the shipped model on the two bundled samples, faces found by the bundled
#: detector (the whole pipeline, as a user runs it). Per image: 0.10, the field's failure line
#: (FR@0.1): no sample may be a failure. Mean of the two: 0.07, twice the model's target mean
#: (3.0-3.5% ION on the 300-W validation faces), because two out-of-distribution photographs
#: (the Einstein one is an old black-and-white portrait; it runs ~2x the validation mean with
#: checkpoints along training) with detector boxes sit above the validation mean. A broken
#: pipeline (wrong crop, layout, quantisation or inverse affine) gives 15-50%, and the oracle
#: tests in test_runtime_landmarker.py pin the coordinates exactly.
NME_BOUND_IMAGE = 0.10
NME_BOUND_MEAN = 0.07
#: int8 against fp32 on the same image (absolute ION); a wrong scale or zero point costs far more.
INT8_MAX_DRIFT = 0.02


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """gv-infer in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "gaussian_vector.cli.infer", *args],
                          capture_output=True, text=True, cwd=REPO,
                          env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"})


#: The trained checkpoint the shipped exports come from (checkpoint alias `default`).
CHECKPOINT = REPO / "python" / "gaussian_vector" / "weights" / "gv_mnv3s_256.pt"


def _sample_nmes(model: str, tmp_path: Path, *options: str) -> dict[str, float]:
    """ION NME of `gv-infer --model MODEL [OPTIONS]` on the two bundled samples, per image."""
    path = shipped_model_path(model)
    # once the checkpoint ships, its exports must ship too: a missing one fails, never skips
    assert path.is_file(), (
        f"{path.name} missing: gv-export default --target "
        f"{'onnx' if model.endswith('onnx') else 'tflite'}"
        f"{' --int8' if 'int8' in model else ''} -o python/gaussian_vector/weights/")
    out = tmp_path / f"{model}{''.join(options)}.json"
    r = run_cli(str(SAMPLES / "einstein.jpg"), str(SAMPLES / "takeo.ppm"),
                "--model", model, "--json", str(out), "--no-progress", *options)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["model"]["flip_test"] == ("--flip-test" in options)
    results = doc["results"]
    assert len(results) == 2
    nmes = {}
    for rec in results:
        assert len(rec["faces"]) == 1, rec
        gt = read_pts(Path(rec["file"]).with_suffix(".pts"))
        pred = np.array(rec["faces"][0]["landmarks"])
        nmes[Path(rec["file"]).name] = float(nme_per_image(pred[None], gt[None], "300w68")[0])
    return nmes


@pytest.mark.parametrize("model", sorted(SHIPPED))
def test_shipped_model_on_the_sample(model, tmp_path):
    """Every shipped model (each size, each format) reads the two packaged faces within the
    bounds, through gv-infer as a user runs it."""
    if not CHECKPOINT.is_file():
        pytest.skip(f"the trained checkpoint {CHECKPOINT.name} has not landed yet")
    nmes = _sample_nmes(model, tmp_path)
    assert max(nmes.values()) < NME_BOUND_IMAGE, f"{model}: ION NME {nmes}"
    assert np.mean(list(nmes.values())) < NME_BOUND_MEAN, f"{model}: ION NME {nmes}"


def test_flip_test_reads_the_samples_within_the_bounds_and_says_so(tmp_path):
    """--flip-test merges each face's reading with its mirror's: another answer than the plain
    reading, held to the same bounds (its accuracy: gv-eval --flip-test, docs/runtime.md)."""
    plain = _sample_nmes("default", tmp_path)
    flipped = _sample_nmes("default", tmp_path, "--flip-test")
    assert flipped != plain
    assert max(flipped.values()) < NME_BOUND_IMAGE, f"ION NME {flipped}"
    assert np.mean(list(flipped.values())) < NME_BOUND_MEAN, f"ION NME {flipped}"


def test_shipped_int8_model_tracks_fp32_on_the_sample(tmp_path):
    """int8 is held to the float model, image by image: its calibration (real 300-W faces)
    moves a hard image like Einstein by a point or two, a broken int8 path by far more. Its
    accuracy cost on the 100-face validation split is measured with gv-eval (MODEL_CARD.md)."""
    if not CHECKPOINT.is_file():
        pytest.skip(f"the trained checkpoint {CHECKPOINT.name} has not landed yet")
    fp32 = _sample_nmes("default", tmp_path)
    int8 = _sample_nmes("default-int8", tmp_path)
    for name, nme in int8.items():
        assert abs(nme - fp32[name]) < INT8_MAX_DRIFT, f"int8 {int8} vs fp32 {fp32}"
    assert max(int8.values()) < NME_BOUND_IMAGE + INT8_MAX_DRIFT, f"int8 ION NME {int8}"


def test_default_model_is_the_fp32_tflite():
    assert shipped_model_path().name.endswith(".tflite")
    assert shipped_model_path("default-int8").name.endswith("_int8.tflite")


def _write_blank(path: Path) -> Path:
    import cv2

    cv2.imwrite(str(path), np.full((96, 128, 3), 127, np.uint8))
    return path


def test_bad_inputs_are_reported_and_the_rest_still_run(oracle_onnx, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    blank = _write_blank(tmp_path / "blank.png")
    out = tmp_path / "r.json"
    rc = main([str(corrupt), str(SAMPLES / "takeo.ppm"), str(tmp_path / "missing.jpg"),
               str(blank), "--model", str(oracle_onnx), "--json", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"{corrupt}: cannot decode image" in err
    assert "missing.jpg: image not found" in err
    assert f"{blank}: no face found" in err
    recs = {Path(r["file"]).name: r for r in json.loads(out.read_text())["results"]}
    assert len(recs["takeo.ppm"]["faces"]) == 1 and "error" not in recs["takeo.ppm"]
    assert all("error" in recs[n] for n in ("corrupt.jpg", "missing.jpg", "blank.png"))


def test_box_outside_the_image(oracle_onnx, capsys):
    rc = main([str(SAMPLES / "takeo.ppm"), "--model", str(oracle_onnx),
               "--box", "500,500,600,600"])
    assert rc == 1
    assert "lies outside the 150x225 image" in capsys.readouterr().err


@pytest.mark.parametrize("flags, words", [
    (["--threads", "0"], "argument --threads: must be an integer >= 1, got 0"),
    (["--every", "0"], "argument --every: must be an integer >= 1, got 0"),
    (["--every", "two"], "argument --every: 'two' is not a number"),
])
def test_bad_numbers_are_refused_by_the_parser(capsys, flags, words):
    with pytest.raises(SystemExit) as exit_:
        main([str(SAMPLES / "takeo.ppm"), *flags])
    assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_a_box_on_noise_is_not_a_face_unless_min_score_is_zero(tmp_path, capsys):
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    import cv2

    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 256, (256, 256, 3), np.uint8))
    out = tmp_path / "r.json"
    assert main([str(noise), "--box", "40,40,216,216", "--json", str(out)]) == 1
    (rec,) = json.loads(out.read_text())["results"]
    assert "not a face the model can read" in rec["error"] and "faces" not in rec
    assert main([str(noise), "--box", "40,40,216,216", "--min-score", "0", "--json",
                 str(out)]) == 0
    (rec,) = json.loads(out.read_text())["results"]
    assert rec["faces"][0]["score"] < MIN_FACE_SCORE["gv"]


def test_model_that_is_not_ours(foreign_onnx, capsys):
    rc = main([str(SAMPLES / "takeo.ppm"), "--model", str(foreign_onnx)])
    assert rc == 2
    assert "not a gaussian-vector model" in capsys.readouterr().err


def test_delegate_that_does_not_exist(oracle_tflite, capsys, tmp_path):
    lib = tmp_path / "libvx_delegate.so"
    rc = main([str(SAMPLES / "takeo.ppm"), "--model", str(oracle_tflite), "--delegate", str(lib)])
    assert rc == 2
    assert f"gv-infer: error: external delegate library not found: {lib}" in (
        capsys.readouterr().err)


def test_draw_and_video_frames(oracle_onnx, tmp_path, capsys):
    import cv2

    img = cv2.imread(str(SAMPLES / "takeo.ppm"))
    video = _video(tmp_path / "clip.avi", [img] * 3)
    out, draw = tmp_path / "r.json", tmp_path / "draw"
    rc = main([str(video), str(SAMPLES / "takeo.ppm"), "--model", str(oracle_onnx),
               "--json", str(out), "--draw", str(draw), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    recs = json.loads(out.read_text())["results"]
    assert [r.get("frame") for r in recs] == [0, 1, 2, None]
    assert all(len(r["faces"]) == 1 for r in recs)
    drawn = sorted(p.name for p in draw.iterdir())
    assert drawn == ["clip.mp4", "takeo.png"]  # a video is drawn into one video
    png = cv2.imread(str(draw / "takeo.png"))
    assert png.shape == img.shape and not np.array_equal(png, img)  # something was drawn


def test_unreadable_video_and_empty_folder(oracle_onnx, tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope")
    assert main([str(bad), "--model", str(oracle_onnx), "--box", "0,0,10,10"]) == 1
    assert "OpenCV cannot read the video" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty), "--model", str(oracle_onnx)]) == 2


def test_samples_flag_runs_the_bundled_faces(oracle_onnx, capsys):
    assert main(["--samples", "--model", str(oracle_onnx), "--no-progress", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(Path(r["file"]).name for r in doc["results"]) == ["einstein.jpg", "takeo.ppm"]
    assert main(["--model", str(oracle_onnx)]) == 2  # nothing to run


def test_the_terminal_gets_a_summary_line_per_file_not_the_landmarks(oracle_onnx, capsys):
    """The quick start printed 68x2 coordinates of JSON: now one line per file (JSON on
    request: --json / --jsonl, "-" for stdout)."""
    assert main(["--samples", "--model", str(oracle_onnx), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [Path(ln.split(":")[0]).name for ln in lines] == ["einstein.jpg", "takeo.ppm"]
    assert all(": 1 face, score " in ln and ln.endswith(" ms)") for ln in lines), lines


def test_results_are_written_as_they_come_and_ctrl_c_keeps_them(oracle_onnx, tmp_path, capsys,
                                                                monkeypatch):
    """Ctrl-C during the second file: exit 130 and one line; the first file's result is in the
    JSON Lines file (written as it came) and in the JSON document (written on the interrupt)."""
    from gaussian_vector.cli import infer

    done = []

    def one(self, image, record, stem):
        if done:
            raise KeyboardInterrupt
        done.append(stem)
        record["faces"], record["timing_ms"] = [], {}

    monkeypatch.setattr(infer.Runner, "one", one)
    jsonl, doc = tmp_path / "r.jsonl", tmp_path / "r.json"
    rc = main(["--samples", "--model", str(oracle_onnx), "--no-progress", "--jsonl", str(jsonl),
               "--json", str(doc)])
    err = capsys.readouterr().err.strip()
    assert rc == 130
    assert err == (f"gv-infer: interrupted after 1 of 2 files; 1 result so far in {jsonl} and "
                   f"{doc}"), err
    first, *records = [json.loads(ln) for ln in jsonl.read_text().splitlines()]
    assert "model" in first and [Path(r["file"]).name for r in records] == ["einstein.jpg"]
    saved = json.loads(doc.read_text())
    assert saved["interrupted"] is True and saved["results"] == records


def _face(box: list[float], n: int = 5):
    """A Face with `n` landmarks spread inside `box` (for drawing)."""
    from gaussian_vector.runtime.landmarker import Face

    x0, y0, x1, y1 = box
    pts = np.stack([np.linspace(x0, x1, n + 2)[1:-1], np.full(n, (y0 + y1) / 2)], 1)
    return Face(np.array(box), pts.astype(np.float32), np.ones(n, np.float32), np.zeros(n, bool))


def _green_blobs(png: Path) -> list[int]:
    """Pixel areas of the green landmark dots in a drawing."""
    import cv2

    img = cv2.imread(str(png))
    green = ((img[:, :, 1] > 200) & (img[:, :, 2] < 100) & (img[:, :, 0] < 100)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(green)
    return [int(a) for a in stats[1:, cv2.CC_STAT_AREA]]


def test_drawn_marks_follow_the_face_not_the_image(tmp_path):
    """The same 4000 px photo with a small and a large face: the dots are sized from each face
    (the old rule sized them from the image, the same for both), and none swallows another."""
    from gaussian_vector.cli.infer import draw

    image = np.full((3000, 4000, 3), 90, np.uint8)
    draw(image, [_face([100, 100, 220, 220])], tmp_path / "small.png", max_side=0)
    draw(image, [_face([500, 500, 2500, 2500])], tmp_path / "large.png", max_side=0)
    small, large = _green_blobs(tmp_path / "small.png"), _green_blobs(tmp_path / "large.png")
    assert len(small) == len(large) == 5  # five separate dots on either face
    assert max(small) <= 30 and min(large) > 20 * max(small), (small, large)


def test_drawings_are_scaled_to_a_maximum_side(tmp_path):
    import cv2

    from gaussian_vector.cli.infer import DRAW_MAX_SIDE, draw

    image = np.full((3000, 4000, 3), 90, np.uint8)
    faces = [_face([1000, 1000, 1800, 1800])]
    draw(image, faces, tmp_path / "default.png")
    draw(image, faces, tmp_path / "640.png", max_side=640)
    draw(image, faces, tmp_path / "full.png", max_side=0)
    assert cv2.imread(str(tmp_path / "default.png")).shape[:2] == (960, DRAW_MAX_SIDE)
    assert cv2.imread(str(tmp_path / "640.png")).shape[:2] == (480, 640)
    assert cv2.imread(str(tmp_path / "full.png")).shape[:2] == (3000, 4000)
    assert len(_green_blobs(tmp_path / "640.png")) == 5  # the marks scale with the drawing


def _video(path: Path, frames: list[np.ndarray]) -> Path:
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (w, h))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def test_a_video_with_no_face_is_one_line_not_one_per_frame(oracle_onnx, tmp_path, capsys):
    video = _video(tmp_path / "wall.avi", [np.full((96, 128, 3), 127, np.uint8)] * 6)
    out = tmp_path / "r.jsonl"
    assert main([str(video), "--model", str(oracle_onnx), "--jsonl", str(out)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"gv-infer: {video}: no face found in any of its 6 frames"
    frames = [json.loads(ln) for ln in out.read_text().splitlines()[1:]]
    assert [f["frame"] for f in frames] == list(range(6)) and all(f["faces"] == [] for f in frames)


def test_a_video_without_frames_is_one_line_and_one_record(oracle_onnx, tmp_path, capsys):
    import cv2

    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    writer.release()
    assert main([str(empty), "--model", str(oracle_onnx), "--json", "-"]) == 1
    out, err = capsys.readouterr()
    why = "OpenCV opened the video but read no frame from it"
    assert err.strip() == f"gv-infer: {empty}: {why}"
    assert json.loads(out)["results"] == [{"file": str(empty), "error": why}]


@pytest.mark.parametrize("same", ["-", "r.json"])
def test_json_and_jsonl_cannot_both_take_one_file(capsys, same):
    assert main(["--samples", "--json", same, "--jsonl", same]) == 2
    assert f"--json and --jsonl cannot both write to {same}" in capsys.readouterr().err


def test_no_litert_info_line_on_the_terminal(tmp_path):
    """Every run printed `INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`."""
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    r = run_cli("--samples", "--no-progress", "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    assert "XNNPACK" not in r.stderr and r.stderr == "", r.stderr


def test_the_litert_filter_passes_every_other_line_through():
    code = """
import os
from gaussian_vector.modelfile.quiet import litert_info_filtered
with litert_info_filtered():
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    os.write(2, b"WARNING: something a user must see\\n")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stderr == "WARNING: something a user must see\n", r.stderr


def test_broken_and_looping_symlinks_in_a_folder_are_named_and_the_rest_run(oracle_onnx,
                                                                             tmp_path, capsys):
    import shutil

    shutil.copy(SAMPLES / "takeo.ppm", tmp_path / "takeo.ppm")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    (tmp_path / "up").symlink_to(tmp_path)  # folders are not searched below their top level
    rc = main([str(tmp_path), "--model", str(oracle_onnx), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1
    for name in ("gone.jpg", "loop.jpg"):
        assert f"{tmp_path / name} is a broken or looping symbolic link" in err, err
    assert "takeo.ppm" not in err


def test_a_folder_of_formats_gv_infer_does_not_read_says_what_it_holds(tmp_path, capsys):
    for n in range(3):
        (tmp_path / f"IMG_{n}.HEIC").write_bytes(b"\x00")
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "the folders hold 3 other file(s) (.heic), but gv-infer reads" in err and ".jpg" in err


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 EXIF segment holding only the orientation tag (0x0112)."""
    import struct

    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_a_phone_photo_turned_by_exif_gives_the_upright_pictures_landmarks(tmp_path):
    """A phone stores the pixels sideways and an EXIF orientation: the landmarks are those of
    the picture as displayed (what --draw shows), the same as for an upright copy."""
    pytest.importorskip("ai_edge_litert", reason="needs the tflite extra")
    import cv2

    from gaussian_vector.runtime import FacePipeline

    upright = cv2.imread(str(SAMPLES / "einstein.jpg"))
    ok, sideways = cv2.imencode(".jpg", cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE),
                                [cv2.IMWRITE_JPEG_QUALITY, 95])
    phone = tmp_path / "phone.jpg"
    phone.write_bytes(_with_exif_orientation(sideways.tobytes(), 6))  # 6: turn 90 deg clockwise
    ok, plain = cv2.imencode(".jpg", upright, [cv2.IMWRITE_JPEG_QUALITY, 95])
    (tmp_path / "plain.jpg").write_bytes(plain.tobytes())
    lm = FacePipeline.from_file()
    a = lm.detect(tmp_path / "plain.jpg")[0].landmarks
    b = lm.detect(phone)[0].landmarks
    assert np.abs(a - b).max() < 2.0, np.abs(a - b).max()  # JPEG coded twice: about 1 px
