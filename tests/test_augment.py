"""Augmentation: one affine warp keeps landmarks on the same image content (a dot drawn at a
landmark is found where the transformed landmark says), flips permute indices, labels decode
back to the points, draws are reproducible per (seed, epoch, index)."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector import affine
from gaussian_vector.data.augment import (
    NO_AUGMENT,
    AugmentConfig,
    occlude,
    photometric,
    sample_transform,
    transform_points,
)
from gaussian_vector.data.boxes import face_box
from gaussian_vector.data.readers import Sample
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.schemes import get_scheme

SCHEME = get_scheme("300w68")


def _face_points(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(100, 200, (68, 2))


@pytest.mark.parametrize("seed", range(8))
def test_warped_dot_lands_on_the_transformed_landmark(seed: int) -> None:
    import cv2

    rng = np.random.default_rng(seed)
    pts = _face_points(rng)
    img = np.zeros((300, 300, 3), np.uint8)
    k = 36  # the subject's right eye corner: index 45 after a flip
    cx, cy = pts[k]
    cv2.circle(img, (int(round(cx * 16)), int(round(cy * 16))), 4 * 16, (255, 255, 255), -1,
               cv2.LINE_AA, shift=4)
    aug = AugmentConfig(rotation_p=1.0, flip_p=0.5, occlusion_p=0.0)
    m, flip = sample_transform(affine.box_from_landmarks(pts), 128, 1.25, aug, rng)
    crop = affine.warp(img, m, 128).astype(np.float64)[..., 0]
    moved = transform_points(pts, m, flip, SCHEME)
    j = SCHEME.flip_perm[k] if flip else k
    ys, xs = np.nonzero(crop > 0)
    w = crop[ys, xs]
    centroid = np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])
    assert np.linalg.norm(centroid - moved[j]) < 0.6


def test_flip_keeps_left_parts_on_the_left() -> None:
    rng = np.random.default_rng(0)
    pts = _face_points(rng)
    pts[36], pts[45] = (120, 150), (180, 150)  # eye corners, left then right in the image
    aug = AugmentConfig(rotation_p=0.0, flip_p=1.0, scale_min=1.0, scale_max=1.0)
    m, flip = sample_transform(affine.box_from_landmarks(pts), 128, 1.25, aug, rng)
    moved = transform_points(pts, m, flip, SCHEME)
    assert flip and moved[36, 0] < moved[45, 0]


def test_scale_and_rotation_ranges() -> None:
    rng = np.random.default_rng(1)
    box = (0, 0, 100, 100)
    base = affine.crop_transform(box, 64, 1.25)
    k0 = np.sqrt(abs(np.linalg.det(base[:, :2])))
    scales, angles = [], []
    for _ in range(400):
        m, _ = sample_transform(box, 64, 1.25, AugmentConfig(), rng)
        scales.append(np.sqrt(abs(np.linalg.det(m[:, :2]))) / k0)
        angles.append(np.degrees(np.arctan2(abs(m[0, 1]), abs(m[0, 0]))))
    assert 0.75 <= min(scales) < 0.8 and 1.2 < max(scales) <= 1.25
    angles = np.array(angles)
    assert 0.35 < np.mean(angles > 0.01) < 0.65 and angles.max() <= 30.0 + 1e-6


def test_occlusion_paints_a_rectangle_only_when_drawn() -> None:
    crop = np.zeros((64, 64, 3), np.uint8)
    rng = np.random.default_rng(2)
    assert occlude(crop, NO_AUGMENT, rng) is crop
    out = occlude(crop, AugmentConfig(occlusion_p=1.0), rng)
    ys, xs = np.nonzero(out.any(axis=2))
    assert 0 < len(ys) <= (0.4 * 64 + 1) ** 2
    with pytest.raises(ValueError, match="probability"):
        AugmentConfig(flip_p=1.5)


def test_face_box_shrink_keeps_the_centre() -> None:
    s = Sample(image=None, points=np.array([[0.0, 0.0], [100.0, 50.0]]), name="x")
    b = face_box(s, 0.1)
    np.testing.assert_allclose(b, [5, 2.5, 95, 47.5])
    with pytest.raises(ValueError, match="shrink"):
        face_box(s, 1.0)


def test_dataset_items_decode_back_to_their_points(data_root, tmp_path) -> None:
    from gaussian_vector.config import ModelConfig
    from gaussian_vector.data import read_300w
    from gaussian_vector.data.dataset import LandmarkDataset
    from gaussian_vector.decode import decode_vectors

    samples, _ = read_300w(data_root / "300w/afw", check_images=False)
    cfg = ModelConfig(input_size=128, width_mult=0.5)
    ds = LandmarkDataset(samples[:6], cfg, AugmentConfig(), seed=3)
    for i in range(len(ds)):
        item = ds[i]
        pts = item["points"].numpy()
        xy, _ = decode_vectors(item["x"].numpy(), item["y"].numpy(), DecodeRules(beyond_box=False))
        inside = np.all((pts > 0) & (pts < cfg.output_size - 1), axis=1)
        assert inside.sum() > 30
        assert np.abs(xy[inside] - pts[inside]).max() <= 0.25 + 1e-6
    a, b = ds[0], ds[0]
    np.testing.assert_array_equal(a["image"].numpy(), b["image"].numpy())
    ds.set_epoch(1)
    assert not np.array_equal(ds[0]["points"].numpy(), a["points"].numpy())
    hm = LandmarkDataset(samples[:1], ModelConfig(head="heatmap", input_size=64), NO_AUGMENT)[0]
    assert hm["heatmap"].shape == (68, 16, 16)


def test_photometric_changes_pixels_only_when_drawn() -> None:
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (64, 64, 3), np.uint8)
    state = rng.bit_generator.state
    assert photometric(crop, NO_AUGMENT, rng) is crop
    assert rng.bit_generator.state == state  # p = 0 draws nothing: older recipes unchanged
    colour = photometric(crop, AugmentConfig(colour_p=1.0), rng)
    assert colour.dtype == np.uint8 and colour.shape == crop.shape
    assert np.abs(colour.astype(int) - crop).mean() > 1.0
    blurred = photometric(crop, AugmentConfig(blur_p=1.0), rng)
    # noise loses detail: neighbouring pixels move closer together
    assert np.abs(np.diff(blurred.astype(int), axis=1)).mean() < \
        0.7 * np.abs(np.diff(crop.astype(int), axis=1)).mean()
    with pytest.raises(ValueError, match="blur_p"):
        AugmentConfig(blur_p=2.0)


def test_photometric_keeps_a_landmark_where_it_is() -> None:
    """A bright dot stays the brightest spot under colour and blur: labels need no change."""
    rng = np.random.default_rng(1)
    crop = np.full((64, 64, 3), 60, np.uint8)
    crop[30:33, 40:43] = 250
    for _ in range(20):
        out = photometric(crop, AugmentConfig(colour_p=1.0, blur_p=1.0), rng)
        grey = out.astype(float).sum(axis=2)
        y, x = np.unravel_index(np.argmax(grey), grey.shape)
        assert abs(y - 31) <= 1 and abs(x - 41) <= 1
