"""MobileNetV3 GV network and heatmap baseline: shapes, sizes, configs."""

import pytest
import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.models import GVNet, HeatmapNet, build_model, count_parameters


@pytest.mark.parametrize("arch", ["mobilenetv3_small", "mobilenetv3_large"])
@pytest.mark.parametrize("size", [256, 128])
def test_output_shapes_at_256_and_128(arch, size):
    cfg = ModelConfig(arch=arch, input_size=size, num_landmarks=68)
    gv = build_model(cfg).eval()
    hm = build_model(ModelConfig(**{**cfg.to_dict(), "head": "heatmap"})).eval()
    assert isinstance(gv, GVNet) and type(hm) is HeatmapNet
    img = torch.randn(2, 3, size, size)
    with torch.no_grad():
        x, y = gv(img)
        h = hm(img)
    side = size // 4
    assert x.shape == (2, 68, side) and y.shape == (2, 68, side)
    assert h.shape == (2, 68, side, side)
    print(f"{arch} @ {size}: GV {count_parameters(gv):,} params, heatmap {count_parameters(hm):,}")
    assert count_parameters(gv) == count_parameters(hm)  # BPM adds no parameters


def test_width_multiplier_shrinks_the_network():
    small = count_parameters(build_model(ModelConfig(width_mult=0.5)))
    full = count_parameters(build_model(ModelConfig(width_mult=1.0)))
    print(f"mobilenetv3_small x0.5: {small:,} params, x1.0: {full:,}")
    assert small < 0.6 * full


def test_gv_output_is_bpm_of_the_heatmaps():
    net = build_model(ModelConfig(input_size=64, num_landmarks=5, width_mult=0.5)).eval()
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        h = net.heatmaps(img)
        x, y = net(img)
    assert torch.allclose(x, net.bpm(h)[0]) and torch.allclose(y, net.bpm(h)[1])


def test_bad_images_raise_value_error():
    net = build_model(ModelConfig(input_size=64, num_landmarks=5, width_mult=0.5))
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.zeros(1, 3, 70, 64))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        net(torch.zeros(1, 1, 64, 64))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"head": "softmax"}, "head"),
        ({"arch": "resnet50"}, "arch"),
        ({"input_size": 100}, "multiple of 32"),
        ({"num_landmarks": 0}, "num_landmarks"),
        ({"enlarge": 0.8}, "enlarge"),
        ({"enlarge": "1.25"}, "enlarge"),
    ],
)
def test_bad_config_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**kwargs)


def test_config_round_trips_through_json():
    cfg = ModelConfig(head="heatmap", input_size=128, bandwidths=(3,), band_weights=(1.0,))
    assert ModelConfig.from_json(cfg.to_json()) == cfg
