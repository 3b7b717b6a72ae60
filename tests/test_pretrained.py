"""The ImageNet MobileNetV3-Small converter (models/pretrained.py): every convolution reproduces
the .tflite's own to within its rounding, the float network ranks grace_hopper.bmp as the .tflite
does, TF's SAME padding is what makes it so, a wrong file is one line, and `gv-train --pretrained`
trains. The file comes from GV_PRETRAINED, else the `pretrained` folder beside the data folder
(../shared/pretrained); tests that need it skip with a reason where it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import data_root_path

from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model
from gaussian_vector.models.mobilenetv3 import same_padding

FILE = "mobilenet_v3_small_1.0_224.uint8.tflite"
MILITARY_UNIFORM, BOW_TIE = 653, 458


def pretrained_dir() -> Path:
    return Path(os.environ.get("GV_PRETRAINED", data_root_path().parent / "pretrained"))


@pytest.fixture(scope="module")
def tflite() -> Path:
    path = pretrained_dir() / FILE
    if not path.is_file():
        pytest.skip(f"ImageNet MobileNetV3 .tflite not found at {path} (set GV_PRETRAINED)")
    pytest.importorskip("ai_edge_litert", reason="reading a .tflite needs ai-edge-litert")
    return path


@pytest.fixture(scope="module")
def grace_hopper(tflite) -> np.ndarray:
    """The test photo at 224 x 224, RGB uint8, resized as the README's figures were (PIL's
    default bicubic)."""
    from PIL import Image

    return np.asarray(Image.open(tflite.parent / "grace_hopper.bmp").convert("RGB")
                      .resize((224, 224)))


def _litert(path: Path, image: np.ndarray, all_tensors: bool = False):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), experimental_preserve_all_tensors=all_tensors)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], image[None])
    it.invoke()
    return it


def _dequantised(it, index: int) -> np.ndarray:
    d = next(t for t in it.get_tensor_details() if t["index"] == index)
    scale, zero = d["quantization"]
    return (it.get_tensor(index).astype(np.float64) - zero) * scale


def _tf_input(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(((image.astype(np.float32) - 128) / 127).transpose(2, 0, 1)[None])


def test_same_padding_puts_the_odd_pixel_after() -> None:
    assert same_padding(224, 3, 2) == (0, 1)
    assert same_padding(112, 5, 2) == (1, 2)
    assert same_padding(225, 3, 2) == (1, 1)  # odd input: symmetric
    assert same_padding(7, 5, 1) == (2, 2)  # stride 1: PyTorch's k // 2
    cfg = ModelConfig(padding="tf", input_size=64, width_mult=0.5)
    out = build_model(cfg)(torch.zeros(1, 3, 64, 64))
    assert out[0].shape == (1, 68, 16)
    assert ModelConfig.from_dict({"head": "gv"}).padding == "torch"  # checkpoints before it
    with pytest.raises(ValueError, match="padding"):
        ModelConfig(padding="same")


def test_every_convolution_reproduces_the_tflite_to_its_rounding(tflite, grace_hopper) -> None:
    """Each converted convolution (+ identity BN), fed the .tflite's own dequantised input,
    gives the .tflite's output to within half its quantisation step: the weights, biases,
    layouts, strides and paddings are the file's, and nothing is left but rounding."""
    from ai_edge_litert import schema_py_generated as schema

    from gaussian_vector.models.pretrained import _convs_with_bn, load_classifier

    torch.set_num_threads(1)
    it = _litert(tflite, grace_hopper, all_tensors=True)
    model = schema.ModelT.InitFromPackedBuf(tflite.read_bytes(), 0)
    graph = model.subgraphs[0]
    kinds = (schema.BuiltinOperator.CONV_2D, schema.BuiltinOperator.DEPTHWISE_CONV_2D)
    ops = [op for op in graph.operators
           if max(model.operatorCodes[op.opcodeIndex].builtinCode,
                  model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode) in kinds]
    pairs = _convs_with_bn(load_classifier(tflite))
    assert len(ops) == len(pairs) == 54
    worst = 0.0
    for op, (conv, bn) in zip(ops, pairs, strict=True):
        x = _dequantised(it, op.inputs[0])[0].transpose(2, 0, 1)[None]
        want = _dequantised(it, op.outputs[0])[0].transpose(2, 0, 1)
        q = graph.tensors[op.outputs[0]].quantization
        step, zero = float(q.scale[0]), float(q.zeroPoint[0])
        with torch.no_grad():
            y = conv(torch.from_numpy(x).float())
            y = (bn(y) if bn is not None else y)[0].double().numpy()
        y = np.clip(y, -zero * step, (255 - zero) * step)  # the uint8 range (ReLU included)
        worst = max(worst, float(np.abs(y - want).max()) / step)
    assert worst <= 0.5 + 1e-3


def test_the_float_network_ranks_the_photo_as_the_tflite(tflite, grace_hopper) -> None:
    """Top-1 and top-2 as the .tflite ("military uniform", "bow tie"); the float network is
    less sure (0.44 against 0.82: the quantisation-aware weights were trained with quantised
    activations), and the rest of the top 5 (each ~1-2%) differ by that rounding."""
    from gaussian_vector.models import count_parameters
    from gaussian_vector.models.pretrained import load_classifier

    torch.set_num_threads(1)
    it = _litert(tflite, grace_hopper)
    p_tflite = _dequantised(it, it.get_output_details()[0]["index"])[0]
    net = load_classifier(tflite)
    assert count_parameters(net) == 2_543_881  # torchvision's 2,542,856 plus a 1001st class
    with torch.no_grad():
        p = torch.softmax(net(_tf_input(grace_hopper)), 1)[0].double().numpy()
    top_tflite, top = np.argsort(-p_tflite)[:5], np.argsort(-p)[:5]
    assert list(top_tflite[:2]) == list(top[:2]) == [MILITARY_UNIFORM, BOW_TIE]
    assert p_tflite[MILITARY_UNIFORM] == pytest.approx(0.816, abs=0.01)
    assert p[MILITARY_UNIFORM] == pytest.approx(0.438, abs=0.02)
    assert len(set(top) & set(top_tflite)) >= 3
    assert np.corrcoef(p, p_tflite)[0, 1] > 0.97


def _emulate_tflite_activations(net: torch.nn.Module, path: Path) -> None:
    """Round every activation of `net` as the uint8 .tflite does: a hook per module output at
    the scale and zero point of the .tflite tensor it corresponds to (convolutions, hard-swish,
    the squeeze-excite gate and product, residual sums, pools), matched by kind and order."""
    from ai_edge_litert import schema_py_generated as schema
    from torch import nn

    from gaussian_vector.models.mobilenetv3 import InvertedResidual, SqueezeExcite
    from gaussian_vector.models.pretrained import _convs_with_bn

    model = schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    graph, op = model.subgraphs[0], schema.BuiltinOperator

    def outputs(*kinds: int) -> list[tuple[float, float, str]]:
        out = []
        for o in graph.operators:
            code = model.operatorCodes[o.opcodeIndex]
            if max(code.builtinCode, code.deprecatedBuiltinCode) in kinds:
                t = graph.tensors[o.outputs[0]]
                out.append((float(t.quantization.scale[0]), float(t.quantization.zeroPoint[0]),
                            t.name.decode()))
        return out

    def of(kind: type) -> list[nn.Module]:
        return [m for m in net.modules() if isinstance(m, kind)]

    muls = outputs(op.MUL)
    pairs = [
        ([bn if bn is not None else c for c, bn in _convs_with_bn(net)],
         outputs(op.CONV_2D, op.DEPTHWISE_CONV_2D)),
        (of(nn.Hardswish), outputs(op.HARD_SWISH)),
        (of(nn.Hardsigmoid), [q for q in muls if q[2].endswith("Conv_1/mul")]),
        (of(SqueezeExcite), [q for q in muls if not q[2].endswith("Conv_1/mul")]),
        ([m for m in of(InvertedResidual) if m.residual],
         [q for q in outputs(op.ADD) if not q[2].endswith("Relu6")]),
        (of(nn.AdaptiveAvgPool2d), outputs(op.AVERAGE_POOL_2D)[:-1]),  # the last pools 1x1
    ]
    for modules, quant in pairs:
        assert len(modules) == len(quant)
        for module, (scale, zero, _) in zip(modules, quant, strict=True):
            module.register_forward_hook(
                lambda _m, _i, y, s=scale, z=zero: (torch.round(y / s) + z).clamp(0, 255).sub(z)
                .mul(s))


def test_with_its_rounding_the_network_gives_the_tflites_top5(tflite, grace_hopper) -> None:
    """The .tflite's output is uint8 (steps of 1/256): its top 5 are 653, 458 and two classes at
    2/256, then eleven tied at 1/256. Rounding our converted float network's activations as the
    .tflite does gives a top 5 with exactly those values in the .tflite's output."""
    from gaussian_vector.models.pretrained import load_classifier

    torch.set_num_threads(1)
    it = _litert(tflite, grace_hopper)
    steps = np.round(_dequantised(it, it.get_output_details()[0]["index"])[0] * 256)
    net = load_classifier(tflite)
    _emulate_tflite_activations(net, tflite)
    with torch.no_grad():
        p = torch.softmax(net(_tf_input(grace_hopper)), 1)[0].double().numpy()
    top = np.argsort(-p)[:5]
    assert list(steps[top]) == sorted(steps, reverse=True)[:5]
    assert top[0] == MILITARY_UNIFORM and p[MILITARY_UNIFORM] == pytest.approx(0.816, abs=0.06)
    assert np.corrcoef(p, steps)[0, 1] > 0.998


def test_symmetric_padding_changes_the_top_class(tflite, grace_hopper) -> None:
    from gaussian_vector.models.pretrained import load_classifier

    torch.set_num_threads(1)
    with torch.no_grad():
        p = torch.softmax(load_classifier(tflite, "torch")(_tf_input(grace_hopper)), 1)[0]
    assert int(p.argmax()) == BOW_TIE and float(p[MILITARY_UNIFORM]) < 0.1


@pytest.mark.parametrize("head", ["gv", "heatmap"])
def test_the_landmark_backbone_is_the_classifiers(tflite, head: str) -> None:
    """load_backbone fills the landmark network's backbone (either head) with the classifier's
    weights; fold_back_batch_norm keeps the function in eval mode and makes training-mode BN
    compute it too on the calibration crops."""
    from gaussian_vector.models.pretrained import (
        fold_back_batch_norm,
        load_backbone,
        load_classifier,
    )

    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = build_model(ModelConfig(head=head, padding="tf", input_size=64)).eval()
    decoder_before = {k: v.clone() for k, v in model.decoder.state_dict().items()}
    report = load_backbone(model.backbone, tflite)
    assert (report.convs, report.skipped) == (51, 3)
    ref = load_classifier(tflite).backbone
    x = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        want = ref(x)[-1]
        assert torch.equal(model.backbone(x)[-1], want)
        fold_back_batch_norm(model.backbone, x)
        torch.testing.assert_close(model.backbone(x)[-1], want, rtol=1e-4, atol=1e-4)
        model.backbone.train()
        torch.testing.assert_close(model.backbone(x)[-1], want, rtol=1e-3, atol=1e-3)
    for k, v in model.decoder.state_dict().items():
        assert torch.equal(v, decoder_before[k]), k  # the FPN decoder stays as it was


def _gv_train(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "gaussian_vector.cli.train", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_a_file_that_is_not_that_network_is_one_line(tflite, tmp_path, repo_root) -> None:
    text = tmp_path / "notes.tflite"
    text.write_text("not a model\n")
    other = repo_root / "python/gaussian_vector/weights/gv_mnv3s_256.tflite"
    cases = [
        ([str(text)], "not a .tflite model"),
        ([str(other)], "is not TF-slim MobileNetV3-Small 1.0"),
        ([str(tmp_path / "missing.tflite")], "not found"),
        ([str(tflite), "--width-mult", "0.5"], "MobileNetV3-Small 1.0"),
        ([str(tflite), "--init-from", "default"], "give one"),
    ]
    for args, message in cases:
        r = _gv_train("--pretrained", *args, "--out", str(tmp_path / "run"))
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert message in lines[-1] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("head", ["gv", "heatmap"])
def test_gv_train_pretrained_runs_a_few_steps(tflite, data_root, tmp_path, head: str) -> None:
    import json

    out = tmp_path / head
    r = _gv_train("--pretrained", str(tflite), "--head", head, "--data", str(data_root),
                  "--out", str(out), "--input-size", "64", "--limit", "16", "--epochs", "1",
                  "--max-steps", "2", "--batch-size", "8", "--threads", "1", "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "pretrained backbone from" in r.stderr and "51 convolutions" in r.stderr
    cfg = json.loads((out / "train_config.json").read_text())
    assert cfg["pretrained"] == str(tflite)
    assert cfg["model"]["padding"] == "tf"
    assert cfg["model"]["mean"] == pytest.approx([128 / 255] * 3)
    assert cfg["model"]["std"] == pytest.approx([127 / 255] * 3)
    assert (out / "best.pt").is_file()


def test_the_npz_form_holds_the_same_convolutions(tflite, tmp_path) -> None:
    """A machine without ai-edge-litert (a lent GPU) takes the converted .npz instead."""
    from gaussian_vector.models.pretrained import (
        PretrainedError,
        load_backbone,
        read_convs,
        save_convs,
    )

    convs = read_convs(tflite)
    npz = save_convs(convs, tmp_path / "backbone.npz")
    again = read_convs(npz)
    assert [(c.name, c.depthwise, c.stride, c.same) for c in again] == \
        [(c.name, c.depthwise, c.stride, c.same) for c in convs]
    for a, b in zip(again, convs, strict=True):
        np.testing.assert_array_equal(a.weight, b.weight)
        np.testing.assert_array_equal(a.bias, b.bias)
    cfg = ModelConfig(input_size=64, padding="tf")
    from_tflite, from_npz = build_model(cfg), build_model(cfg)
    load_backbone(from_tflite.backbone, tflite)
    load_backbone(from_npz.backbone, npz)
    for (k, v), (_, w) in zip(from_tflite.backbone.state_dict().items(),
                              from_npz.backbone.state_dict().items(), strict=True):
        assert torch.equal(v, w), k
    (tmp_path / "junk.npz").write_bytes(b"PK not really")
    with pytest.raises(PretrainedError, match="not a converted backbone"):
        read_convs(tmp_path / "junk.npz")


def test_the_npz_needs_no_litert_to_be_checked(tflite, tmp_path, monkeypatch) -> None:
    """gv-train's up-front check asks for ai-edge-litert only for a .tflite (the GPU image has
    none, and trains from the .npz)."""
    import gaussian_vector.cli.train as cli_train
    from gaussian_vector.models.pretrained import read_convs, save_convs

    npz = save_convs(read_convs(tflite), tmp_path / "b.npz")
    monkeypatch.setattr(cli_train, "need", lambda *a, **k: "no ai_edge_litert here")
    assert cli_train.pretrained_problem(npz, "mobilenetv3_small", 1.0) is None
    assert cli_train.pretrained_problem(tflite, "mobilenetv3_small", 1.0) == \
        "no ai_edge_litert here"
