"""Google's ImageNet MobileNetV3-Small in our backbone: a converter for TF-slim's
`mobilenet_v3_small_1.0_224.uint8.tflite` (quantisation-aware trained, batch norm folded).

The shipped models start from scratch; this gives a run ImageNet features instead
(`gv-train --pretrained FILE`). The converter reads the .tflite's flatbuffer with the schema
that ships with ai-edge-litert, takes its 54 convolutions in graph order, dequantises them
((q - zero point) x scale, per tensor or per channel; int32 biases x their scale) and puts each
into the convolution of ours at the same place, checked by kind (depthwise or not), stride,
TF padding and weight shape; anything else is refused in one line. TF folded batch norm into
each convolution's weights and bias: ours keeps conv + BN, the BN holding the folded bias as an
identity (weight 1, running mean 0, running var 1 - eps, so (x - 0) / sqrt(var + eps) is x
exactly); `fold_back_batch_norm` then gives it statistics of real crops so that a training-mode
BN starts out computing the same function. The squeeze-excite convolutions keep their own
biases. The last three convolutions (1x1 to 576, 1024, 1001 classes) are the ImageNet
classifier, used only to verify the conversion (`Classifier`).

The weights only mean what they meant with TF's input scaling, (x - 128) / 127 (config.TF_MEAN
and TF_STD), and TF's "SAME" padding of stride-2 convolutions (config padding "tf"): with
PyTorch's symmetric padding the top ImageNet class changes (docs/training.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .mobilenetv3 import MobileNetV3, conv_bn_act

#: What the file must be, in words, for the one-line refusals.
EXPECTED = "TF-slim MobileNetV3-Small 1.0 (Google's ImageNet mobilenet_v3_small_1.0_224 .tflite)"
#: Convolutions of the classifier after the backbone (1x1 to 576, 1024, the 1001 logits).
CLASSIFIER_CONVS = 3


class PretrainedError(ValueError):
    """The file cannot be read or is not the network this converter knows."""


@dataclass(frozen=True)
class TFConv:
    """One dequantised convolution of the .tflite, in PyTorch's layout."""

    name: str  # the weight tensor's name
    depthwise: bool
    stride: int
    same: bool  # TF "SAME" padding (else VALID)
    weight: np.ndarray  # (out, in / groups, kh, kw) float32
    bias: np.ndarray  # (out,) float32


@dataclass(frozen=True)
class LoadReport:
    """What `load_backbone` put where, for the training log."""

    path: Path
    convs: int  # convolutions loaded into the backbone
    parameters: int  # weights and (folded) biases they hold
    skipped: int  # classifier convolutions of the file not used


def _schema():
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        raise PretrainedError("reading a .tflite needs the ai-edge-litert package "
                              "(pip install 'gaussian-vector[tflite]')") from None
    return schema


def _dequantise(model, tensor, what: str) -> np.ndarray:
    """A constant tensor as float32: uint8/int8/int32 through its scale and zero point."""
    data = model.buffers[tensor.buffer].data
    dtypes = {0: np.float32, 2: np.int32, 3: np.uint8, 9: np.int8}  # TensorType values
    if data is None or tensor.type not in dtypes:
        raise PretrainedError(f"{what} is not a constant float32/uint8/int8/int32 tensor")
    shape = [int(d) for d in tensor.shape]
    raw = np.frombuffer(np.asarray(data, np.uint8).tobytes(), dtype=dtypes[tensor.type])
    if raw.size != int(np.prod(shape)):
        raise PretrainedError(f"{what}: {raw.size} values for shape {shape}")
    values = raw.reshape(shape).astype(np.float64)
    q = tensor.quantization
    if tensor.type != 0 and q is not None and q.scale is not None and len(q.scale):
        scale, zero = np.asarray(q.scale, np.float64), np.asarray(q.zeroPoint, np.float64)
        axis = [1] * len(shape)
        if scale.size > 1:  # per channel along quantizedDimension
            axis[q.quantizedDimension] = scale.size
        values = (values - zero.reshape(axis)) * scale.reshape(axis)
    elif tensor.type != 0:
        raise PretrainedError(f"{what} is an integer tensor without a quantisation scale")
    return values.astype(np.float32)


def save_convs(convs: list[TFConv], path: str | Path) -> Path:
    """The dequantised convolutions as one .npz (numpy only to read back): `--pretrained` takes
    it where ai-edge-litert is not installed, e.g. on a lent GPU machine."""
    arrays: dict[str, np.ndarray] = {}
    for i, c in enumerate(convs):
        arrays[f"{i}.weight"], arrays[f"{i}.bias"] = c.weight, c.bias
        arrays[f"{i}.meta"] = np.array([c.name, int(c.depthwise), c.stride, int(c.same)])
    np.savez_compressed(path, **arrays)  # 8-bit weights dequantised: ~3x smaller
    return Path(path)


def _read_npz(p: Path) -> list[TFConv]:
    """What `save_convs` wrote, or PretrainedError."""
    try:
        with np.load(p, allow_pickle=False) as z:
            n = len([k for k in z.files if k.endswith(".meta")])
            out = []
            for i in range(n):
                name, dw, stride, same = z[f"{i}.meta"]
                out.append(TFConv(str(name), dw == "1", int(stride), same == "1",
                                  z[f"{i}.weight"].astype(np.float32),
                                  z[f"{i}.bias"].astype(np.float32)))
    except (OSError, ValueError, KeyError) as e:
        raise PretrainedError(f"{p} is not a converted backbone .npz ({type(e).__name__}); "
                              f"expected {EXPECTED} or its .npz from save_convs") from None
    return out


def read_convs(path: str | Path) -> list[TFConv]:
    """Every CONV_2D and DEPTHWISE_CONV_2D of a .tflite (or of the .npz `save_convs` wrote from
    one), in graph order, dequantised into PyTorch's layout. FileNotFoundError, or
    PretrainedError naming what is wrong."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"pretrained file not found: {p}")
    if p.suffix == ".npz":
        return _read_npz(p)
    buf = p.read_bytes()
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise PretrainedError(f"{p} is not a .tflite model (no TFL3 identifier); expected "
                              f"{EXPECTED}")
    schema = _schema()
    try:
        model = schema.ModelT.InitFromPackedBuf(buf, 0)
        graph = model.subgraphs[0]
        ops = graph.operators or []
    except Exception as e:  # the generated reader raises anything on a corrupt buffer
        raise PretrainedError(f"{p} cannot be parsed as a .tflite ({type(e).__name__})") from None
    conv, dw = schema.BuiltinOperator.CONV_2D, schema.BuiltinOperator.DEPTHWISE_CONV_2D
    out = []
    for op in ops:
        code = model.operatorCodes[op.opcodeIndex]
        kind = max(code.builtinCode, code.deprecatedBuiltinCode)
        if kind not in (conv, dw):
            continue
        opt = op.builtinOptions
        if len(op.inputs) < 3 or op.inputs[2] < 0 or opt.strideH != opt.strideW:
            raise PretrainedError(f"{p}: a convolution without a bias or with unequal strides; "
                                  f"expected {EXPECTED}")
        wt, bt = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
        name = wt.name.decode(errors="replace")
        w = _dequantise(model, wt, f"{p}: {name}")
        b = _dequantise(model, bt, f"{p}: {bt.name.decode(errors='replace')}")
        if kind == dw:
            if getattr(opt, "depthMultiplier", 1) != 1:
                raise PretrainedError(f"{p}: {name} has a depth multiplier; expected {EXPECTED}")
            w = w.transpose(3, 0, 1, 2)  # (1, kh, kw, C) -> (C, 1, kh, kw)
        else:
            w = w.transpose(0, 3, 1, 2)  # (O, kh, kw, I) -> (O, I, kh, kw)
        out.append(TFConv(name, kind == dw, int(opt.strideH),
                          opt.padding == schema.Padding.SAME, np.ascontiguousarray(w), b))
    return out


class Classifier(nn.Module):
    """The ImageNet network the .tflite holds, in our modules: our MobileNetV3-Small backbone,
    then a 1x1 conv to 576 (BN, h-swish), global average pooling, a 1x1 conv to 1024 with bias
    (h-swish) and the 1001 logits (index 0: background). Only for verifying the conversion."""

    def __init__(self, padding: str = "tf") -> None:
        super().__init__()
        self.backbone = MobileNetV3("mobilenetv3_small", 1.0, padding)
        self.last = conv_bn_act(self.backbone.out_channels[-1], 576, 1,
                                act=nn.Hardswish(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(576, 1024, 1)
        self.act = nn.Hardswish(inplace=True)
        self.logits = nn.Conv2d(1024, 1001, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.last(self.backbone(images)[-1]))
        return self.logits(self.act(self.fc(x))).flatten(1)


def _convs_with_bn(module: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Every Conv2d in module order with the BatchNorm2d right after it in its Sequential."""
    bn_after: dict[int, nn.BatchNorm2d] = {}
    for m in module.modules():
        if isinstance(m, nn.Sequential):
            kids = list(m)
            for a, b in zip(kids, kids[1:], strict=False):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    bn_after[id(a)] = b
    return [(m, bn_after.get(id(m))) for m in module.modules() if isinstance(m, nn.Conv2d)]


def _check(ours: list[tuple[nn.Conv2d, nn.BatchNorm2d | None]], theirs: list[TFConv],
           path: Path) -> None:
    """Refuse in one line unless the file's convolutions are ours, one for one."""
    if len(theirs) != len(ours):
        raise PretrainedError(f"{path} is not {EXPECTED}: it has {len(theirs)} convolutions, "
                              f"that network {len(ours)}")
    for i, ((conv, _), tf) in enumerate(zip(ours, theirs, strict=True)):
        want = (tuple(conv.weight.shape), conv.groups > 1, conv.stride[0])
        got = (tf.weight.shape, tf.depthwise, tf.stride)
        if want != got or tf.bias.shape != (conv.out_channels,) or not tf.same:
            raise PretrainedError(
                f"{path} is not {EXPECTED}: convolution {i + 1} ({tf.name}) is "
                f"{'depthwise ' if tf.depthwise else ''}{list(tf.weight.shape)} stride "
                f"{tf.stride}{'' if tf.same else ' VALID'}, expected "
                f"{'depthwise ' if want[1] else ''}{list(want[0])} stride {want[2]} SAME")


@torch.no_grad()
def _put(conv: nn.Conv2d, bn: nn.BatchNorm2d | None, tf: TFConv) -> int:
    """One convolution in: weights, and the bias in the conv or as an identity BN's bias."""
    conv.weight.copy_(torch.from_numpy(tf.weight))
    bias = torch.from_numpy(tf.bias)
    if conv.bias is not None:
        conv.bias.copy_(bias)
    elif bn is not None:
        bn.weight.fill_(1.0)
        bn.bias.copy_(bias)
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)  # var + eps = 1: the BN adds the bias and nothing else
    else:
        raise PretrainedError(f"{tf.name}: no bias and no batch norm to hold it")
    return tf.weight.size + tf.bias.size


def check_file(path: str | Path, arch: str = "mobilenetv3_small",
               width_mult: float = 1.0) -> None:
    """Raise (one line) unless `path` is the network and the model can take it: for a command
    line to refuse a wrong file before it reads any data."""
    if arch != "mobilenetv3_small" or width_mult != 1.0:
        raise PretrainedError(f"the pretrained file is MobileNetV3-Small 1.0; the model is {arch} "
                              f"width {width_mult:g} (use --arch mobilenetv3_small --width-mult 1)")
    _check(_convs_with_bn(Classifier()), read_convs(path), Path(path))


def load_backbone(backbone: MobileNetV3, path: str | Path) -> LoadReport:
    """Put the .tflite's backbone convolutions into `backbone` (MobileNetV3-Small 1.0), leaving
    anything after it (FPN decoder, head) as it is. The classifier's convolutions are checked,
    then dropped."""
    check_file(path, backbone.arch, backbone.width_mult)
    theirs = read_convs(path)
    ours = _convs_with_bn(backbone)
    n = sum(_put(conv, bn, tf) for (conv, bn), tf in zip(ours, theirs, strict=False))
    return LoadReport(Path(path), len(ours), n, len(theirs) - len(ours))


def load_classifier(path: str | Path, padding: str = "tf") -> Classifier:
    """The whole ImageNet network of the .tflite as a float PyTorch `Classifier`, in eval mode."""
    net = Classifier(padding)
    theirs = read_convs(path)
    ours = _convs_with_bn(net)
    _check(ours, theirs, Path(path))
    for (conv, bn), tf in zip(ours, theirs, strict=True):
        _put(conv, bn, tf)
    return net.eval()


@torch.no_grad()
def fold_back_batch_norm(backbone: nn.Module, images: torch.Tensor) -> int:
    """Give every identity BN of a freshly loaded backbone the per-channel mean and variance its
    input has on `images` (real crops, normalised as in training), with weight and bias to match:
    in eval mode the function is unchanged, and in training mode, where BN normalises by the
    batch's statistics, it starts out computing the same function instead of whitening every
    channel. Returns the number of BN layers set."""
    pairs = [(c, bn) for c, bn in _convs_with_bn(backbone) if bn is not None]
    stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(module: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        x = out.double().transpose(0, 1).flatten(1)
        stats[id(module)] = (x.mean(1), x.var(1, unbiased=False))

    handles = [conv.register_forward_hook(hook) for conv, _ in pairs]
    was_training = backbone.training
    try:
        backbone.eval()
        backbone(images)
    finally:
        for h in handles:
            h.remove()
        backbone.train(was_training)
    for conv, bn in pairs:
        mean, var = stats[id(conv)]
        bias = bn.bias.double()  # the folded bias: the identity BN's output is conv + bias
        std = torch.sqrt(var + bn.eps)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(std)
        bn.bias.copy_(mean + bias)
    return len(pairs)
