"""gv-bench: one run measures GV and the heatmap baseline side by side and reports them."""

import json

import numpy as np
import pytest

from gv_bench import cli, compare

REQUIRED = ("output_bytes", "forward_ms_median", "postprocess_us_median",
            "transmission_us_median", "total_ms_median")


@pytest.fixture(scope="module")
def exported(small_checkpoints, small_exports):
    get = small_exports
    files = {(h, i): get(h, "tflite", i).path for h in ("gv", "heatmap") for i in (False, True)}
    files[("gv", "onnx")] = get("gv", "onnx").path
    return small_checkpoints, files


def test_json_holds_both_models_with_real_output_sizes(exported, tmp_path, capsys):
    _, files = exported
    out = tmp_path / "b.json"
    png = tmp_path / "b.png"
    rc = compare.main(["--gv", str(files["gv", True]), "--heatmap", str(files["heatmap", True]),
                       "--runs", "3", "--warmup", "1", "--no-npu", "--json", str(out),
                       "--plot", str(png)])
    assert rc == 0
    data = json.loads(out.read_text())
    models = data["models"]
    assert set(models) == {"gv tflite-int8", "heatmap tflite-int8"}
    for m in models.values():
        for key in REQUIRED:
            assert key in m and m[key] > 0, key
        assert m["runs"] == 3
        assert m["output_bytes"] == int(np.prod(m["output_shape"])) * 1  # int8: 1 byte each
    gv, hm = models["gv tflite-int8"], models["heatmap tflite-int8"]
    assert gv["output_shape"] == [1, 68, 32] and hm["output_shape"] == [1, 68, 16, 16]
    (cmp,) = data["comparisons"]
    assert cmp["output_bytes_ratio"] == pytest.approx(hm["output_bytes"] / gv["output_bytes"])
    assert cmp["output_bytes_ratio"] == pytest.approx(16 * 16 / 32)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert "heatmap / GV" in capsys.readouterr().out


def test_checkpoints_are_exported_into_the_cache_once(exported, tmp_path):
    ckpts, _ = exported
    args = ["--gv", str(ckpts["gv"]), "--heatmap", str(ckpts["heatmap"]), "--formats",
            "onnx-fp32", "--runs", "2", "--warmup", "0", "--no-npu", "--cache",
            str(tmp_path), "--json", str(tmp_path / "a.json")]
    assert compare.main(args) == 0
    cached = sorted(p.name for p in (tmp_path / "bench").iterdir())
    assert len(cached) == 2 and all(n.endswith("-onnx-fp32.onnx") for n in cached)
    mtimes = [p.stat().st_mtime_ns for p in (tmp_path / "bench").iterdir()]
    assert compare.main(args) == 0
    assert [p.stat().st_mtime_ns for p in (tmp_path / "bench").iterdir()] == mtimes
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["models"]["gv onnx-fp32"]["output_bytes"] == 68 * 32 * 4



def test_int8_exports_for_the_bench_are_not_refused_by_the_accuracy_gate(exported, tmp_path,
                                                                         capsys):
    # Random weights: int8 NME against the ground truth moves by far more than gv-export's 3%
    # gate on the packaged sample faces. The bench measures speed, so it exports anyway and
    # reports the change.
    ckpts, _ = exported
    args = ["--gv", str(ckpts["gv"]), "--heatmap", str(ckpts["heatmap"]), "--formats",
            "tflite-int8", "--runs", "2", "--warmup", "0", "--no-npu", "--cache",
            str(tmp_path), "--json", str(tmp_path / "a.json")]
    assert compare.main(args) == 0
    out = capsys.readouterr().out
    assert out.count("int8 NME") == 2 and "not gated" in out
    data = json.loads((tmp_path / "a.json").read_text())
    assert set(data["models"]) == {"gv tflite-int8", "heatmap tflite-int8"}


@pytest.mark.parametrize(
    "case, message",
    [
        ("runs0", "--runs must be >= 1"),
        ("threads0", "--threads must be >= 1"),
        ("swapped", "gv-bench needs a GV model and a heatmap baseline"),
        ("mixed_formats", "formats differ"),
        ("missing", "not found"),
        ("corrupt", "corrupt.tflite"),
        ("mixed_forms", "same form"),
    ],
)
def test_bad_arguments_give_one_clear_error(exported, tmp_path, capsys, case, message):
    ckpts, f = exported
    bad = tmp_path / "corrupt.tflite"
    bad.write_bytes(b"\x00" * 64)
    gv, hm = str(f["gv", True]), str(f["heatmap", True])
    argv = {
        "runs0": ["--gv", gv, "--heatmap", hm, "--runs", "0"],
        "threads0": ["--gv", gv, "--heatmap", hm, "--threads", "0"],
        "swapped": ["--gv", hm, "--heatmap", gv],
        "mixed_formats": ["--gv", str(f["gv", "onnx"]), "--heatmap", str(f["heatmap", False])],
        "missing": ["--gv", str(tmp_path / "nope.tflite"), "--heatmap", hm],
        "corrupt": ["--gv", str(bad), "--heatmap", hm],
        "mixed_forms": ["--gv", str(ckpts["gv"]), "--heatmap", hm],
    }[case]
    assert compare.main([*argv, "--no-npu"]) == 2  # every case fails before measuring
    err = capsys.readouterr().err
    assert err.startswith("gv-bench: error:") and message in err and "Traceback" not in err


def test_cli_dispatches_decode_and_the_model_benchmark(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--heatmap" in out and "decode" in out
    assert cli.main(["--runs", "0", "--no-npu"]) == 2
    assert "--runs must be >= 1" in capsys.readouterr().err


def test_peer_row_and_partitions_are_reported(exported, tmp_path, capsys):
    """A --peer is timed beside GV on the same interpreter (forward and fetch, no decoder), and
    every TFLite row says how many XNNPACK partitions its graph took."""
    _, files = exported
    out = tmp_path / "p.json"
    peer = files["heatmap", False]  # any .tflite stands in for another landmark model
    rc = compare.main(["--gv", str(files["gv", False]), "--heatmap", str(files["heatmap", False]),
                       "--peer", str(peer), "--runs", "2", "--warmup", "0", "--no-npu",
                       "--json", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["threads"] == 1  # the default
    row = data["models"][f"peer {peer.stem}"]
    assert row["forward_ms_median"] > 0 and row["output_bytes"] == 68 * 16 * 16 * 4
    assert row["postprocess_us_median"] != row["postprocess_us_median"]  # NaN: no decoder
    for m in data["models"].values():
        assert m["xnnpack_partitions"] >= 1 and isinstance(m["cpu_ops"], list)
    (a,) = data["against_peers"]
    gv = data["models"]["gv tflite-fp32"]
    assert a["forward_ratio"] == pytest.approx(gv["forward_ms_median"] / row["forward_ms_median"])
    assert "GV forward / peer forward" in capsys.readouterr().out


def test_imgsz_exports_each_size_and_labels_it(exported, tmp_path):
    ckpts, _ = exported
    out = tmp_path / "s.json"
    assert compare.main(["--gv", str(ckpts["gv"]), "--heatmap", str(ckpts["heatmap"]),
                         "--formats", "onnx-fp32", "--imgsz", "64,96", "--runs", "1",
                         "--warmup", "0", "--no-npu", "--cache", str(tmp_path),
                         "--json", str(out)]) == 0
    models = json.loads(out.read_text())["models"]
    assert models["gv onnx-fp32 96px"]["output_shape"] == [1, 68, 48]
    assert models["heatmap onnx-fp32 64px"]["output_shape"] == [1, 68, 16, 16]
    assert compare.main(["--gv", str(ckpts["gv"]), "--heatmap", str(ckpts["heatmap"]),
                         "--imgsz", "100", "--no-npu"]) == 2


def test_bpm_subcommand_times_the_graph_with_and_without_its_tail(exported, tmp_path, capsys):
    ckpts, _ = exported
    out = tmp_path / "bpm.json"
    assert cli.main(["bpm", "--model", str(ckpts["gv"]), "--runs", "3", "--no-npu",
                     "--json", str(out)]) == 0
    cpu = json.loads(out.read_text())["cpu"]
    for key in ("fp32", "int8"):
        f = cpu[key]
        assert f["whole_ms"] > 0 and f["trunk_ms"] > 0
        assert f["bpm_share"] == pytest.approx((f["whole_ms"] - f["trunk_ms"]) / f["whole_ms"])
    assert "of the forward" in capsys.readouterr().out
    assert cli.main(["bpm", "--model", str(ckpts["heatmap"]), "--no-npu"]) == 2


def test_graphs_subcommand_flips_one_choice_at_a_time():
    from gv_bench.graphs import variants
    from gv_export.targets import TARGETS

    names = [n for n, _ in variants("gv", False)]
    assert names == ["cpu target", "hardswish=relu6", "means=conv", "upsample=resize"]
    assert [n for n, _ in variants("heatmap", False)] == ["cpu target", "hardswish=relu6",
                                                         "upsample=resize"]
    int8 = dict(variants("gv", True))
    assert int8["cpu target"] == TARGETS["cpu-tflite"].int8
    assert int8["ethos-u target"] == TARGETS["ethos-u"].int8
    for name, g in int8.items():  # every flip differs from the CPU target in exactly one choice
        if name.startswith(("hardswish", "means", "upsample")):
            diff = {k for k, v in g.to_dict().items() if v != int8["cpu target"].to_dict()[k]}
            assert diff == {name.split("=")[0]}


def test_batch_subcommand_times_each_face_count_in_one_call(exported, tmp_path, capsys):
    _, files = exported
    models = [files["gv", True], files["gv", False], files["gv", "onnx"]]
    out = tmp_path / "batch.json"
    assert cli.main(["batch", "--models", ",".join(map(str, models)), "--faces", "2,4",
                     "--runs", "2", "--warmup", "0", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["threads"] == 1 and data["image"] == "einstein.jpg"
    assert list(data["models"]) == ["tflite-int8", "tflite-fp32", "onnx-fp32"]
    for name, m in data["models"].items():
        assert list(m["faces"]) == ["1", "2", "4"]  # one face is always timed: the base
        for n, row in m["faces"].items():
            assert row["calls"] == "one"  # gv-export's files take the batch in one call
            assert (row["resize_ms"] is None) == (n == "1" or name == "onnx-fp32")
            for stat in ("median", "min"):
                r = row[stat]
                assert r["step_ms_per_face"] == pytest.approx(r["step_ms"] / int(n))
                assert r["step_ratio"] == pytest.approx(
                    r["step_ms_per_face"] / m["faces"]["1"][stat]["step_ms"])
            assert row["min"]["invoke_ms"] <= row["min"]["step_ms"]
    text = capsys.readouterr().out
    assert "per face at 4 faces <= 0.7x" in text and "x 1 face" in text and "median" in text


def test_batch_flip_test_times_each_model_plain_and_flipped_side_by_side(exported, tmp_path,
                                                                         capsys):
    _, files = exported
    out = tmp_path / "flip.json"
    assert cli.main(["batch", "--models", str(files["gv", "onnx"]), "--faces", "2",
                     "--runs", "3", "--warmup", "1", "--flip-test", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["flip_test"] is True
    assert list(data["models"]) == ["onnx-fp32", "onnx-fp32 +flip"]
    plain, flipped = data["models"]["onnx-fp32"], data["models"]["onnx-fp32 +flip"]
    for n in ("1", "2"):
        for stat in ("median", "min"):
            assert flipped["faces"][n][stat]["flip_ratio"] == pytest.approx(
                flipped["faces"][n][stat]["step_ms"] / plain["faces"][n][stat]["step_ms"])
        assert "flip_ratio" not in plain["faces"][n]["median"]
    assert "flip test: onnx-fp32 takes 1 face(s)" in capsys.readouterr().out


def test_batch_keeps_two_models_of_one_format_apart_by_their_names(exported, tmp_path):
    _, files = exported
    gv, hm = files["gv", True], files["heatmap", True]  # both tflite-int8
    out = tmp_path / "two.json"
    assert cli.main(["batch", "--models", f"{gv},{hm}", "--faces", "1", "--runs", "1",
                     "--warmup", "0", "--json", str(out)]) == 0
    models = json.loads(out.read_text())["models"]
    assert list(models) == [f"{gv.name} tflite-int8", f"{hm.name} tflite-int8"]
    assert [m["model"] for m in models.values()] == [str(gv), str(hm)]


@pytest.mark.parametrize("argv, message", [
    (["--models", "nope.tflite"], "nope.tflite"),
    (["--image", "__FILE__"], "b.pts not found"),
])
def test_batch_subcommand_bad_input_is_one_line(exported, tmp_path, capsys, argv, message):
    _, files = exported
    photo = tmp_path / "b.jpg"
    photo.write_bytes(b"")
    argv = [a.replace("__FILE__", str(photo)) for a in argv]
    if "--models" not in argv:
        argv += ["--models", str(files["gv", "onnx"])]
    assert cli.main(["batch", *argv, "--runs", "1", "--warmup", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gv-bench batch: error:") and message in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e:
        cli.main(["batch", "--faces", "0,2"])
    assert e.value.code == 2
    assert "distinct face counts from 1 to 32" in capsys.readouterr().err
