"""Squeeze-excite channels with a constant gate (all-zero fc2 weights, as ImageNet starts leave
them) keep their gate through export: the repair is the same function in torch, and in the int8
file the gate stays open where ai-edge-quantizer 0.10 used to shut it."""

from pathlib import Path

import numpy as np
import pytest
import torch

from gaussian_vector import checkpoint
from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model
from gaussian_vector.models.mobilenetv3 import SqueezeExcite
from gv_export.repair import constant_gates, open_constant_gates
from gv_export.wrap import ExportWrapper, reference_output

SIZE = 64


def _model_with_constant_gates() -> torch.nn.Module:
    """A small GV net whose first squeeze-excite has 3 open (bias 3.02, as trained), 1 shut and
    1 half-open constant channel."""
    torch.manual_seed(3)
    model = build_model(ModelConfig(input_size=SIZE, width_mult=0.5)).eval()
    se = next(m for m in model.modules() if isinstance(m, SqueezeExcite))
    with torch.no_grad():
        se.fc2.weight[:5] = 0.0
        se.fc2.bias[:5] = torch.tensor([3.02, 3.05, 4.0, -3.5, 0.0])
    return model


def test_repair_keeps_the_function_and_leaves_no_all_zero_gate():
    model = _model_with_constant_gates()
    assert constant_gates(model) == 5
    x = torch.randn(2, 3, SIZE, SIZE) * 2
    ref = reference_output(model, x)
    repaired = open_constant_gates(model)
    assert constant_gates(repaired) == 0
    assert constant_gates(model) == 5  # the caller's model is untouched
    with torch.no_grad():
        got = ExportWrapper(model, "NCHW")(x)
        direct = torch.cat(repaired(x), dim=-1)
    torch.testing.assert_close(got, ref, atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(direct, ref, atol=2e-5, rtol=1e-5)


def test_a_model_without_constant_gates_is_exported_as_it_is():
    torch.manual_seed(4)
    model = build_model(ModelConfig(input_size=SIZE, width_mult=0.5, num_landmarks=5)).eval()
    assert constant_gates(model) == 0
    assert open_constant_gates(model) is model


def test_constant_open_gates_stay_open_in_the_int8_file(tmp_path: Path):
    """The gate tensor of the int8 file (hard-sigmoid's output) reads 1 on every constant
    channel (the repair moved shut and half-open constants into the projection, the torch test
    above pins that down): before the repair the quantizer zeroed their bias and it read 0."""
    pytest.importorskip("litert_torch")
    interpreter = pytest.importorskip("ai_edge_litert.interpreter")
    from gv_export.exporter import ExportOptions, export

    model = _model_with_constant_gates()
    checkpoint.save(tmp_path / "gates.pt", model, model.config)
    res = export(tmp_path / "gates.pt", "tflite", ExportOptions(
        int8=True, out=tmp_path, max_nme_increase=1e9, allow_cpu_ops=True), log=lambda _: None)
    it = interpreter.Interpreter(
        model_path=str(res.path), experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=interpreter.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], np.random.default_rng(0).integers(
        -128, 128, inp["shape"], dtype=np.int8))
    it.invoke()
    # the first squeeze-excite's gate: the first MUL whose output is (1, 1, 1, C)
    gate_op = next(op for op in it._get_ops_details() if op["op_name"] == "MUL"
                   and tuple(it._get_tensor_details(op["outputs"][0], 0)["shape"][:3]) == (1, 1, 1))
    t = gate_op["outputs"][0]
    scale, zero = it._get_tensor_details(t, 0)["quantization"]
    gate = (it.get_tensor(t).astype(np.float32).ravel() - zero) * scale
    np.testing.assert_allclose(gate[:5], 1.0, atol=0.01)
