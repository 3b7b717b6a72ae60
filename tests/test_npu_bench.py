"""gv-bench npu without the vendor packages: its faces come from the named split, cropped as the
runtime crops them; its table and plot show every row (errors too); a target whose toolchain is
missing is a row with that one line, not a crash."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaussian_vector.runtime import simulators
from gv_bench import npu
from gv_bench.cli import main

ROWS = [
    {"head": "gv", "target": "rk3588", "ops_total": 114, "ops_on_npu": 114, "cycles": 749620,
     "memory_bytes": 2153728, "sim_landmark_px": 0.76, "sim_nme_ion": 0.0352,
     "fp32_nme_ion": 0.0346, "nme_change": 0.0172},
    {"head": "gv", "target": "tflm", "ops_total": None, "ops_on_npu": None, "cycles": None,
     "memory_bytes": 952336, "all_ops_supported": True, "sim_landmark_px": 0.9,
     "sim_nme_ion": 0.0353, "fp32_nme_ion": 0.0346, "nme_change": 0.02},
    {"head": "heatmap", "target": "rk3588", "error": "the rknn toolchain is missing"},
]


def test_the_table_names_head_and_target_in_every_row(capsys):
    npu.print_table(ROWS)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ")][1:]
    assert len(lines) == 3
    assert lines[0].startswith("| gv | rk3588 | 114/114 | 749,620 | 2,103 | 0.760 | 3.520%")
    assert "| gv | tflm | all supported | - | 930 |" in lines[1]
    assert lines[2].startswith("| heatmap | rk3588 | error: the rknn toolchain is missing")


def test_the_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    npu.plot(tmp_path / "npu.png", ROWS)
    assert (tmp_path / "npu.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_split_faces_keeps_the_named_faces(data_root, tmp_path):
    from gaussian_vector.checkpoint import load, resolve

    helen = data_root / "300w" / "helen"
    names = tmp_path / "names.txt"
    wanted = (helen / "val.txt").read_text().split()[:3]
    names.write_text("\n".join(wanted))
    _, config, _ = load(resolve("default"))
    faces = npu.split_faces(helen / "trainset", names, config, 10)
    assert sorted(faces.names) == sorted(wanted)
    assert faces.crops.shape == (3, config.input_size, config.input_size, 3)
    assert np.all((faces.points > 0) & (faces.points < config.input_size))
    with pytest.raises(ValueError, match="no annotated faces"):
        npu.split_faces(tmp_path, None, config, 10)


def test_a_missing_toolchain_is_an_error_row_and_exit_1(data_root, tmp_path, monkeypatch,
                                                        capsys):
    monkeypatch.setattr(simulators, "_roots", lambda: [tmp_path])
    monkeypatch.delenv("GV_NPU_PYTHON_QNN", raising=False)
    helen = data_root / "300w" / "helen"
    out = tmp_path / "npu.json"
    rc = main(["npu", "--targets", "qnn-htp", "--data", str(helen / "trainset"), "--names",
               str(helen / "val.txt"), "--faces", "2", "--json", str(out)])
    assert rc == 1
    rows = json.loads(out.read_text())
    assert [(r["head"], r["target"]) for r in rows] == [("gv", "qnn-htp"), ("heatmap", "qnn-htp")]
    assert all("tools/npu_env.sh qnn" in r["error"] for r in rows)
    assert "tools/npu_env.sh qnn" in capsys.readouterr().err
