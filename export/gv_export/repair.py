"""Function-preserving weight repairs the int8 quantizer needs before a model is exported.

Squeeze-excite channels with a constant gate: a channel whose second squeeze-excite convolution
(`fc2`) has all-zero weights gates its feature map by the constant hard-sigmoid(bias). ImageNet
starts leave such channels (14 in the ImageNet-started model, all with a gate of exactly 1:
their bias sits in hard-sigmoid's flat part, where no gradient reaches the weights).
ai-edge-quantizer 0.10 gives an all-zero weight channel a zero weight scale, so its int32 bias
(scale = input scale x weight scale) comes out ~0 and the gate flips from 1 to 0: the whole
feature channel is switched off in the int8 file (docs/export.md, "Constant gates").

The repair folds the constant gate into the projection convolution that follows and rewrites
the channel as an always-open gate that any weight scale keeps: weight 1 on the first input,
bias `OPEN_BIAS`. The input is a ReLU output (>= 0), so the pre-activation stays >= OPEN_BIAS
and hard-sigmoid gives exactly 1: the same function, in fp32 and in int8.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gaussian_vector.models.mobilenetv3 import InvertedResidual, SqueezeExcite

#: hard-sigmoid(x) = 1 for x >= 3; 6 keeps the rewritten gates well inside that flat part
OPEN_BIAS = 6.0


def constant_gates(model: nn.Module) -> int:
    """How many squeeze-excite channels of `model` have all-zero `fc2` weights."""
    return sum(int(_dead(se).sum()) for se, _ in _gated_blocks(model))


def open_constant_gates(model: nn.Module) -> nn.Module:
    """`model` itself when no squeeze-excite gate is constant, else a repaired copy (module
    docstring); the caller's model is never changed."""
    if constant_gates(model) == 0:
        return model
    model = copy.deepcopy(model)
    with torch.no_grad():
        for se, proj in _gated_blocks(model):
            dead = _dead(se)
            if not dead.any():
                continue
            gate = se.gate(se.fc2.bias[dead].clone())  # the constant each dead channel applies
            proj.weight[:, dead] *= gate.view(1, -1, 1, 1)
            se.fc2.weight[dead] = 0.0
            se.fc2.weight[dead, 0] = 1.0
            se.fc2.bias[dead] = OPEN_BIAS
    return model


def _dead(se: SqueezeExcite) -> torch.Tensor:
    """Boolean mask of `se`'s output channels with all-zero fc2 weights."""
    return se.fc2.weight.detach().flatten(1).abs().amax(dim=1) == 0


def _gated_blocks(model: nn.Module):
    """(each SqueezeExcite, the 1 x 1 projection convolution right after it)."""
    for block in model.modules():
        if not isinstance(block, InvertedResidual):
            continue
        layers = list(block.body)
        for i, layer in enumerate(layers[:-1]):
            if isinstance(layer, SqueezeExcite):
                proj = layers[i + 1][0]
                if not (isinstance(proj, nn.Conv2d) and proj.kernel_size == (1, 1)
                        and proj.groups == 1):
                    raise ValueError("a squeeze-excite block is not followed by a 1 x 1 "
                                     "projection; cannot fold its constant gates")
                yield layer, proj
