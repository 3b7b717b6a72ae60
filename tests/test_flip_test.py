"""The flip test (`gaussian_vector.flip_test`): a face read from its crop and from its mirror image,
the two readings merged. Merged readings of a photo and of its mirror are mirror images of each
other (exactly, when the model learned no flip shift), the model's flip shift is added back, and
gv-train writes the flip shift a model learns with into its config."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.affine import box_from_landmarks
from gaussian_vector.config import ModelConfig
from gaussian_vector.flip_test import FLIP_SHIFT_KEY, merge, mirror_crops, model_flip_shift
from gaussian_vector.schemes import get_scheme

SCHEME = get_scheme("300w68")
SAMPLES = Path(__file__).resolve().parents[1] / "python/gaussian_vector/samples"


def _config(flip_shift: float = 0.0) -> ModelConfig:
    return ModelConfig(extra={FLIP_SHIFT_KEY: flip_shift} if flip_shift else {})


def test_a_reading_merged_with_its_exact_mirror_is_itself() -> None:
    rng = np.random.default_rng(0)
    cfg = _config()
    xy = rng.uniform(5, 58, (3, 68, 2))
    conf = rng.uniform(0.5, 4, (3, 68))
    mirrored = SCHEME.flip_points(xy, cfg.output_size)  # what the mirror's reading would be
    merged, merged_conf = merge(xy, conf, mirrored, conf[:, list(SCHEME.flip_perm)], cfg)
    np.testing.assert_allclose(merged, xy, atol=1e-12)
    np.testing.assert_allclose(merged_conf, conf, atol=1e-12)


def test_merging_averages_the_plain_and_the_mirrored_reading() -> None:
    rng = np.random.default_rng(1)
    cfg = _config()
    xy = rng.uniform(5, 58, (2, 68, 2))
    other = xy + rng.normal(0, 1, xy.shape)
    conf = np.ones((2, 68))
    merged, _ = merge(xy, conf, SCHEME.flip_points(other, cfg.output_size), conf, cfg)
    np.testing.assert_allclose(merged, (xy + other) / 2, atol=1e-12)


def test_the_models_flip_shift_is_added_back_to_the_mirrors_reading() -> None:
    """A model trained with flip_shift s reads a mirrored face 2 s L (L: the landmarks' box's
    longer side) left of its plain reading, once mirrored back; the merge undoes exactly that."""
    rng = np.random.default_rng(2)
    cfg = _config(0.004)
    xy = rng.uniform(10, 50, (2, 68, 2))
    side = np.max(xy.max(axis=1) - xy.min(axis=1), axis=-1)
    back = xy.copy()
    back[..., 0] -= 2 * 0.004 * side[:, None]
    conf = np.ones((2, 68))
    merged, _ = merge(xy, conf, SCHEME.flip_points(back, cfg.output_size), conf, cfg)
    np.testing.assert_allclose(merged, xy, atol=1e-12)
    assert model_flip_shift(cfg) == 0.004 and model_flip_shift(_config()) == 0.0


def test_mismatched_readings_and_crops_that_are_not_a_batch_are_refused() -> None:
    cfg = _config()
    with pytest.raises(ValueError, match="do not match"):
        merge(np.zeros((2, 68, 2)), np.zeros((2, 68)), np.zeros((1, 68, 2)), np.zeros((1, 68)),
              cfg)
    with pytest.raises(ValueError, match=r"\(M, S, S, C\)"):
        mirror_crops(np.zeros((8, 8, 3)))
    crops = np.arange(2 * 4 * 4 * 3).reshape(2, 4, 4, 3)
    np.testing.assert_array_equal(mirror_crops(crops)[:, :, 0], crops[:, :, 3])


@pytest.mark.parametrize("flip_shift", [0.0, 0.004])
def test_a_mirrored_photo_reads_as_the_mirror_of_the_photo(flip_shift: float) -> None:
    """Plain readings of a photo and of its mirror disagree by up to pixels (the model is not
    mirror-symmetric); flip-test readings are exact mirror images of each other, apart from
    the model's flip shift, which moves every x by the same amount."""
    pytest.importorskip("ai_edge_litert")
    from gaussian_vector.data.readers import read_pts
    from gaussian_vector.image import load_image
    from gaussian_vector.runtime.landmarker import Landmarker

    image = load_image(SAMPLES / "einstein.jpg")
    points = read_pts(SAMPLES / "einstein.pts")
    width = image.shape[1]
    mirrored = np.ascontiguousarray(image[:, ::-1])
    box = box_from_landmarks(points)
    mirror_box = box_from_landmarks(SCHEME.flip_points(points, width))
    gaps = {}
    for flip_test in (False, True):
        lm = Landmarker.from_file("default", threads=1, flip_test=flip_test)
        lm.config = dataclasses.replace(lm.config, extra={FLIP_SHIFT_KEY: flip_shift})
        a = lm.detect(image, box)[0].landmarks
        b = lm.detect(mirrored, mirror_box)[0].landmarks
        gaps[flip_test] = SCHEME.flip_points(b, width) - a
    assert np.abs(gaps[False]).max() > 1.0  # the plain readings are not mirror images
    ft = gaps[True]
    np.testing.assert_allclose(ft[:, 1], 0, atol=1e-3)
    side = np.max(box[2:] - box[:2])
    # each reading keeps the annotators' offset s L to the right in its own image, so the
    # mirror's, mirrored back, sits 2 s L left of the photo's
    np.testing.assert_allclose(ft[:, 0], -2 * flip_shift * side, atol=0.02 * side * flip_shift
                               + 1e-3)


def test_gv_train_writes_the_flip_shift_it_learns_with_into_the_model_config() -> None:
    from gaussian_vector.cli.train import build_parser, recipe

    base = ["--out", "unused", "--epochs", "1"]
    shifted = recipe(build_parser().parse_args([*base, "--flip-shift", "0.004"]))[0]
    assert model_flip_shift(shifted) == 0.004
    assert model_flip_shift(recipe(build_parser().parse_args(base))[0]) == 0.0
    no_augment = build_parser().parse_args([*base, "--flip-shift", "0.004", "--no-augment"])
    assert model_flip_shift(recipe(no_augment)[0]) == 0.0
