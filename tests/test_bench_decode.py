"""`gv-bench decode`: the microbenchmark's JSON (the issue's keys, hot and cold regimes, ratios
computed from the medians it reports, several input sizes in one run) and the C++ timing loops'
pool mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaussian_vector import _native
from gv_bench import cli, decode

REQUIRED = ("gv_fp32_ns", "gv_int8_ns", "heatmap_fp32_ns", "heatmap_int8_ns",
            "memcpy_gv_fp32_ns", "memcpy_heatmap_fp32_ns", "python_one_face_ns",
            "python_batch64_per_face_ns")


def test_json_has_the_required_medians_and_both_regimes(tmp_path, capsys):
    out = tmp_path / "decode.json"
    argv = ["decode", "--rounds", "3", "--round-ms", "0.05", "--cold-mb", "4", "--json", str(out)]
    assert cli.main(argv) == 0
    r = json.loads(out.read_text())
    for key in REQUIRED:
        assert r[key] > 0, key
        assert r["cold_" + key] > 0 if "python" not in key else "cold_" + key not in r
    # ratios are the quotients of the medians reported beside them
    assert r["gv_fp32_over_memcpy"] == pytest.approx(r["gv_fp32_ns"] / r["memcpy_gv_fp32_ns"])
    assert r["gv_fp32_parabola_ns"] > 0 and r["gv_int8_parabola_ns"] > 0
    assert r["cold_heatmap_over_gv_int8"] == pytest.approx(
        r["cold_heatmap_int8_ns"] / r["cold_gv_int8_ns"])
    assert set(r["targets_met"]) >= {"gv_fp32_over_memcpy", "cold_heatmap_over_gv_fp32",
                                     "python_one_face_ns"}
    assert all(isinstance(v, bool) for v in r["targets_met"].values())
    text = capsys.readouterr().out
    assert "cold input (4 MiB pools)" in text and "python one face" in text


def test_several_input_sizes_are_timed_in_the_same_run(tmp_path, capsys):
    out = tmp_path / "sizes.json"
    argv = ["decode", "--rounds", "2", "--round-ms", "0.05", "--cold-mb", "2", "--imgsz",
            "192,256", "--json", str(out)]
    assert cli.main(argv) == 0
    r = json.loads(out.read_text())
    assert r["imgsz"] == [192, 256] and set(r["by_imgsz"]) == {"192", "256"}
    for size, length in (("192", 48), ("256", 64)):
        one = r["by_imgsz"][size]
        assert one["imgsz"] == int(size) and one["length"] == length
        for key in REQUIRED:
            assert one[key] > 0, (size, key)
        assert one["gv_int8_over_memcpy"] == pytest.approx(
            one["gv_int8_ns"] / one["memcpy_gv_int8_ns"])
        assert "cold_gv_int8_ns" in one and isinstance(one["targets_met"]["gv_fp32_over_memcpy"],
                                                          bool)
    text = capsys.readouterr().out
    assert "at 192 px" in text and "vectors 48+48, heatmaps 48x48" in text and "at 256 px" in text


@pytest.mark.parametrize("value", ["100", "192,192", "32", "abc", ""])
def test_bad_input_sizes_are_refused_by_the_parser(value, capsys):
    with pytest.raises(SystemExit):
        cli.main(["decode", "--imgsz", value])
    assert "--imgsz" in capsys.readouterr().err


def test_cold_regime_can_be_skipped(tmp_path):
    out = tmp_path / "hot.json"
    argv = ["decode", "--rounds", "1", "--round-ms", "0.05", "--cold-mb", "0", "--json", str(out)]
    assert cli.main(argv) == 0
    r = json.loads(out.read_text())
    assert "gv_fp32_ns" in r and not any(k.startswith("cold_") for k in r)
    assert r["imgsz"] == 256 and r["length"] == 64  # the shipped size by default


@pytest.mark.parametrize("flag, value", [("--rounds", "0"), ("--round-ms", "0"),
                                         ("--cold-mb", "-1")])
def test_bad_arguments_exit_with_a_message(flag, value):
    with pytest.raises(SystemExit, match=flag):
        cli.main(["decode", flag, value])


def test_pool_tiles_distinct_faces_to_the_requested_size():
    faces = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    p = decode.pool(faces, mib=1.0)
    assert p.shape == (int(2**20 / faces[0].nbytes), 3, 4) and p.flags.c_contiguous
    np.testing.assert_array_equal(p[2], faces[0])
    np.testing.assert_array_equal(p[3], faces[1])


def test_pool_mode_times_one_slot_per_iteration():
    x = np.zeros((5, 68, 64), np.float32)
    x[..., 10] = 1.0
    assert _native.benchmark_vectors(x, x, 7, pool=True) > 0
    assert _native.benchmark_heatmaps(np.zeros((3, 68, 8, 8), np.int8), 4, 0.1, 0,
                                      pool=True) > 0
    assert _native.benchmark_memcpy(np.zeros((4, 100), np.uint8), 9, pool=True) > 0
    with pytest.raises(ValueError, match="leading pool axis"):
        _native.benchmark_memcpy(np.zeros(100, np.uint8), 3, pool=True)
