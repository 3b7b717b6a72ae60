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
                        "parabola": ["--subpixel", "parabola"]}.items():
        out = tmp / f"{name}.json"
        assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.1",
                     "--json", str(out), *extra]) == 0
        runs[name] = json.loads(out.read_text())
    assert runs["on"]["shrink"] == 0.1 and runs["off"]["beyond_box"] is False
    assert runs["tau"]["tau"] == 0.01
    # an untrained net peaks at the ends often enough for Beyond Box to move some points
    assert runs["on"]["per_image_ion"] != runs["off"]["per_image_ion"]
    assert (runs["on"]["subpixel"], runs["parabola"]["subpixel"]) == ("quarter", "parabola")
    assert runs["on"]["per_image_ion"] != runs["parabola"]["per_image_ion"]


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
                 "--sweep-bbs", "--taus", "1", "--sigmas", "2", "--subpixel", "parabola",
                 "--json", str(out)]) == 0
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder), "--shrink", "0.3",
                 "--tau", "1", "--sigma", "2", "--subpixel", "parabola",
                 "--json", str(single)]) == 0
    swept = json.loads(out.read_text())
    assert swept["subpixel"] == "parabola"
    assert swept["rows"][1]["nme_ion"] == pytest.approx(
        json.loads(single.read_text())["nme_ion"])
    assert swept["rows"][1]["nme_ion"] != rows[1]["nme_ion"]
    assert main(["--model", str(tmp / "hm.pt"), "--data", str(folder), "--sweep-bbs"]) == 2


def test_detector_boxes_through_the_runtime_count_misses(setup, tmp_path: Path) -> None:
    """An exported model with the bundled detector: real faces are found and scored, a blank
    image annotated as a face is reported as missed, not scored."""
    from PIL import Image

    from gaussian_vector.runtime.models import resolve_model

    _, folder = setup
    for f in folder.iterdir():
        shutil.copy(f, tmp_path)
    first = sorted(folder.glob("*.pts"))[0]
    shutil.copy(first, tmp_path / "blank.pts")
    Image.new("RGB", (400, 400), (128, 128, 128)).save(tmp_path / "blank.jpg")
    out = tmp_path / "det.json"
    model = str(resolve_model("default-onnx"))
    assert main(["--model", model, "--data", str(tmp_path), "--boxes", "detector",
                 "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["boxes"] == "detector" and res["missed"] == ["blank"]
    assert res["n"] == 5 and "blank" not in res["names"]
    assert res["nme_ion"] < 0.15  # the shipped model on real faces with detector boxes


def test_detector_boxes_need_an_exported_model(setup, capsys) -> None:
    tmp, folder = setup
    assert main(["--model", str(tmp / "gv.pt"), "--data", str(folder),
                 "--boxes", "detector"]) == 2
    assert "exported .onnx/.tflite" in capsys.readouterr().err


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
