"""`gv-bench video`: the three modes side by side on a synthetic video, with the figures the
issue's targets read (fps, detector runs, NME, misses, jitter), the sweep and the chart."""

from __future__ import annotations

import json
from pathlib import Path

from gv_bench.cli import main


def test_video_bench_reports_every_mode_and_writes_its_chart(tmp_path: Path, capsys) -> None:
    out, png = tmp_path / "v.json", tmp_path / "v.png"
    rc = main(["video", "--data", str(tmp_path / "none"), "--frames", "16", "--cut-every", "8",
               "--sweep", "--json", str(out), "--png", str(png)])
    assert rc == 2  # a data folder that is not there is one clear line
    assert "data folder not found" in capsys.readouterr().err
    rc = main(["video", "--frames", "16", "--cut-every", "8", "--faces", "2", "--sweep",
               "--json", str(out), "--png", str(png), "--samples"])
    assert rc == 0
    res = json.loads(out.read_text())
    modes = res["modes"]
    assert list(modes) == ["detect", "track raw", "track"]
    assert modes["detect"]["detector_runs"] == 16
    assert modes["track"]["detector_runs"] == 2  # the first frame and the cut
    assert all(m["missed"] == 0 and 0 < m["nme"] < 0.1 and m["jitter"] > 0
               for m in modes.values())
    assert len(res["sweep"]) == 24 and {r["frame"] for r in res["sweep"]} == {"face", "image"}
    assert png.stat().st_size > 10_000
    assert "track / detect: fps" in capsys.readouterr().out
