"""Every user error is one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import export_fixtures
import pytest

from gv_export.cli import main
from gv_export.errors import ExportError, require


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return export_fixtures.make_checkpoints(tmp_path_factory.mktemp("ckpt"))


def _fails(capsys, argv: list[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("gv-export: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_missing_checkpoint(capsys, tmp_path):
    assert "model file not found" in _fails(capsys, [str(tmp_path / "no.pt"), "--target", "onnx"])


def test_corrupt_checkpoint(capsys, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    assert "not a readable gaussian-vector checkpoint" in _fails(
        capsys, [str(bad), "--target", "tflite"])


@pytest.mark.parametrize("flags, words", [
    (["--calib-max", "0"], "argument --calib-max: must be an integer >= 1, got 0"),
    (["--max-nme-increase", "-0.1"], "argument --max-nme-increase: must be a finite number >= 0"),
])
def test_bad_numbers_are_refused_by_the_parser(capsys, checkpoints, flags, words):
    with pytest.raises(SystemExit) as exit_:
        main([str(checkpoints["gv"]), "--target", "onnx", *flags])
    assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_an_output_folder_that_cannot_be_made_fails_before_converting(capsys, checkpoints,
                                                                       tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    err = _fails(capsys, [str(checkpoints["gv"]), "--target", "onnx", "-o",
                          str(blocker / "sub" / "m.onnx")])
    assert f"--output {blocker / 'sub' / 'm.onnx'}: cannot create the folder" in err
    assert "faces from" not in err


def test_unknown_target(capsys, checkpoints):
    assert "unknown target 'coreml'" in _fails(capsys, [str(checkpoints["gv"]), "--target",
                                                        "coreml"])


def test_int8_and_npu_need_tflite_int8(capsys, checkpoints):
    assert "--int8 is for --target tflite" in _fails(
        capsys, [str(checkpoints["gv"]), "--target", "onnx", "--int8"])
    assert "--npu compiles full-integer models" in _fails(
        capsys, [str(checkpoints["gv"]), "--target", "tflite", "--npu", "ethos-u55-256"])


def test_unknown_accelerator_is_refused_before_converting(capsys, checkpoints):
    pytest.importorskip("ethosu.vela", reason="ethos-u-vela is not installed ([npu] extra)")
    assert "unknown vela accelerator 'ethos-u99'" in _fails(
        capsys, [str(checkpoints["gv"]), "--target", "tflite", "--int8", "--npu", "ethos-u99"])


def test_calibration_folder_without_usable_faces(capsys, checkpoints, tmp_path):
    (tmp_path / "a.pts").write_text("version: 1\nn_points: 2\n{\n1 2\n3 4\n}\n")  # wrong K
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "b.pts").write_text("nothing")
    assert "no usable faces" in _fails(
        capsys, [str(checkpoints["gv"]), "--target", "tflite", "--calib", str(tmp_path)])
    assert "calibration folder not found" in _fails(
        capsys, [str(checkpoints["gv"]), "--target", "tflite", "--calib", str(tmp_path / "x")])


@pytest.mark.parametrize("module,extra", [("litert_torch", "export"), ("onnx", "export"),
                                          ("ethosu.vela", "npu")])
def test_missing_packages_name_the_extra(monkeypatch, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(ExportError, match=rf"pip install 'gaussian-vector\[{extra}\]'"):
        require(module, "this step")


def test_missing_converter_fails_the_cli_with_the_extra(capsys, monkeypatch, checkpoints):
    monkeypatch.setitem(sys.modules, "litert_torch", None)
    err = _fails(capsys, [str(checkpoints["gv"]), "--target", "tflite"])
    assert "gaussian-vector[export]" in err and "litert_torch" in err


def test_the_installed_command_prints_one_line(tmp_path, repo_root):
    env = {"PYTHONPATH": f"{repo_root / 'python'}:{repo_root / 'export'}", "PATH": "/usr/bin"}
    proc = subprocess.run([sys.executable, "-m", "gv_export.cli", str(tmp_path / "none.pt"),
                           "--target", "onnx"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"gv-export: error: model file not found: {tmp_path / 'none.pt'}"]


def test_fp32_validation_tolerates_one_flipped_argmax_but_not_a_moved_layout():
    """A landmark whose argmax flips between two near-equal values moves a grid step: not an
    export error. A wrong layout moves nearly every landmark, a wrong number the outputs:
    refused."""
    import numpy as np

    from gv_export.validate import MOVED_PX, Report, fp32_failures

    def failures(px: np.ndarray, vector_diff: float = 0.0) -> list[str]:
        return fp32_failures(Report(64, vector_diff, float(px.mean()), float(px.max()),
                                    float(np.mean(px >= MOVED_PX)), 0.03, 0.03, 0.0, []))

    one_flip = np.zeros(4352)
    one_flip[7] = 58.0  # mean 0.013 px: the old mean-difference rule refused this
    assert failures(one_flip) == []
    (moved,) = failures(np.full(4352, 0.5))
    assert "100.0% of the landmarks moved" in moved
    (numbers,) = failures(one_flip, vector_diff=0.01)
    assert "max output difference" in numbers
