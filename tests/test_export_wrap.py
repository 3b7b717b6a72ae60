"""The exported graph computes what the core model computes: the packed BPM tail (x and y
filtered in one op, fused or not) equals cat(BandPooling(x), BandPooling(y)) in both layouts."""

import pytest
import torch

from gaussian_vector.bpm import BandPooling
from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model
from gv_export.targets import TARGETS
from gv_export.wrap import (
    ExportWrapper,
    Graph,
    PackedBandPooling,
    output_shape,
    reference_output,
)


@pytest.mark.parametrize("form", ["fused", "separable"])
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("edges", ["valid", "zeros"])
def test_wrapper_matches_the_core_model(form, layout, edges):
    torch.manual_seed(1)
    cfg = ModelConfig(input_size=64, width_mult=0.5, num_landmarks=7, bpm_edges=edges)
    model = build_model(cfg).eval()
    x = torch.randn(2, 3, 64, 64)
    ref = reference_output(model, x)
    with torch.no_grad():
        got = ExportWrapper(model, layout, Graph(bpm=form))(
            x.permute(0, 2, 3, 1) if layout == "NHWC" else x)
    assert tuple(got.shape) == output_shape(cfg, 2) == (2, 7, 32)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("head", ["gv", "heatmap"])
def test_every_targets_graph_computes_the_same_function(target, head):
    """h-swish as relu6, means as MEAN, upsampling as copies: rewritten, not changed."""
    torch.manual_seed(2)
    cfg = ModelConfig(head=head, input_size=64, width_mult=0.5, num_landmarks=5)
    model = build_model(cfg).eval()
    x = torch.randn(2, 3, 64, 64) * 3  # wide enough to reach both h-swish knees
    ref = reference_output(model, x)
    t = TARGETS[target]
    for graph in filter(None, (t.fp32, t.int8)):
        wrapper = ExportWrapper(model, "NHWC", graph)
        with torch.no_grad():
            got = wrapper(x.permute(0, 2, 3, 1))
        torch.testing.assert_close(got, ref, atol=2e-5, rtol=1e-5)
        swapped = {type(m).__name__ for m in wrapper.modules()}
        assert ("Relu6Hardswish" in swapped) == (graph.hardswish == "relu6")
        assert ("CopyUpsample" in swapped) == (graph.upsample == "copy")
    assert {type(m).__name__ for m in model.modules()} >= {"Hardswish", "Upsample"}  # untouched


@pytest.mark.parametrize("bands", [((3, 5), (0.5, 0.5)), ((7,), (1.0,)), ((1, 3), (0.2, 0.8))])
@pytest.mark.parametrize("edges", ["valid", "zeros"])
def test_packed_tail_is_band_pooling_and_rows_do_not_leak(bands, edges):
    """An impulse in the last column must not reach the y-vector's first element (the seam)."""
    k, s = 3, 16
    head = torch.nn.Conv2d(k, k, 1)
    with torch.no_grad():
        head.weight.copy_(torch.eye(k).view(k, k, 1, 1))
        head.bias.zero_()
    h = torch.rand(1, k, s, s)
    h[:, :, :, -1] += 5.0
    x, y = BandPooling(*bands, form="band", edges=edges)(h)
    for form in ("fused", "separable"):
        for filt, size in (("fc", s), ("fc", None), ("conv", None)):
            got = PackedBandPooling(head, *bands, form=form, edges=edges, filter=filt,
                                    size=size)(h)
            torch.testing.assert_close(got, torch.cat([x, y], -1), atol=1e-5, rtol=1e-5)


def test_heatmap_wrapper_outputs_heatmaps():
    cfg = ModelConfig(head="heatmap", input_size=64, width_mult=0.5, num_landmarks=5)
    model = build_model(cfg).eval()
    x = torch.randn(1, 64, 64, 3)
    with torch.no_grad():
        got = ExportWrapper(model, "NHWC")(x)
    assert tuple(got.shape) == output_shape(cfg) == (1, 5, 16, 16)
    torch.testing.assert_close(got, reference_output(model, x.permute(0, 3, 1, 2)))


def test_bad_layout_and_form_are_refused():
    model = build_model(ModelConfig(input_size=64, width_mult=0.5, num_landmarks=3))
    with pytest.raises(ValueError, match="layout"):
        ExportWrapper(model, "CHWN")
    with pytest.raises(ValueError, match="BPM form"):
        ExportWrapper(model, "NHWC", Graph(bpm="band"))
    with pytest.raises(ValueError, match="hardswish form"):
        Graph(hardswish="hard")
    with pytest.raises(ValueError, match="BPM filter"):
        PackedBandPooling(model.head, (3,), (1.0,), filter="matrix")
