"""Checkpoints hold weights plus the config that rebuilds the model; bad files fail clearly."""

import pytest
import torch

from gaussian_vector import checkpoint
from gaussian_vector.config import ModelConfig
from gaussian_vector.models import build_model


def test_save_and_load_rebuild_the_same_model(tmp_path):
    cfg = ModelConfig(input_size=64, num_landmarks=5, width_mult=0.5)
    model = build_model(cfg).eval()
    path = tmp_path / "m.pt"
    checkpoint.save(path, model, cfg, epoch=3)
    loaded, cfg2, raw = checkpoint.load(path)
    assert cfg2 == cfg and raw["epoch"] == 3
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(model(img), loaded(img), strict=True))


def test_missing_corrupt_and_foreign_files_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        checkpoint.load(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable"):
        checkpoint.load(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ValueError, match="format tag"):
        checkpoint.load(foreign)


@pytest.mark.parametrize("content", [b"garbage\n", b"PK\x03\x04" + bytes(200), b""])
def test_an_unreadable_checkpoint_is_one_short_line_naming_the_file(tmp_path, content):
    # torch.load's own errors run to a paragraph about its weights_only default
    bad = tmp_path / "junk.pt"
    bad.write_bytes(content)
    with pytest.raises(ValueError) as info:
        checkpoint.load(bad)
    msg = str(info.value)
    assert str(bad) in msg and "\n" not in msg and len(msg) - len(str(bad)) < 200, msg
    assert "weights_only" not in msg
