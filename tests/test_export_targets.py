"""Per-target export: the CPU target's .tflite runs wholly inside XNNPACK (one partition), a
graph with ops outside it is refused with their names, the metadata records the target and its
choices, and --imgsz works for GV at sizes other than the checkpoint's."""

from __future__ import annotations

import pytest

from gaussian_vector.modelfile.reader import read_metadata
from gv_export.errors import ExportError
from gv_export.targets import TARGETS, override, target_for
from gv_export.wrap import Graph

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_quantizer")


def _export(tmp_path, **kw):
    from gv_export.exporter import ExportOptions, export

    # 64 px keeps the conversions short; the shipped weights keep the activations realistic
    return export("default", "tflite", ExportOptions(imgsz=64, out=tmp_path / "m.tflite",
                                                      max_nme_increase=1e9, **kw),
                  log=lambda _: None)


@pytest.mark.parametrize("int8", [False, True])
def test_cpu_target_tflite_is_one_xnnpack_partition(tmp_path, int8):
    result = _export(tmp_path, int8=int8)
    cov = result.delegation
    assert cov is not None and cov.partitions == 1 and not cov.cpu_ops, cov.summary()
    extra = read_metadata(result.path).extra
    graph = TARGETS["cpu-tflite"].graph("tflite", int8)
    assert extra["runs_on"] == "cpu" and extra["graph"] == graph.to_dict()
    assert read_metadata(result.path).config.input_size == 64
    assert result.metadata.output.shape == (1, 68, 32)


def test_ops_outside_xnnpack_are_refused_by_name(tmp_path):
    with pytest.raises(ExportError, match=r"ops fall outside XNNPACK.*--allow-cpu-ops"):
        _export(tmp_path, int8=True, graph="hardswish=op")
    assert not list(tmp_path.iterdir()), "nothing may be written"
    result = _export(tmp_path, int8=True, graph="hardswish=op,upsample=resize",
                     allow_cpu_ops=True)
    names = {op.split("#")[0] for op in result.delegation.cpu_ops}
    assert names == {"HARD_SWISH", "RESIZE_NEAREST_NEIGHBOR"}
    assert result.delegation.partitions > 1


def test_target_lookup_and_overrides():
    assert target_for("tflite", None) is TARGETS["cpu-tflite"]
    assert target_for("onnx", None) is TARGETS["cpu-onnx"]
    assert target_for("tflite", "ethos-u65-256") is TARGETS["ethos-u"]
    with pytest.raises(ExportError, match="unknown --npu"):
        target_for("tflite", "hexagon")
    with pytest.raises(ExportError, match="needs --int8"):
        TARGETS["ethos-u"].graph("tflite", False)
    g = override(Graph(), "means=mean, hardswish=relu6")
    assert (g.means, g.hardswish, g.bpm) == ("mean", "relu6", "fused")
    for bad in ("colour=red", "means", "means=median"):
        with pytest.raises(ExportError, match="--graph"):
            override(Graph(), bad)


def test_the_readme_int8_export_passes_its_own_gate_with_the_defaults(tmp_path, capsys):
    """`gv-export default --target tflite --int8` as shown: calibrated and gated on the packaged
    faces' views (it failed its gate at +3.8% when both were the two plain crops)."""
    from gv_export.cli import main

    assert main(["default", "--target", "tflite", "--int8", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "64 faces from gaussian_vector/samples (2 faces x 32 views)" in out
    assert "XNNPACK: 1 partition" in out
    (written,) = tmp_path.glob("*_int8.tflite")
    calib = read_metadata(written).extra["calibration"]
    assert calib["faces"] == 64 and "32 views" in calib["source"]
