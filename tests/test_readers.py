"""Readers: .pts round trips and the 1-based -> 0-based rule, the 300-W folder layouts
(name_1/name_2), skipped corrupt files (warned, counted), the project split, WFLW and COFW."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaussian_vector.data import read_300w, read_pts, read_wflw, write_pts
from gaussian_vector.data.readers import cofw_points, read_name_list


def _jpg(path: Path, size: int = 64) -> None:
    cv2.imwrite(str(path), np.full((size, size, 3), 128, np.uint8))


def _pts(rng: np.random.Generator, n: int = 68) -> np.ndarray:
    return rng.uniform(0, 60, (n, 2)).astype(np.float32)


def test_pts_round_trip_and_one_based_conversion(tmp_path: Path) -> None:
    pts = _pts(np.random.default_rng(0))
    write_pts(tmp_path / "a.pts", pts)
    np.testing.assert_allclose(read_pts(tmp_path / "a.pts"), pts, atol=1e-3)
    (tmp_path / "b.pts").write_text("version: 1\nn_points: 2\n{\n1 1\n10.5 3\n}\n")
    np.testing.assert_allclose(read_pts(tmp_path / "b.pts"), [[0, 0], [9.5, 2]])
    with pytest.raises(ValueError, match="2 points, expected 68"):
        read_pts(tmp_path / "b.pts", 68)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("version: 1\nn_points: 3\n{\n1 1\n2 2\n}\n", "header says 3 points"),
        ("version: 1\nn_points: 1\n{\n1 x\n}\n", "non-numeric"),
        ("1 1\n2 2\n", "not a .pts file"),
        ("version: 1\nn_points: 1\n{\nnan 1\n}\n", "NaN or Inf"),
    ],
)
def test_bad_pts_files_are_value_errors_naming_the_file(tmp_path: Path, text: str,
                                                        match: str) -> None:
    p = tmp_path / "bad.pts"
    p.write_text(text)
    with pytest.raises(ValueError, match=match) as e:
        read_pts(p)
    assert "bad.pts" in str(e.value)


def test_300w_layouts_and_corrupt_files_skipped_with_warnings(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(1)
    _jpg(tmp_path / "group.jpg")  # official layout: several faces beside one image
    write_pts(tmp_path / "group_1.pts", _pts(rng))
    write_pts(tmp_path / "group_2.pts", _pts(rng))
    sub = tmp_path / "sub"
    sub.mkdir()
    _jpg(sub / "solo_1.jpg")  # shared-data layout: the image carries the face suffix
    write_pts(sub / "solo_1.pts", _pts(rng))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    write_pts(tmp_path / "broken.pts", _pts(rng))
    _jpg(tmp_path / "short.jpg")
    write_pts(tmp_path / "short.pts", _pts(rng, 5))
    write_pts(tmp_path / "orphan.pts", _pts(rng))
    with caplog.at_level(logging.WARNING):
        samples, summary = read_300w(tmp_path)
    assert sorted(s.name for s in samples) == ["group_1", "group_2", "solo_1"]
    assert {s.image.name for s in samples} == {"group.jpg", "solo_1.jpg"}
    assert summary.kept == 3 and len(summary.skipped) == 3
    for name in ("broken.jpg", "short.pts", "orphan.pts"):
        assert name in caplog.text
        assert any(name in what for what, _ in summary.skipped)
    assert str(summary) == "3 faces read, 3 skipped"
    only, _ = read_300w(tmp_path, names=["group_2"])
    assert [s.name for s in only] == ["group_2"]
    with pytest.raises(FileNotFoundError, match="data folder not found"):
        read_300w(tmp_path / "nope")


@pytest.mark.parametrize("side", [1, 5, 7, 8])
def test_images_under_8_px_are_read_or_skipped_never_an_opencv_assertion(
        tmp_path: Path, caplog, side: int) -> None:
    """OpenCV's 1/8-scale decode asserts on an image under 8 px: such an image is decoded whole,
    kept when its landmarks lie on it and skipped, named, when they do not."""
    cv2.imwrite(str(tmp_path / "tiny.png"), np.full((side, side, 3), 9, np.uint8))
    write_pts(tmp_path / "tiny.pts", np.full((68, 2), side / 2, np.float32))
    cv2.imwrite(str(tmp_path / "thumb.png"), np.full((side, side, 3), 9, np.uint8))
    write_pts(tmp_path / "thumb.pts", _pts(np.random.default_rng(2)) + 100)  # a photo's points
    with caplog.at_level(logging.WARNING):
        samples, summary = read_300w(tmp_path)
    assert [s.name for s in samples] == ["tiny"]
    ((what, why),) = summary.skipped
    assert what.endswith("thumb.png") and f"outside the {side}x{side} image" in why
    assert "thumb.png" in caplog.text


def test_landmarks_outside_a_large_image_name_its_exact_size(tmp_path: Path) -> None:
    _jpg(tmp_path / "a.jpg", 100)
    write_pts(tmp_path / "a.pts", _pts(np.random.default_rng(3)) + 500)
    _, summary = read_300w(tmp_path)
    assert "outside the 100x100 image" in summary.skipped[0][1]


def test_name_lists_ignore_extensions_comments_and_blanks(tmp_path: Path) -> None:
    f = tmp_path / "val.txt"
    f.write_text("a_1\n\n# comment\nb_2.jpg\nc.pts  # trailing\n")
    assert read_name_list(f) == ["a_1", "b_2", "c"]


def test_wflw_list_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    pts = rng.uniform(0, 100, (98, 2))
    good = " ".join(f"{v:.3f}" for v in pts.ravel()) + " 1 2 90 95 0 1 0 0 0 0 dir/img.jpg"
    (tmp_path / "list.txt").write_text(good + "\n1 2 3 short.jpg\n")
    samples, summary = read_wflw(tmp_path / "list.txt", tmp_path)
    assert len(samples) == 1 and len(summary.skipped) == 1
    np.testing.assert_allclose(samples[0].points, pts, atol=1e-3)
    assert samples[0].box == (1.0, 2.0, 90.0, 95.0)
    assert samples[0].image == tmp_path / "dir/img.jpg"


def test_cofw_phis_to_zero_based_points() -> None:
    phis = np.zeros((2, 87))
    phis[:, :29] = np.arange(1, 30)  # x, 1-based
    phis[:, 29:58] = 5
    pts = cofw_points(phis)
    assert pts.shape == (2, 29, 2)
    np.testing.assert_allclose(pts[0, :, 0], np.arange(29))
    np.testing.assert_allclose(pts[1, :, 1], 4)
    with pytest.raises(ValueError, match="COFW phis"):
        cofw_points(np.zeros((2, 30)))


def test_real_300w_folders_read_whole(data_root: Path, tmp_path: Path) -> None:
    samples, summary = read_300w(data_root / "300w/afw")
    assert summary.skipped == [] and len(samples) == 337
    first = samples[0]
    raw = (data_root / "300w/afw" / f"{first.name}.pts").read_text().split("{")[1].split()
    assert first.points[0, 0] == pytest.approx(float(raw[0]) - 1)
    img = cv2.imread(str(first.image))
    assert first.points.min() > -1 and first.points[:, 0].max() < img.shape[1]
    # a copy with one .pts cut short is read with that face skipped and named
    copy = tmp_path / "afw"
    shutil.copytree(data_root / "300w/afw", copy)
    (copy / f"{first.name}.pts").write_text("version: 1\nn_points: 68\n{\n1 2\n}\n")
    samples2, summary2 = read_300w(copy)
    assert len(samples2) == 336 and first.name in summary2.skipped[0][0]


def test_project_split(data_root: Path) -> None:
    from gaussian_vector.train import split_300w

    train, val, summary = split_300w(data_root)
    val_names = read_name_list(data_root / "300w/helen/val.txt")
    assert len(val) == len(val_names) == 100
    assert not {s.name for s in train} & set(val_names)
    assert len(train) == 337 + 870 - 100
