"""bench/dlib_peer.py without dlib: its pairing with our gv-eval --detector JSON (misses, the
paired difference over the faces both found) and its one-line refusals. Running dlib itself is
optional and not tested here (docs/peers.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from gaussian_vector.data import read_300w
from gaussian_vector.metrics import nme_per_image

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "python/gaussian_vector/samples"


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("dlib_peer", REPO / "bench/dlib_peer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ours_json(found: dict[str, float], missed: list[str], min_iou: float = 0.3) -> dict:
    """What `gv-eval --detector --json` writes, reduced to what the script reads."""
    ion = list(found.values())
    return {"boxes": "detector", "model": "fake", "names": list(found), "per_image_ion": ion,
            "missed": missed, "nme_ion": float(np.mean(ion)), "nme_ipn": 0.0, "fr_0.1": 0.0,
            "auc_0.1": 0.5, "matching": {"min_iou": min_iou}}


def test_pairs_the_faces_both_found(peer) -> None:
    samples, _ = read_300w(SAMPLES)
    names = [s.name for s in samples]
    assert len(samples) == 2
    gt = np.stack([s.points for s in samples])
    dlib = gt + np.array([1.5, -0.5])  # every point off by the same shift
    dlib_ion = nme_per_image(dlib, gt, "300w68")
    # ours found only the first face, dlib both: the pair is the first face alone
    res = peer.compare(samples, ours_json({names[0]: 0.02}, [names[1]]), dlib, [0.7, 0.6], 0.3)
    assert res["ours"]["missed"] == [names[1]] and res["dlib"]["missed"] == []
    assert res["dlib"]["nme_ion"] == pytest.approx(dlib_ion.mean())
    assert res["dlib"]["mean_offset_px"] == pytest.approx([1.5, -0.5])
    both = res["both_found"]
    assert both["n"] == 1 and both["ours_minus_dlib"]["mean"] == pytest.approx(0.02 - dlib_ion[0])
    # dlib misses the second face: counted and listed, scored over the first only
    dlib[1] = np.nan
    res = peer.compare(samples, ours_json({n: 0.02 for n in names}, []), dlib, [0.7, 0.1], 0.3)
    assert res["dlib"]["missed"] == [names[1]] and res["dlib"]["found"] == 1
    assert res["dlib"]["nme_ion"] == pytest.approx(dlib_ion[0])
    assert res["both_found"]["n"] == 1


@pytest.mark.parametrize("ours, words", [
    (ours_json({"einstein": 0.02}, []), "covers other faces"),
    (ours_json({"einstein": 0.02, "takeo": 0.03}, [], min_iou=0.5), "use one threshold"),
])
def test_refuses_a_json_of_other_faces_or_rule(peer, ours, words) -> None:
    samples, _ = read_300w(SAMPLES)
    gt = np.stack([s.points for s in samples])
    with pytest.raises(ValueError, match=words):
        peer.compare(samples, ours, gt, [1.0, 1.0], 0.3)


def test_reads_only_an_end_to_end_json(peer, tmp_path: Path) -> None:
    f = tmp_path / "ours.json"
    for doc, words in (({"boxes": "landmarks", "names": []}, "not an end-to-end result"),
                       ({"models": {}, "comparison": []}, "one model")):
        f.write_text(json.dumps(doc))
        with pytest.raises(ValueError, match=words):
            peer.read_ours(f)
    f.write_text("{")
    with pytest.raises(ValueError, match="not a JSON file"):
        peer.read_ours(f)


def test_without_dlib_it_says_so_in_one_line(peer, tmp_path, capsys) -> None:
    if importlib.util.find_spec("dlib") is not None:
        pytest.skip("dlib is installed here")
    assert peer.main(["--data", str(SAMPLES), "--ours", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "needs dlib" in err and "docs/peers.md" in err and "Traceback" not in err
