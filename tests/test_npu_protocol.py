"""The NPU simulator plumbing that needs no vendor package: the worker protocol (against a fake
worker running the real loop), the missing-toolchain line, the vendors' report parsers, the
target table's NPU rows, and how a model file is recognised as a simulator's."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.modelfile.errors import ModelError
from gaussian_vector.runtime import npu_worker, simulators
from gaussian_vector.runtime.simulators import (
    SimulatorBackend,
    ToolchainMissing,
    Worker,
    WorkerError,
    find_python,
    open_simulated,
    simulated_model,
)

FAKE = Path(__file__).with_name("npu_fake_worker.py")


def fake(model: str = "m.onnx", options: dict | None = None) -> SimulatorBackend:
    return SimulatorBackend("fake", model, options,
                            worker=Worker("fake", python=sys.executable, script=FAKE))


# --------------------------------------------------------------------------- the protocol
def test_a_fake_worker_round_trips_arrays_through_vendor_noise():
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    with fake(options={"platform": "x"}) as b:
        assert b.input.shape == (1, 2, 3) and b.output.dtype == np.float32
        assert b.report["options"] == {"platform": "x"} and b.cpu_ops == ["Reshape"]
        np.testing.assert_array_equal(b.run(x), 2 * x)
        np.testing.assert_array_equal(b.run(x[:1]), 2 * x[:1])  # the worker stays up
        assert b.worker.proc.poll() is None
    assert b.worker.proc.poll() == 0  # closed on request


def test_a_refusal_is_one_line_and_the_worker_is_closed():
    with pytest.raises(WorkerError, match="^fake: the fake compiler refuses this model$"):
        fake("refuse")


def test_a_vendor_exception_comes_back_as_its_last_line():
    with pytest.raises(WorkerError, match="RuntimeError: last line of the vendor error"):
        fake("crash")


def test_a_worker_that_dies_names_its_exit_and_last_words():
    b = fake("die")
    with pytest.raises(WorkerError, match=r"died \(exit 3\): dying now"):
        b.run(np.zeros((1, 2, 3), np.float32))
    b.close()


def test_the_loop_answers_unknown_commands_and_run_before_open():
    replies: list[dict] = []
    lines = [json.dumps({"cmd": "run", "input": "a", "output": "b"}),
             json.dumps({"cmd": "jump"}), json.dumps({"cmd": "open", "toolchain": "nope"}),
             json.dumps({"cmd": "close"}), json.dumps({"cmd": "jump"})]
    assert npu_worker.serve(iter(lines), replies.append, sessions={}) == 0
    assert [r["ok"] for r in replies] == [False, False, False, True]  # nothing after close
    assert replies[0]["error"] == "run before open"
    assert "unknown command 'jump'" in replies[1]["error"]
    assert "unknown toolchain 'nope'" in replies[2]["error"]


# --------------------------------------------------------------------------- finding envs
def test_a_missing_toolchain_is_one_line_naming_the_script(monkeypatch, tmp_path):
    monkeypatch.setattr(simulators, "_roots", lambda: [tmp_path])
    monkeypatch.delenv("GV_NPU_PYTHON_RKNN", raising=False)
    with pytest.raises(ToolchainMissing) as e:
        find_python("rknn")
    msg = str(e.value)
    assert "\n" not in msg and "tools/npu_env.sh rknn" in msg and ".venv-rknn" in msg


def test_environments_are_found_by_folder_or_variable(monkeypatch, tmp_path):
    py = tmp_path / ".venv-qnn" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text("")
    monkeypatch.setattr(simulators, "_roots", lambda: [tmp_path / "elsewhere", tmp_path])
    monkeypatch.delenv("GV_NPU_PYTHON_QNN", raising=False)
    assert find_python("qnn") == py
    monkeypatch.setenv("GV_NPU_PYTHON_QNN", str(tmp_path / "nope"))
    with pytest.raises(ToolchainMissing, match="GV_NPU_PYTHON_QNN=.*does not exist"):
        find_python("qnn")
    with pytest.raises(ValueError, match="unknown NPU toolchain 'cuda'"):
        find_python("cuda")


def test_gv_export_without_the_toolchain_says_which_script_to_run(monkeypatch, tmp_path,
                                                                  capsys):
    from gv_export.cli import main

    monkeypatch.setattr(simulators, "_roots", lambda: [tmp_path])
    monkeypatch.delenv("GV_NPU_PYTHON_RKNN", raising=False)
    assert main(["default", "--npu", "rk3588", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run tools/npu_env.sh rknn" in err
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- report parsers
RKNN_LOG = """\
D RKNN: [22:02:40.118]                      Network Layer Information Table
D RKNN: [22:02:40.118] ----------------------------------------------------------------------
D RKNN: [22:02:40.118] ID   OpType         DataType Target InputShape       OutputShape      \
Cycles(DDR/NPU/Total)    RW(KB)       FullName
D RKNN: [22:02:40.118] ----------------------------------------------------------------------
D RKNN: [22:02:40.118] 0    InputOperator  INT8     CPU    \\                (1,3,256,256)    \
0/0/0                    0            InputOperator:image
D RKNN: [22:02:40.118] 1    ConvHardSwish  INT8     NPU    (1,3,256,256),(16,3,3,3),(16) \
(1,16,128,128)   19503/147456/147456      194          Conv:node_Conv_678
D RKNN: [22:02:40.118] 2    Transpose      INT8     CPU    (1,96,16,16)     (16,16,1,96)     \
0/0/0                    24           Transpose:hardswish_2_rs_tp
D RKNN: [22:02:40.118] 3    Conv           INT8     NPU    (1,64,2,64),(68,64,1,1),(68) \
(1,68,2,64)      996/1536/1536            13           Conv:node_conv2d_63
D RKNN: [22:02:40.118] 4    OutputOperator INT8     CPU    (1,68,128)       \\                \
0/0/0                    8            OutputOperator:out
D RKNN: [22:02:40.118] ----------------------------------------------------------------------
D RKNN: [22:02:40.136] 121 Conv     relu_19_slice#1_conv_i1   INT8   (1,64,16,1) | 0x0 0x4 0x4
D RKNN: [22:02:40.137] Total Internal Memory Size: 960KB
D RKNN: [22:02:40.137] Total Weight Memory Size: 989.812KB
"""


def test_the_rknn_layer_table_gives_ops_cycles_and_memory():
    r = npu_worker.parse_rknn_log(RKNN_LOG)
    assert (r["ops_total"], r["ops_on_npu"], r["cpu_ops"]) == (3, 2, ["Transpose"])
    assert r["cycles"] == 147456 + 0 + 1536
    assert r["internal_bytes"] == 960 * 1024 and r["weight_bytes"] == int(989.812 * 1024)
    assert r["memory_bytes"] == r["internal_bytes"] + r["weight_bytes"]


def test_a_log_without_the_table_is_refused():
    with pytest.raises(npu_worker.WorkerFailure, match="no layer table"):
        npu_worker.parse_rknn_log("I rknn building done.\n")


def test_the_qnn_trace_and_the_tflm_arena():
    trace = {"summary": {"total_onnx_nodes": 600, "supported_nodes": 598, "total_qnn_ops": 148,
                         "qnn_subgraphs": 2},
             "unsupported_nodes": [{"name": "a", "op_type": "Einsum"}, {"op_type": "Einsum"}]}
    r = npu_worker.parse_qnn_trace(trace)
    assert (r["ops_total"], r["ops_on_npu"], r["npu_ops"], r["subgraphs"]) == (600, 598, 148, 2)
    assert r["cpu_ops"] == ["Einsum", "Einsum"]
    text = "[RecordingMicroAllocator] Arena allocation total 953344 bytes\nhead 1 bytes"
    assert npu_worker.parse_tflm_arena(text) == 953344
    assert npu_worker.parse_tflm_arena("nothing") is None


def test_tflm_io_quantisation_round_trips():
    d = {"dtype": np.int8, "quantization_parameters": {"scales": [0.5], "zero_points": [3]}}
    x = np.array([-1.0, 0.0, 2.5, 500.0], np.float32)
    q = npu_worker.quantise(x, d)
    assert q.dtype == np.int8 and q.tolist() == [1, 3, 8, 127]
    np.testing.assert_allclose(npu_worker.dequantise(q, d), [-1.0, 0.0, 2.5, 62.0])


# --------------------------------------------------------------------------- targets, files
def test_every_vendor_npu_has_a_row_with_its_toolchain_and_graph():
    from gv_export.errors import ExportError
    from gv_export.targets import TARGETS, VENDOR_NPUS, target_for

    assert set(VENDOR_NPUS) == {"rk3588", "rv1106", "rk3566", "qnn-htp"}
    for name in VENDOR_NPUS:
        t = target_for(None, name.upper())
        assert t is TARGETS[name] and t.toolchain in simulators.TOOLCHAINS
        assert t.fp32 is None and t.graph(t.formats[0], True) is t.int8
    assert TARGETS["rk3566"].int8.squeeze == "pool" and TARGETS["rk3566"].int8.filter == "conv"
    assert target_for("tflite", "ethos-u65-256") is TARGETS["ethos-u"]
    with pytest.raises(ExportError, match="rk3588, rv1106, rk3566, qnn-htp"):
        target_for("onnx", "hexagon-v99")
    with pytest.raises(ExportError, match="takes rknn models, not tflite"):
        TARGETS["rk3588"].graph("tflite", True)


def _onnx_with(extra: dict, path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    from gaussian_vector.config import ModelConfig
    from gv_export import metadata_io

    cfg = ModelConfig(input_size=64, num_landmarks=5)
    meta = metadata_io.build_metadata(
        cfg, metadata_io.tensor_spec((1, 3, 64, 64), "float32", "NCHW"), (1, 5, 32),
        extra=extra)
    node = onnx.helper.make_node("Identity", ["x"], ["y"])
    graph = onnx.helper.make_graph(
        [node], "g", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    proto = onnx.helper.make_model(graph)
    metadata_io.embed_onnx(proto, meta)
    onnx.save(proto, str(path))
    return path


def test_which_files_run_in_a_simulator(tmp_path):
    assert simulated_model(tmp_path / "m.rknn") == "rknn"
    assert simulated_model(_onnx_with({"runs_on": "qnn-htp"}, tmp_path / "q.onnx")) == "qnn"
    assert simulated_model(_onnx_with({"runs_on": "cpu"}, tmp_path / "c.onnx")) is None
    assert simulated_model(tmp_path / "m.tflite") is None
    with pytest.raises(ModelError, match=r"no m\.rknn\.json beside it"):
        open_simulated(tmp_path / "m.rknn")
    (tmp_path / "m.rknn.json").write_text("{}")
    with pytest.raises(ModelError, match="not a gv-export sidecar"):
        open_simulated(tmp_path / "m.rknn")


def test_gv_eval_takes_a_rknn_as_an_exported_model_and_others_pass_through(tmp_path):
    from gaussian_vector.evaluate import is_exported
    from gaussian_vector.runtime.simulators import simulated_pipeline

    assert is_exported("out/gv_rk3588.rknn") and not is_exported("runs/gv/best.pt")
    assert simulated_pipeline(tmp_path / "m.tflite") is None
    assert simulated_pipeline(_onnx_with({"runs_on": "cpu"}, tmp_path / "c.onnx")) is None


@pytest.mark.parametrize("args, message", [
    (["--npu", "hexagon"], "unknown --npu 'hexagon': NPU targets are the Ethos-U configs"),
    (["--npu", "ethos-u55-256"], "add --target tflite --int8"),
    (["--npu", "rk3588", "--target", "tflite"], "takes rknn models, not tflite"),
    (["--npu", "qnn-htp", "--graph", "squeeze=max"], "squeeze form must be one of"),
    ([], "--target is required (or a vendor --npu"),
])
def test_npu_arguments_that_do_not_fit_are_one_line(args, message, capsys):
    from gv_export.cli import main

    with pytest.raises(SystemExit) if not args else contextlib.nullcontext():
        assert main(["default", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]
