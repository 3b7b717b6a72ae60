"""Label offsets (`data.label_offsets`): the per-landmark median of reading - label, written and
read back as JSON (a bad file is one line naming it), added to one source's labels only: the
YouTube frames' in the project split, the 300-W faces untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.data import label_offsets
from gaussian_vector.data.readers import Sample


def test_the_offsets_are_the_per_landmark_median_of_reading_minus_label() -> None:
    rng = np.random.default_rng(0)
    labels = rng.uniform(0, 100, (9, 68, 2))
    shift = rng.normal(0, 1, (68, 2))
    readings = labels + shift + rng.normal(0, 0.01, labels.shape)
    readings[0] += 50  # one outlier face moves a median by nothing
    np.testing.assert_allclose(label_offsets.measure(readings, labels), shift, atol=0.03)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        label_offsets.measure(readings[:, :10], labels)


def test_written_offsets_read_back_and_a_bad_file_is_one_line_naming_it(tmp_path: Path) -> None:
    offsets = np.random.default_rng(1).normal(0, 1, (68, 2))
    path = tmp_path / "o.json"
    label_offsets.write(path, offsets, model="m", faces=3)
    assert json.loads(path.read_text())["model"] == "m"
    np.testing.assert_allclose(label_offsets.read(path, 68), offsets, atol=5e-4)
    with pytest.raises(ValueError, match=r"o.json: 5 finite"):
        label_offsets.read(path, 5)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"o.json: not a label-offsets file"):
        label_offsets.read(path, 68)
    path.write_text(json.dumps({"offsets_px": [[0, float("nan")]] * 68}))
    with pytest.raises(ValueError, match="finite"):
        label_offsets.read(path, 68)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        label_offsets.read(tmp_path / "nope.json", 68)


def test_align_moves_every_landmark_by_its_offset() -> None:
    pts = np.arange(136, dtype=np.float64).reshape(68, 2)
    offsets = np.tile([0.5, -1.0], (68, 1))
    (moved,) = label_offsets.align([Sample(Path("a.jpg"), pts, "a")], offsets)
    np.testing.assert_array_equal(moved.points, pts + offsets)
    with pytest.raises(ValueError, match="a: 68 points, offsets for 5"):
        label_offsets.align([Sample(Path("a.jpg"), pts, "a")], offsets[:5])


def test_the_shipped_youtube_offsets_are_right_of_and_below_300w() -> None:
    """The YouTube labels sit right of and below where a 300-W model reads the points, so the
    shipped offsets (reading - label) are negative on average on both axes."""
    o = label_offsets.youtube_offsets()
    x, y = o.mean(axis=0)
    assert -1.5 < x < -0.3 and -1.0 < y < 0.0, (x, y)


@pytest.fixture
def small_layout(data_root: Path, tmp_path: Path) -> Path:
    """The data layout with 2 AFW faces, 3 HELEN faces (one the validation split) and 2 YouTube
    frames, copied from the data folder."""
    parts = {"300w/afw": 2, "300w/helen/trainset": 3, "youtube-faces/trainset": 2}
    for part, n in parts.items():
        (tmp_path / part).mkdir(parents=True)
        for pts in sorted((data_root / part).glob("*.pts"))[:n]:
            for f in (pts, *[p for p in pts.parent.glob(pts.stem + ".*") if p != pts]):
                shutil.copy(f, tmp_path / part)
    val = sorted((tmp_path / "300w/helen/trainset").glob("*.pts"))[0].stem
    (tmp_path / "300w/helen/val.txt").write_text(val + "\n")
    return tmp_path


def test_the_split_aligns_the_youtube_frames_and_leaves_300w_as_it_is(small_layout: Path) -> None:
    from gaussian_vector.train import split_300w

    tmp_path = small_layout
    offsets = np.tile([0.25, -0.5], (68, 1))
    plain, val_plain, _ = split_300w(tmp_path, youtube=True)
    moved, val_moved, _ = split_300w(tmp_path, youtube=True, youtube_offsets=offsets)
    assert [s.name for s in plain] == [s.name for s in moved] and len(plain) == 6
    youtube = {p.stem for p in (tmp_path / "youtube-faces/trainset").glob("*.pts")}
    for a, b in zip(plain, moved, strict=True):
        want = a.points + offsets if a.name in youtube else a.points
        np.testing.assert_array_equal(b.points, want)
    np.testing.assert_array_equal(val_plain[0].points, val_moved[0].points)
    assert len(split_300w(tmp_path)[0]) == 4  # no --youtube: no frames


@pytest.mark.parametrize("labels", ["aligned", "as-given"])
def test_gv_train_youtube_labels_picks_the_shipped_offsets_or_none(small_layout: Path,
                                                                   labels: str) -> None:
    from gaussian_vector.cli.train import build_parser, training_faces
    from gaussian_vector.train import split_300w

    args = build_parser().parse_args(["--out", "unused", "--youtube", "--youtube-labels", labels])
    got, _ = training_faces(args, small_layout)
    offsets = (label_offsets.youtube_offsets() if labels == "aligned"
               else None)
    want, _, _ = split_300w(small_layout, youtube=True, youtube_offsets=offsets)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.points, b.points)
    assert build_parser().parse_args(["--out", "x"]).youtube_labels == "aligned"
    from gaussian_vector.cli.train import data_options

    recorded = data_options(args, small_layout)
    assert recorded["youtube"] is True and recorded["youtube_labels"] == labels
