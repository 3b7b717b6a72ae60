"""The face crop affine transform: geometry, inverse, and agreement with the image warp."""

import numpy as np
import pytest

from gaussian_vector import affine


def test_box_edges_map_to_crop_edges():
    m = affine.crop_transform([10, 20, 110, 70], size=64, enlarge=1.0)
    # Square of side 100 centred on (60, 45): its edges are at x = 10, 110 and y = -5, 95.
    u = affine.apply(m, [[10, -5], [110, 95], [60, 45]])
    np.testing.assert_allclose(u, [[-0.5, -0.5], [63.5, 63.5], [31.5, 31.5]], atol=1e-9)


def test_inverse_round_trips_with_augmentation():
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 300, (68, 2))
    m = affine.crop_transform([50, 60, 250, 240], 256, 1.3, rotation_deg=25, scale=0.8, flip=True)
    back = affine.apply(affine.invert(m), affine.apply(m, pts))
    assert np.abs(back - pts).max() < 1e-9


def test_flip_mirrors_about_the_crop_centre():
    box = [0, 0, 100, 100]
    m = affine.crop_transform(box, 64, 1.0)
    mf = affine.crop_transform(box, 64, 1.0, flip=True)
    p = np.array([[20.0, 30.0]])
    assert affine.apply(mf, p)[0, 0] == pytest.approx(63 - affine.apply(m, p)[0, 0])


def test_warp_moves_a_dot_where_the_transform_says():
    img = np.zeros((200, 300), np.uint8)
    img[90, 170] = 255
    m = affine.crop_transform([120, 40, 240, 160], 96, 1.2, rotation_deg=-15, scale=1.1)
    crop = affine.warp(img, m, 96)
    got = np.array(np.unravel_index(np.argmax(crop), crop.shape)[::-1], float)
    assert np.abs(got - affine.apply(m, [170, 90])).max() <= 1.0


def test_heatmap_and_crop_coordinates_are_inverse():
    u = np.array([0.0, 1.5, 255.0])
    assert affine.crop_to_heatmap(u).tolist() == pytest.approx([-0.375, 0.0, 63.375])
    assert affine.heatmap_to_crop(affine.crop_to_heatmap(u)).tolist() == pytest.approx(u.tolist())


@pytest.mark.parametrize(
    "box, match",
    [([0, 0, 0, 10], "no area"), ([0, 0, 10], "4 finite"), ([0, 0, np.nan, 5], "4 finite")],
)
def test_bad_boxes_raise_value_error(box, match):
    with pytest.raises(ValueError, match=match):
        affine.crop_transform(box, 64)


def test_singular_transform_cannot_be_inverted():
    with pytest.raises(ValueError, match="singular"):
        affine.invert(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="singular"):
        affine.invert([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]])  # rank 1, entries of size 1


def test_a_very_large_box_is_a_small_scale_not_a_singular_transform():
    # 256 px from a box a billion pixels wide: the scale is tiny, the matrix well conditioned
    m = affine.crop_transform([0, 0, 1e9, 1e9], 256)
    back = affine.invert(m)
    p = np.array([3e8, 7e8])
    crop = m[:, :2] @ p + m[:, 2]
    np.testing.assert_allclose(back[:, :2] @ crop + back[:, 2], p, rtol=1e-9)


def test_warp_through_the_sampled_part_equals_opencv_on_the_whole_image() -> None:
    """The RGBA-of-the-sampled-part path gives OpenCV's 3-channel warp of the whole image (to
    one grey level, its kernels round differently), rotated, scaled, at the borders and off
    the image."""
    import cv2

    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), (0, 0), 1.0)
    for _ in range(100):
        angle, scale = rng.uniform(-np.pi, np.pi), rng.uniform(0.2, 4.0)
        c, s = scale * np.cos(angle), scale * np.sin(angle)
        m = np.array([[c, -s, rng.uniform(-600, 400)], [s, c, rng.uniform(-600, 400)]])
        ours = affine.warp(img, m, 64)
        ref = cv2.warpAffine(img, m, (64, 64), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        diff = np.abs(ours.astype(int) - ref)
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    far = np.array([[1.0, 0.0, 5000.0], [0.0, 1.0, 5000.0]])
    assert not affine.warp(img, far, 32).any()
