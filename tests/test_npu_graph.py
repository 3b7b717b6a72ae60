"""The NPU graph choices rewrite the network without changing it: the squeeze-excite mean as
one whole-map average pool, and the BPM filter as a depthwise convolution whose NCHW result is
reshaped straight into the contract's (N, K, W + H)."""

import pytest
import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model
from gv_export.wrap import ExportWrapper, Graph, reference_output


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("head", ["gv", "heatmap"])
@pytest.mark.parametrize("edges", ["valid", "zeros"])
def test_pool_squeeze_and_conv_filter_compute_the_core_model(layout, head, edges):
    torch.manual_seed(3)
    cfg = ModelConfig(head=head, input_size=64, width_mult=0.5, num_landmarks=6,
                      bpm_edges=edges)
    model = build_model(cfg).eval()
    x = torch.randn(2, 3, 64, 64) * 2
    ref = reference_output(model, x)
    wrapper = ExportWrapper(model, layout, Graph(squeeze="pool", filter="conv"), cfg).eval()
    with torch.no_grad():
        got = wrapper(x.permute(0, 2, 3, 1) if layout == "NHWC" else x)
    torch.testing.assert_close(got, ref, atol=2e-5, rtol=1e-5)
    kinds = {type(m).__name__ for m in wrapper.modules()}
    assert "WholeMapPool" in kinds and "AdaptiveAvgPool2d" not in kinds
    assert "AdaptiveAvgPool2d" in {type(m).__name__ for m in model.modules()}  # untouched


def test_unknown_npu_choices_are_refused():
    with pytest.raises(ValueError, match="squeeze form must be one of"):
        Graph(squeeze="max")
    with pytest.raises(ValueError, match="filter form must be one of"):
        Graph(filter="fft")
    assert Graph().to_dict()["squeeze"] == "mean" and Graph().to_dict()["filter"] == "fc"
