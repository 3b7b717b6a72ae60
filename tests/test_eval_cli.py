"""gv-eval end to end on real faces: its JSON equals a hand computation from the same
predictions, it plots the CED, Beyond Box flags change GV decoding, bad input is an error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.cli.evaluate import main


@pytest.fixture(scope="module")
def setup(data_root, tmp_path_factory):
    """Five real faces in a 300-W folder and a tiny (untrained but fixed) GV checkpoint."""
    import torch

    from gaussian_vector import checkpoint
    from gaussian_vector.config import ModelConfig
    from gaussian_vector.models import build_model

    tmp = tmp_path_factory.mktemp("eval")
    folder = tmp / "faces"
    folder.mkdir()
    for pts in sorted((data_root / "300w/helen/trainset").glob("*.pts"))[:5]:
        shutil.copy(pts, folder)
        shutil.copy(pts.with_suffix(".jpg"), folder)
    torch.manual_seed(0)
    cfg = ModelConfig(input_size=64, width_mult=0.5, decoder_channels=16)
    checkpoint.save(tmp / "gv.pt", build_model(cfg), cfg)
    hcfg = ModelConfig(head="heatmap", input_size=64, width_mult=0.5, decoder_channels=16)
    checkpoint.save(tmp / "hm.pt", build_model(hcfg), hcfg)
    return tmp, folder


@pytest.fixture(scope="module")
def with_blank(setup, tmp_path_factory) -> Path:
    """The five real faces plus a blank grey image annotated with a face: the detector's miss."""
    from PIL import Image

    _, folder = setup
    out = tmp_path_factory.mktemp("with_blank")
    for f in folder.iterdir():
        shutil.copy(f, out)
    shutil.copy(sorted(folder.glob("*.pts"))[0], out / "blank.pts")
    Image.new("RGB", (400, 400), (128, 128, 128)).save(out / "blank.jpg")
    return out


def test_json_equals_a_hand_computation(setup) -> None:
    from gaussian_vector.data import read_300w
    from gaussian_vector.evaluate import predict

    tmp, folder = setup
    out = tmp / "r.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--json", str(out),
                 "--plot", str(tmp / "ced.png")]) == 0
    res = json.loads(out.read_text())
    samples, _ = read_300w(folder)
    pred, _ = predict(tmp / "gv.pt", samples)
    ion, ipn = [], []
    for p, s in zip(pred, samples, strict=True):
        g = s.points.astype(np.float64)
        e = np.linalg.norm(p - g, axis=1).mean()
        ion.append(e / np.linalg.norm(g[36] - g[45]))
        ipn.append(e / np.linalg.norm(g[36:42].mean(0) - g[42:48].mean(0)))
    assert res["n"] == 5
    assert res["nme_ion"] == pytest.approx(np.mean(ion))
    assert res["nme_ipn"] == pytest.approx(np.mean(ipn))
    assert res["fr_0.1"] == pytest.approx(np.mean(np.array(ion) > 0.1))
    assert 0.0 <= res["auc_0.1"] <= 1.0 and len(res["per_landmark_ion"]) == 68
    assert (tmp / "ced.png").read_bytes()[:4] == b"\x89PNG"


def test_shrink_and_beyond_box_flags_reach_the_decoder(setup) -> None:
    tmp, folder = setup
    runs = {}
    for name, extra in {"on": [], "off": ["--no-bbs"], "tau": ["--tau", "0.01"],
                        "quarter": ["--subpixel", "quarter"]}.items():
        out = tmp / f"{name}.json"
        assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.1",
                     "--json", str(out), *extra]) == 0
        runs[name] = json.loads(out.read_text())
    assert runs["on"]["shrink"] == 0.1 and runs["off"]["beyond_box"] is False
    assert runs["tau"]["tau"] == 0.01
    # an untrained net peaks at the ends often enough for Beyond Box to move some points
    assert runs["on"]["per_image_ion"] != runs["off"]["per_image_ion"]
    # a new model's own sub-pixel rule is the parabola; --subpixel replaces it
    assert (runs["on"]["subpixel"], runs["quarter"]["subpixel"]) == ("parabola", "quarter")
    assert runs["on"]["per_image_ion"] != runs["quarter"]["per_image_ion"]


def test_several_models_and_the_heatmap_head(setup) -> None:
    tmp, folder = setup
    out = tmp / "both.json"
    assert main(["--model", str(tmp / "gv.pt"), "--model", str(tmp / "hm.pt"), "--data",
                 str(folder), "--json", str(out)]) == 0
    both = json.loads(out.read_text())
    res = both["models"]
    assert {r["head"] for r in res.values()} == {"gv", "heatmap"}
    (cmp,) = both["comparison"]  # the second model against the first, image by image
    gv, hm = res[str(tmp / "gv.pt")], res[str(tmp / "hm.pt")]
    assert cmp["mean"] == pytest.approx(np.mean(gv["per_image_ion"]) - np.mean(hm["per_image_ion"]))
    assert cmp["ci_low"] <= cmp["mean"] <= cmp["ci_high"] and cmp["n"] == 5


def test_bad_input_is_a_clear_error(setup, capsys, tmp_path: Path) -> None:
    tmp, folder = setup
    assert main(["--model", str(tmp / "missing.pt"), "--data", str(folder)]) == 2
    assert "model file not found" in capsys.readouterr().err
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "1.5"]) == 2
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(tmp_path)]) == 2
    assert "no annotated faces" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert main(["--model", str(tmp_path / "junk.pt"), "--data", str(folder)]) == 2
    assert "not a readable gaussian-vector checkpoint" in capsys.readouterr().err



@pytest.mark.parametrize("flags, words", [
    (["--threshold", "0"], "argument --threshold: must be a finite number > 0"),
    (["--threshold", "ten"], "argument --threshold: 'ten' is not a number"),
    (["--tau", "-1"], "argument --tau: must be a finite number > 0"),
    (["--sweep-bbs", "--sigmas", "2", "nan"], "argument --sigmas: must be a finite number > 0"),
])
def test_a_bad_number_is_refused_by_the_parser(setup, capsys, flags, words) -> None:
    tmp, folder = setup
    with pytest.raises(SystemExit) as exit_:
        main(["--model", str(tmp / "gv.pt"), "--data", str(folder), *flags])
    assert exit_.value.code == 2 and words in capsys.readouterr().err


@pytest.mark.parametrize("flags, words", [
    (["--names", "{tmp}/absent.txt"], "name list not found"),
    (["--names", "{tmp}/binary.txt"], "is not a UTF-8 text file"),
    (["--boxes-file", "{tmp}/binary.txt"], "box file {tmp}/binary.txt is not a UTF-8 text file"),
    (["--points", "5"], "no landmark scheme has 5 points"),
    (["--sweep-bbs", "--model", "{tmp}/m.tflite"], "give a .pt or an alias"),
    (["--detector", "--shrink", "0.1"], "--shrink (for the landmarks' boxes) does not go"),
    (["--detector", "--boxes-file", "{tmp}/binary.txt"], "--boxes-file (for the landmarks'"),
    (["--boxes", "detector", "--sweep-bbs"], "--sweep-bbs (for the landmarks' boxes)"),
    (["--detector", "--min-iou", "1.5"], "--min-iou must be at most 1, got 1.5"),
    (["--detector", "--refine"], "--refine runs through the on-device runtime"),
])
def test_bad_lists_and_options_are_one_line_errors(setup, capsys, tmp_path, flags, words) -> None:
    tmp, folder = setup
    (tmp_path / "binary.txt").write_bytes(bytes(range(128, 256)))
    flags = [f.format(tmp=tmp_path) for f in flags]
    model = [] if "--model" in flags else ["--model", str(tmp / "gv.pt")]
    assert main([*model, "--data", str(folder), *flags]) == 2
    err = capsys.readouterr().err
    assert words.format(tmp=tmp_path) in err and "Traceback" not in err, err

def test_bbs_sweep_rows_match_single_runs(setup) -> None:
    tmp, folder = setup
    out = tmp / "sweep.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.3",
                 "--sweep-bbs", "--taus", "1", "2", "--sigmas", "2", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["tau"], r["sigma"]) for r in rows] == [(None, None), (1.0, 2.0), (2.0, 2.0)]
    single = tmp / "single.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.3",
                 "--tau", "1", "--sigma", "2", "--json", str(single)]) == 0
    assert rows[1]["nme_ion"] == pytest.approx(json.loads(single.read_text())["nme_ion"])
    # the sweep decodes with the sub-pixel rule it is given, as a single run does
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.3",
                 "--sweep-bbs", "--taus", "1", "--sigmas", "2", "--subpixel", "quarter",
                 "--json", str(out)]) == 0
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.3",
                 "--tau", "1", "--sigma", "2", "--subpixel", "quarter",
                 "--json", str(single)]) == 0
    swept = json.loads(out.read_text())
    assert (json.loads(single.read_text())["subpixel"], swept["subpixel"]) == ("quarter",) * 2
    assert swept["rows"][1]["nme_ion"] == pytest.approx(
        json.loads(single.read_text())["nme_ion"])
    assert swept["rows"][1]["nme_ion"] != rows[1]["nme_ion"]
    assert main(["--model", str(tmp / "hm.pt"), "--data", str(folder), "--sweep-bbs"]) == 2


def test_detector_boxes_through_the_runtime_count_misses(with_blank, tmp_path: Path) -> None:
    """An exported model with the bundled detector: real faces are found and scored, a blank
    image annotated as a face is reported as missed, not scored."""
    from gaussian_vector.modelfile.shipped import resolve_model

    out = tmp_path / "det.json"
    model = str(resolve_model("default-onnx"))
    assert main(["--model", model, "--data", str(with_blank), "--boxes", "detector",
                 "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["boxes"] == "detector" and res["missed"] == ["blank"]
    assert res["n"] == 5 and "blank" not in res["names"]
    assert res["landmark_boxes"]["n"] == 5 and res["landmark_boxes"]["nme_ion"] < 0.15
    assert res["nme_ion"] < 0.15  # the shipped model on real faces with detector boxes


def test_detector_end_to_end_on_a_checkpoint(setup, with_blank, capsys) -> None:
    """--detector with a torch checkpoint: the blank face is missed and listed; the end-to-end
    figures are those of cropping with the matched detector boxes (as --boxes-file), and the
    box-from-landmarks figures beside them those of a plain run on the same faces."""
    from gaussian_vector.data import read_300w
    from gaussian_vector.evaluate import match_detections

    tmp, folder = setup
    out = tmp / "e2e.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(with_blank), "--detector",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "end to end, n=5" in printed and "box from landmarks, same 5 faces" in printed
    assert "the detector missed 1 of 6 faces (not scored): blank" in printed
    res = json.loads(out.read_text())
    assert res["boxes"] == "detector" and res["missed"] == ["blank"] and res["n"] == 5
    m = res["matching"]
    assert (m["annotated"], m["found"], m["min_iou"]) == (6, 5, 0.3)
    assert m["iou"]["blank"] < 0.3 and all(v >= 0.3 for k, v in m["iou"].items() if k != "blank")

    plain = tmp / "plain.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--json", str(plain)]) == 0
    assert res["landmark_boxes"]["per_image_ion"] == pytest.approx(
        json.loads(plain.read_text())["per_image_ion"])

    samples, _ = read_300w(folder)
    boxes = tmp / "detected.txt"
    boxes.write_text("".join(f"{s.name} {' '.join(map(str, b))}\n" for s, b in
                             zip(samples, match_detections(samples).boxes, strict=True)))
    given = tmp / "given.json"
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--boxes-file",
                 str(boxes), "--json", str(given)]) == 0
    e2e = json.loads(given.read_text())["per_image_ion"]
    assert res["per_image_ion"] == pytest.approx(e2e)
    assert e2e != pytest.approx(res["landmark_boxes"]["per_image_ion"])  # other crops
    diff = res["end_to_end_minus_landmark_boxes"]
    assert diff["mean"] == pytest.approx(np.mean(e2e) - res["landmark_boxes"]["nme_ion"])


def test_detector_finding_nothing_is_one_line(setup, with_blank, capsys) -> None:
    tmp, _ = setup
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(with_blank), "--detector",
                 "--min-iou", "1"]) == 1  # no detection fits a landmark box exactly
    err = capsys.readouterr().err
    assert "the detector found none of the 6 faces (IoU >= 1" in err and "Traceback" not in err


def test_match_face_takes_the_best_overlap_above_the_threshold() -> None:
    from gaussian_vector.evaluate import match_face

    points = np.array([[0.0, 0.0], [10.0, 10.0]])  # landmark box 0,0,10,10
    boxes = np.array([[6.0, 0.0, 16.0, 10.0], [1.0, 1.0, 10.0, 10.0], [50.0, 50, 60, 60]])
    box, best = match_face(points, boxes)
    assert np.array_equal(box, boxes[1]) and best == pytest.approx(0.81)
    assert match_face(points, boxes[[0]]) == (None, pytest.approx(0.25))  # 40 / 160 < 0.3
    assert np.array_equal(match_face(points, boxes[[0]], min_iou=0.25)[0], boxes[0])
    assert match_face(points, np.zeros((0, 4))) == (None, 0.0)
    with pytest.raises(ValueError, match="min_iou"):
        match_face(points, boxes, min_iou=0)


def test_box_file_reads_names_and_rejects_bad_lines(tmp_path: Path) -> None:
    from gaussian_vector.data.boxes import read_boxes

    f = tmp_path / "boxes.txt"
    f.write_text("# name x0 y0 x1 y1\nface_1.jpg 10 20 110 130\nother, 1.5, 2, 3, 4  # ok\n\n")
    assert read_boxes(f) == {"face_1": (10.0, 20.0, 110.0, 130.0), "other": (1.5, 2.0, 3.0, 4.0)}
    for bad, msg in (("a 1 2 3", "expected"), ("a 1 2 x 4", "non-numeric"),
                     ("a 5 5 5 9", "x1 > x0"), ("a 0 0 1 1\na 0 0 2 2", "second box")):
        f.write_text(bad)
        with pytest.raises(ValueError, match=msg):
            read_boxes(f)
    with pytest.raises(FileNotFoundError, match="box file not found"):
        read_boxes(tmp_path / "none.txt")


def test_box_file_sets_the_crop(setup, capsys) -> None:
    """Boxes equal to the landmarks' boxes change nothing; shifted boxes move the crop and so
    the result; a face missing from the file keeps its landmarks' box, and says so."""
    from gaussian_vector.affine import box_from_landmarks
    from gaussian_vector.data import read_300w

    tmp, folder = setup
    samples, _ = read_300w(folder)
    same, moved = tmp / "same.txt", tmp / "moved.txt"
    same.write_text("".join(f"{s.name} {' '.join(map(str, box_from_landmarks(s.points)))}\n"
                            for s in samples))
    moved.write_text("".join(
        f"{s.name} {' '.join(map(str, box_from_landmarks(s.points) + [15, 15, 15, 15]))}\n"
        for s in samples[1:]))
    runs = {}
    for name, extra in {"none": [], "same": ["--boxes-file", str(same)],
                        "moved": ["--boxes-file", str(moved)]}.items():
        out = tmp / f"bf_{name}.json"
        assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--json", str(out),
                     *extra]) == 0
        runs[name] = json.loads(out.read_text())["per_image_ion"]
    assert runs["same"] == pytest.approx(runs["none"])
    assert runs["moved"][0] == pytest.approx(runs["none"][0])  # not in the file
    assert runs["moved"][1:] != pytest.approx(runs["none"][1:])
    assert "1 of 5 faces have no box" in capsys.readouterr().err
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder),
                 "--boxes-file", str(tmp / "missing.txt")]) == 2


@pytest.mark.parametrize("head", ["gv", "heatmap"])
def test_the_flip_test_of_a_checkpoint_equals_its_exported_files(setup, small_checkpoints,
                                                                 small_exports, head) -> None:
    """gv-eval --flip-test mirrors normalised tensors for a checkpoint and uint8 crops in the
    runtime: the same merged landmarks either way, and not the plain reading."""
    from gaussian_vector.data import read_300w
    from gaussian_vector.evaluate import predict

    _, folder = setup
    samples, _ = read_300w(folder)
    plain, _ = predict(small_checkpoints[head], samples)
    merged, _ = predict(small_checkpoints[head], samples, flip_test=True)
    exported, _ = predict(small_exports(head, "onnx").path, samples, flip_test=True)
    assert np.abs(merged - plain).max() > 1.0
    np.testing.assert_allclose(exported, merged, atol=0.05)
