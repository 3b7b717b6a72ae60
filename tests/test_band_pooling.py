"""Band Pooling Module: the literal and separable forms equal a brute-force band average."""

import numpy as np
import pytest
import torch

from gaussian_vector.bpm import BandPooling, combined_kernel


def brute_force(h: np.ndarray, bandwidths, weights, edges: str = "zeros",
                ) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 4-5 by loops: mean over a band l wide and full-height, zero padded, / (l * H); valid:
    then divided by the share of the weights inside the map (one band: / (columns inside * H))."""
    n, k, hh, ww = h.shape
    x = np.zeros((n, k, ww))
    y = np.zeros((n, k, hh))
    x_in, y_in = np.zeros(ww), np.zeros(hh)
    for band, w in zip(bandwidths, weights, strict=True):
        r = band // 2
        for j in range(ww):
            cols = [c for c in range(j - r, j + r + 1) if 0 <= c < ww]
            x[:, :, j] += w * h[:, :, :, cols].sum(axis=(2, 3)) / (band * hh)
            x_in[j] += w * len(cols) / band
        for i in range(hh):
            rows = [c for c in range(i - r, i + r + 1) if 0 <= c < hh]
            y[:, :, i] += w * h[:, :, rows, :].sum(axis=(2, 3)) / (band * ww)
            y_in[i] += w * len(rows) / band
    if edges == "valid":  # divided by the share of the filter's weight inside the map
        x *= sum(weights) / x_in
        y *= sum(weights) / y_in
    return x, y


@pytest.mark.parametrize(
    "shape, bandwidths, weights",
    [
        ((2, 3, 16, 16), (3, 5), (0.5, 0.5)),
        ((1, 68, 64, 64), (3, 5), (0.5, 0.5)),
        ((2, 4, 12, 20), (1,), (1.0,)),
        ((1, 2, 32, 8), (7,), (1.0,)),
        ((3, 1, 9, 9), (3, 5, 9), (0.2, 0.3, 0.5)),
    ],
)
@pytest.mark.parametrize("edges", ["valid", "zeros"])
def test_band_and_separable_forms_equal_the_brute_force_loop(shape, bandwidths, weights, edges):
    h = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    want_x, want_y = brute_force(h.double().numpy(), bandwidths, weights, edges)
    for form in ("band", "separable"):
        x, y = BandPooling(bandwidths, weights, form=form, edges=edges)(h)
        assert x.shape == shape[:2] + (shape[3],) and y.shape == shape[:3]
        assert np.abs(x.numpy() - want_x).max() <= 1e-5, form
        assert np.abs(y.numpy() - want_y).max() <= 1e-5, form
    bx, by = BandPooling(bandwidths, weights, form="band", edges=edges)(h)
    sx, sy = BandPooling(bandwidths, weights, form="separable", edges=edges)(h)
    assert (bx - sx).abs().max() <= 1e-5 and (by - sy).abs().max() <= 1e-5


def test_default_is_the_papers_aggregation_of_3_and_5():
    bpm = BandPooling()
    assert bpm.bandwidths == (3, 5) and bpm.weights == (0.5, 0.5)
    taps = combined_kernel((3, 5), (0.5, 0.5)).tolist()
    assert taps == pytest.approx([0.1, 0.1 + 1 / 6, 0.1 + 1 / 6, 0.1 + 1 / 6, 0.1])


def test_bpm_has_no_trainable_parameters_and_passes_gradients():
    bpm = BandPooling()
    assert not list(bpm.parameters())
    h = torch.randn(1, 2, 8, 8, requires_grad=True)
    x, y = bpm(h)
    (x.sum() + y.sum()).backward()
    assert h.grad is not None and torch.isfinite(h.grad).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bandwidths": (4,)}, "odd"),
        ({"bandwidths": (0,)}, "odd"),
        ({"bandwidths": ()}, "at least one"),
        ({"bandwidths": (3, 5), "weights": (1.0,)}, "weights"),
        ({"form": "fancy"}, "form"),
    ],
)
def test_bad_bpm_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BandPooling(**kwargs)


def test_bpm_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"\(N, K, H, W\)"):
        BandPooling()(torch.zeros(2, 8, 8))


def test_valid_edges_let_a_border_mass_peak_at_the_end_element():
    """A heatmap falling away from the left border: with valid edges the x-vector's largest
    element is the first (Beyond Box can fire); zero padding moves the peak one inside."""
    ramp = torch.tensor([4.0, 3.0, 2.0, 1.0] + [0.0] * 12)
    h = ramp.view(1, 1, 1, 16).expand(1, 1, 16, 16).contiguous()
    x_valid, _ = BandPooling(edges="valid")(h)
    x_zeros, _ = BandPooling(edges="zeros")(h)
    assert int(x_valid[0, 0].argmax()) == 0
    assert int(x_zeros[0, 0].argmax()) == 1
    # away from the borders both agree
    torch.testing.assert_close(x_valid[0, 0, 2:-2], x_zeros[0, 0, 2:-2])


def test_configs_written_before_bpm_edges_load_as_zero_padding():
    from gaussian_vector.config import ModelConfig

    d = ModelConfig().to_dict()
    assert d["bpm_edges"] == "valid"
    del d["bpm_edges"]
    assert ModelConfig.from_dict(d).bpm_edges == "zeros"
    with pytest.raises(ValueError, match="bpm_edges"):
        ModelConfig(bpm_edges="mirror")


def test_configs_written_before_subpixel_load_with_the_papers_quarter_shift():
    from gaussian_vector.config import ModelConfig
    from gaussian_vector.decode_rules import DecodeRules

    d = ModelConfig().to_dict()
    assert d["subpixel"] == "parabola"  # new models: the parabola vertex
    assert DecodeRules.of(ModelConfig.from_dict(d)).subpixel == "parabola"
    del d["subpixel"]
    assert DecodeRules.of(ModelConfig.from_dict(d)).subpixel == "quarter"
    with pytest.raises(ValueError, match="subpixel must be one of"):
        ModelConfig(subpixel="cubic")


def test_valid_edges_with_one_band_are_the_mean_over_the_columns_inside():
    h = torch.rand(1, 2, 6, 10, generator=torch.Generator().manual_seed(3))
    x, _ = BandPooling((5,), (1.0,), edges="valid")(h)
    want = torch.stack([h[..., max(0, j - 2): j + 3].mean(dim=(2, 3)) for j in range(10)], -1)
    torch.testing.assert_close(x, want)


@pytest.mark.parametrize("edges", ["valid", "zeros"])
def test_band_matrix_is_the_1d_step_of_the_module(edges):
    """The exported graph's fully connected filter equals the module on the means."""
    from gaussian_vector.bpm import band_matrix

    h = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(4))
    x, y = BandPooling(edges=edges)(h)
    a = band_matrix(12, (3, 5), (0.5, 0.5), edges)
    torch.testing.assert_close(h.mean(dim=2) @ a.T, x)
    torch.testing.assert_close(h.mean(dim=3) @ a.T, y)
    assert torch.count_nonzero(a) == 12 * 5 - 6  # a band of 5, cut at the two borders
