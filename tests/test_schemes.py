"""Landmark schemes: flip permutations are involutions that swap left/right parts, and the
normalising points are where the scheme says (checked on real 300-W faces where present)."""

from __future__ import annotations

import numpy as np
import pytest

from gaussian_vector.schemes import SCHEMES, Scheme, get_scheme


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_flip_perm_is_an_involution_and_swaps_the_eyes(name: str) -> None:
    s = SCHEMES[name]
    perm = np.array(s.flip_perm)
    assert sorted(perm) == list(range(s.num_points))
    np.testing.assert_array_equal(perm[perm], np.arange(s.num_points))
    a, b = s.ion_points
    assert perm[a] == b and perm[b] == a
    assert sorted(perm[list(s.ipn_left)]) == sorted(s.ipn_right)


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_flipping_twice_is_identity_and_keeps_distances(name: str) -> None:
    s = SCHEMES[name]
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 100, (3, s.num_points, 2))
    once = s.flip_points(pts, width=120)
    np.testing.assert_allclose(s.flip_points(once, width=120), pts)
    np.testing.assert_allclose(s.interocular(once), s.interocular(pts))
    np.testing.assert_allclose(s.interpupil(once), s.interpupil(pts))


def test_lookup_by_name_or_count_and_bad_names() -> None:
    assert get_scheme(68).name == "300w68"
    assert get_scheme("98").name == "wflw98"
    assert get_scheme("cofw29").num_points == 29
    with pytest.raises(ValueError, match="no landmark scheme has 5 points"):
        get_scheme(5)
    with pytest.raises(ValueError, match="unknown landmark scheme"):
        get_scheme("helen194")


def test_a_non_involution_is_rejected() -> None:
    with pytest.raises(ValueError, match="not its own inverse"):
        Scheme("bad", 3, (1, 2, 0), (0, 1), (0,), (1,))


def test_300w_flip_maps_real_faces_onto_mirrored_faces(data_root) -> None:
    """Mirrored faces keep anatomy: the mean of many flipped faces is itself left-right
    consistent (jaw 0 left of jaw 16, eye 36 left of 45) and close to the unflipped mean."""
    from gaussian_vector.affine import box_from_landmarks
    from gaussian_vector.data import read_300w

    samples, _ = read_300w(data_root / "300w/afw", check_images=False)
    s = get_scheme("300w68")
    shapes = []
    for smp in samples[:80]:
        b = box_from_landmarks(smp.points)
        shapes.append((smp.points - b[:2]) / (b[2:] - b[:2]))  # unit box, width 1
    shapes = np.stack(shapes)
    flipped = s.flip_points(shapes, width=2.0)  # x -> 1 - x on the unit box
    mean, fmean = shapes.mean(0), flipped.mean(0)
    assert fmean[0, 0] < fmean[16, 0] and fmean[36, 0] < fmean[45, 0]
    assert fmean[48, 0] < fmean[54, 0]
    # the mean 300-W face is near symmetric, so a wrong pair moves its points off the mean
    assert np.abs(fmean - mean).max() < 0.05  # correct: 0.035; eye pairs off by one: 0.08
