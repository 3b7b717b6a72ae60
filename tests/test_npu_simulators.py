"""The vendor simulators themselves, where their environments exist (tools/npu_env.sh qnn|rknn|
tflm; skipped with that reason elsewhere): a small random GV model through each toolchain runs
every op on the NPU, its simulated output matches torch's, and a .rknn's bundle rebuilds the
same integers for a later evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model
from gaussian_vector.runtime.simulators import SimulatorBackend, ToolchainMissing, find_python


def need(toolchain: str) -> None:
    try:
        find_python(toolchain)
    except ToolchainMissing as e:
        pytest.skip(str(e))


@pytest.fixture
def qnn() -> None:
    need("qnn")


@pytest.fixture
def rknn() -> None:
    need("rknn")


@pytest.fixture
def tflm() -> None:
    need("tflm")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(model, config, fp32 batch-1 ONNX path, inputs (8, 3, 64, 64), torch outputs)."""
    pytest.importorskip("onnxscript")
    from gv_export import metadata_io
    from gv_export.npu.export import static_onnx
    from gv_export.wrap import ExportWrapper, Graph, input_shape, output_shape, reference_output

    torch.manual_seed(0)
    cfg = ModelConfig(input_size=64, width_mult=0.5, num_landmarks=5)
    model = build_model(cfg).eval()
    meta = metadata_io.build_metadata(
        cfg, metadata_io.tensor_spec(input_shape(cfg, "NCHW"), "float32", "NCHW"),
        output_shape(cfg), extra={"runs_on": "qnn-htp"})
    x = np.random.default_rng(0).normal(size=(8, 3, 64, 64)).astype(np.float32)
    path = tmp_path_factory.mktemp("npu") / "tiny.onnx"
    wrapper = ExportWrapper(model, "NCHW", Graph(squeeze="pool", filter="conv"), cfg).eval()
    path.write_bytes(static_onnx(wrapper, x[:1], meta, False))
    ref = reference_output(model, torch.from_numpy(x)).numpy()
    return model, meta, path, x, ref


def close(got: np.ndarray, ref: np.ndarray, share: float) -> None:
    """Within `share` of the output's range, everywhere (quantisation, not a wrong graph)."""
    span = float(ref.max() - ref.min())
    assert np.abs(got.reshape(ref.shape) - ref).max() <= share * span


def test_qnn_htp_runs_every_node_and_matches_torch(qnn, tiny, tmp_path):
    from gv_export.npu.export import quantize_qdq

    _, meta, fp32, x, ref = tiny
    qdq = tmp_path / "tiny_qdq.onnx"
    quantize_qdq(fp32, x, {"activations": "uint16", "weights": "int8", "per_channel": True},
                 qdq, meta, False)
    with SimulatorBackend("qnn", qdq) as b:
        got = b.run(x)
        assert b.report["cpu_fallback"] is None
        assert b.report["ops_on_npu"] == b.report["ops_total"] > 0
    close(got, ref, 0.02)


def test_rknn_compiles_all_on_npu_and_the_bundle_rebuilds_the_same_model(rknn, tiny, tmp_path):
    _, meta, fp32, x, ref = tiny
    np.save(tmp_path / "calib.npy", x)
    options = {"platform": "rk3566", "quantized_algorithm": "normal", "remove_reshape": True,
               "bundle": str(tmp_path / "bundle"), "dataset": str(tmp_path / "calib.npy"),
               "export": str(tmp_path / "tiny.rknn"), "input_shape": [1, 3, 64, 64],
               "output_shape": list(meta.output.shape)}
    with SimulatorBackend("rknn", fp32, options) as b:
        first = b.run(x)
        report = b.report
    assert report["ops_on_npu"] == report["ops_total"] > 0 and report["cpu_ops"] == []
    assert report["cycles"] > 0 and report["memory_bytes"] > 0
    assert (tmp_path / "tiny.rknn").stat().st_size > 0
    close(first, ref, 0.05)
    rebuild = {k: v for k, v in options.items() if k not in ("dataset", "export")}
    with SimulatorBackend("rknn", tmp_path / "tiny.rknn", rebuild) as b:
        np.testing.assert_array_equal(b.run(x), first)


def test_tflm_runs_the_int8_tflite_and_measures_its_arena(tflm, tiny, tmp_path):
    pytest.importorskip("litert_torch")
    from gv_export.quantize import quantize_int8
    from gv_export.tflite_export import to_tflite
    from gv_export.wrap import ExportWrapper, Graph

    model, meta, _, x, ref = tiny
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    wrapper = ExportWrapper(model, "NHWC", Graph(), meta.config).eval()
    data = quantize_int8(to_tflite(wrapper, torch.from_numpy(nhwc[:1])), nhwc)
    path = tmp_path / "tiny_int8.tflite"
    path.write_bytes(data)
    with SimulatorBackend("tflm", path) as b:
        got = b.run(nhwc)
        assert b.report["all_ops_supported"] and b.report["arena_bytes"] > 0
    close(got, ref, 0.1)
