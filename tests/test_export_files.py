"""Exported ONNX and TFLite files (fp32 and full int8), GV and heatmap: they run in ONNX Runtime
and the LiteRT interpreter, match torch on real face crops, carry the runtime's metadata, and
the int8 ones are integer end to end and map fully to the Ethos-U NPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gaussian_vector import checkpoint
from gaussian_vector.preprocess import normalise
from gv_export.calibration import load_faces
from gv_export.metadata_io import read_back
from gv_export.validate import landmarks
from gv_export.wrap import reference_output

pytestmark = pytest.mark.slow
HEADS = ["gv", "heatmap"]


@pytest.fixture(scope="module")
def checkpoints(small_checkpoints):
    return small_checkpoints


@pytest.fixture(scope="module")
def exported(small_exports):
    return small_exports


def _torch_out(ckpt, faces):
    model, config, _ = checkpoint.load(ckpt)
    x = torch.from_numpy(normalise(faces.crops, config))
    return reference_output(model, x).numpy(), config


def _run_onnx(path, x_nchw):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: xi[None]})[0] for xi in x_nchw])


def _run_tflite(path, x_nhwc):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    outs = []
    for xi in x_nhwc:
        if i["dtype"] == np.int8:
            s, z = i["quantization"]
            xi = np.clip(np.round(xi / s) + z, -128, 127).astype(np.int8)
        it.set_tensor(i["index"], np.ascontiguousarray(xi[None]))
        it.invoke()
        y = it.get_tensor(o["index"])
        if o["dtype"] == np.int8:
            s, z = o["quantization"]
            y = (y.astype(np.float32) - z) * s
        outs.append(y)
    return np.concatenate(outs)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("target", ["onnx", "tflite"])
def test_fp32_files_match_torch_on_real_faces(exported, checkpoints, head, target):
    res = exported(head, target)
    faces = load_faces(None, res.metadata.config)
    ref, config = _torch_out(checkpoints[head], faces)
    x = normalise(faces.crops, config)
    got = _run_onnx(res.path, x) if target == "onnx" else _run_tflite(res.path, x.transpose(
        0, 2, 3, 1))
    assert got.shape == ref.shape == (len(faces.names), *res.metadata.output.shape[1:])
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    px = np.linalg.norm(landmarks(got, config) - landmarks(ref, config), axis=-1)
    assert px.mean() < 0.01
    assert res.validation.ok and res.validation.mean_px < 0.01


@pytest.mark.parametrize("head", HEADS)
def test_int8_tflite_is_integer_end_to_end_and_close_to_torch(exported, checkpoints, head):
    from ai_edge_litert.interpreter import Interpreter

    res = exported(head, "tflite", int8=True)
    it = Interpreter(model_path=str(res.path))
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    floats = [d["name"] for d in it.get_tensor_details() if d["dtype"] == np.float32]
    assert not floats, f"float tensors left in the int8 model: {floats[:5]}"
    meta = res.metadata
    assert (meta.input.scale, meta.input.zero_point) == pytest.approx(inp["quantization"])
    assert (meta.output.scale, meta.output.zero_point) == pytest.approx(out["quantization"])
    faces = load_faces(None, meta.config)
    ref, config = _torch_out(checkpoints[head], faces)
    got = _run_tflite(res.path, normalise(faces.crops, config).transpose(0, 2, 3, 1))
    # int8 of an untrained net: a few output steps of error, nothing like a wrong graph
    span = float(ref.max() - ref.min())
    assert np.abs(got - ref).mean() < 0.05 * span
    assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("target,int8", [("onnx", False), ("tflite", False), ("tflite", True)])
def test_metadata_round_trips_through_the_runtime_reader(exported, head, target, int8):
    res = exported(head, target, int8)
    back = read_back(str(res.path))
    assert back == res.metadata
    assert back.config.head == head
    assert back.input.layout == ("NCHW" if target == "onnx" else "NHWC")
    s = back.config.input_size
    assert back.input.shape == ((1, 3, s, s) if target == "onnx" else (1, s, s, 3))
    k, o = back.config.num_landmarks, back.config.output_size
    assert back.output.shape == ((1, k, 2 * o) if head == "gv" else (1, k, o, o))
    assert back.output.layout == ("NK(W+H)" if head == "gv" else "NKHW")
    assert (back.input.dtype, back.output.dtype) == (("int8",) * 2 if int8 else ("float32",) * 2)


def test_onnx_file_passes_the_checker_with_opset_17_or_newer(exported):
    onnx = pytest.importorskip("onnx")
    proto = onnx.load(str(exported("gv", "onnx").path))
    onnx.checker.check_model(proto)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17


def test_onnx_file_holds_no_path_or_line_number_of_the_exporting_checkout(exported):
    """torch.onnx stores a Python stack trace on every node: absolute paths and line numbers
    that made the same model's bytes depend on where and from which edit it was exported."""
    onnx = pytest.importorskip("onnx")
    from pathlib import Path

    proto = onnx.load(str(exported("gv", "onnx").path))
    repo = str(Path(__file__).resolve().parents[1])
    values = [p.key + p.value for n in proto.graph.node for p in n.metadata_props]
    assert values, "the exporter's own node metadata (names, scopes) is expected to stay"
    assert not [v for v in values if "stack_trace" in v or repo in v]


@pytest.mark.parametrize("head", HEADS)
def test_onnx_batch_axis_is_dynamic_and_a_batch_equals_single_runs(exported, checkpoints, head):
    import onnxruntime as ort

    path = exported(head, "onnx").path
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert isinstance(sess.get_inputs()[0].shape[0], str)  # a named, free batch axis
    _, config, _ = checkpoint.load(checkpoints[head])
    x = normalise(load_faces(None, config).crops, config)
    assert len(x) >= 2
    whole = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    assert whole.shape[0] == len(x)
    np.testing.assert_allclose(whole, _run_onnx(path, x), atol=1e-5)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("int8", [False, True])
def test_tflite_traced_at_batch_one_takes_a_batch_of_four_equal_to_single_runs(exported, head,
                                                                             int8):
    """The converter folds the traced batch of 1 into every RESHAPE; gv-export makes it -1, so
    resize_tensor_input to 4 faces runs, and gives each face what it gives alone."""
    from ai_edge_litert.interpreter import Interpreter

    res = exported(head, "tflite", int8)
    assert res.validation.batch_faces == 8 and res.validation.batch_diff == 0.0
    it = Interpreter(model_path=str(res.path), num_threads=1)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    assert list(i["shape"]) == [1, *res.metadata.input.shape[1:]]  # as traced: batch 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, *i["shape"][1:])).astype(np.float32)
    if int8:
        x = np.clip(np.round(x * 40), -128, 127).astype(np.int8)
    single = []
    for xi in x:
        it.set_tensor(i["index"], xi[None])
        it.invoke()
        single.append(it.get_tensor(o["index"]))
    it.resize_tensor_input(i["index"], list(x.shape))
    it.allocate_tensors()
    it.set_tensor(i["index"], x)
    it.invoke()
    four = it.get_tensor(o["index"])
    assert four.shape == (4, *res.metadata.output.shape[1:])
    np.testing.assert_allclose(four.astype(np.float32), np.concatenate(single).astype(np.float32),
                               atol=1e-5 if not int8 else 0)


@pytest.mark.parametrize("head", HEADS)
def test_vela_maps_every_op_to_the_npu(exported, head):
    pytest.importorskip("ethosu.vela", reason="ethos-u-vela is not installed ([npu] extra)")
    from gv_export.vela_report import run_vela

    rep = run_vela(exported(head, "tflite", int8=True).path, "ethos-u55-256")
    assert rep.ops_total > 50 and rep.npu_share == 1.0 and not rep.cpu_ops
    assert rep.cycles > 0 and rep.time_ms > 0 and rep.sram_bytes > 0
    assert 0 < rep.tail_cycles < rep.cycles
    if head == "gv":  # the BPM tail is the few small ops after the decoder
        assert len(rep.tail_ops) <= 8
