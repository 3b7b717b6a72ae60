"""tools/detector_boxes.py: the bundled detector's boxes written as a --boxes-file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.affine import box_from_landmarks
from gaussian_vector.data import read_300w
from gaussian_vector.data.boxes import read_boxes
from gaussian_vector.detector.nms import iou

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "python" / "gaussian_vector" / "samples"


def _tool():
    spec = importlib.util.spec_from_file_location("detector_boxes",
                                                  REPO / "tools" / "detector_boxes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_writes_a_box_file_that_gv_train_reads_with_each_face_matched(tmp_path, capsys):
    pytest.importorskip("ai_edge_litert", reason="the bundled detector needs the tflite extra")
    out = tmp_path / "boxes.txt"
    assert _tool().main([str(SAMPLES), "-o", str(out)]) == 0
    boxes = read_boxes(out)  # the reader gv-train --boxes-file uses
    samples, _ = read_300w(str(SAMPLES))
    assert set(boxes) == {s.name for s in samples}
    for s in samples:
        truth = box_from_landmarks(s.points)
        assert iou(truth, np.array([boxes[s.name]]))[0] > 0.5, s.name
    assert f"{len(samples)} of {len(samples)} faces" in capsys.readouterr().out


def test_a_missing_folder_is_one_line(tmp_path, capsys):
    assert _tool().main([str(tmp_path / "absent"), "-o", str(tmp_path / "b.txt")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("detector_boxes: ") and "absent" in line
    assert not (tmp_path / "b.txt").exists()
