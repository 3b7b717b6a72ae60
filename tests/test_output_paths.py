"""Output paths are checked before the work: an unwritable --json, --plot, --draw or --out is
one line naming the option, and the command has not run its model yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from gaussian_vector.console.outputs import prepare_outputs

SAMPLES = Path(__file__).resolve().parents[1] / "python/gaussian_vector/samples"


@pytest.fixture()
def blocked(tmp_path) -> Path:
    """A path under a regular file: no folder can ever be made there."""
    f = tmp_path / "a_file"
    f.write_text("in the way")
    return f / "sub"


def test_prepare_outputs_makes_parents_and_names_what_cannot_be_written(tmp_path, blocked):
    assert prepare_outputs({"--json": tmp_path / "new/deeper/r.json"}) is None
    assert (tmp_path / "new/deeper").is_dir()
    assert prepare_outputs({"--json": None}, {"--draw": None}) is None
    msg = prepare_outputs({"--json": blocked / "r.json"})
    assert msg.startswith("--json ") and "cannot create the folder" in msg
    msg = prepare_outputs(folders={"--draw": blocked})
    assert msg.startswith("--draw ") and "cannot create the folder" in msg
    (tmp_path / "d").mkdir()
    assert "is a folder, not a file" in prepare_outputs({"--plot": tmp_path / "d"})


def _run(main, argv, capsys) -> tuple[int, str]:
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's parser.error
        rc = e.code
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("command", ["infer-json", "infer-draw", "eval-json", "eval-plot",
                                     "train-out", "export-json", "bench-json"])
def test_every_command_refuses_an_unwritable_output_before_working(command, blocked, capsys,
                                                                    monkeypatch):
    from gaussian_vector.runtime import Landmarker

    # the model must never be opened: the output check comes first
    monkeypatch.setattr(Landmarker, "from_file", classmethod(
        lambda *a, **k: pytest.fail("the model was opened before the output was checked")))
    if command.startswith("infer"):
        from gaussian_vector.cli.infer import main
        opt = "--json" if command == "infer-json" else "--draw"
        argv = [str(SAMPLES / "takeo.ppm"), opt, str(blocked / "x.json")]
    elif command.startswith("eval"):
        from gaussian_vector.cli.evaluate import main
        opt = "--json" if command == "eval-json" else "--plot"
        argv = ["--model", "default", "--data", str(SAMPLES), opt, str(blocked / "x")]
    elif command == "train-out":
        from gaussian_vector.cli.train import main
        opt = "--out"
        data = blocked.parent.parent / "data"
        (data / "300w").mkdir(parents=True)  # an (empty) data folder: the check is before reading
        argv = ["--out", str(blocked / "run"), "--data", str(data)]
    elif command == "export-json":
        pytest.importorskip("torch")
        from gv_export.cli import main
        opt = "--json"
        argv = ["default", "--target", "onnx", "--json", str(blocked / "x.json")]
    else:
        from gv_bench.compare import main
        opt = "--json"
        argv = ["--json", str(blocked / "x.json"), "--no-npu"]
    rc, err = _run(main, argv, capsys)
    assert rc in (1, 2) and f"{opt} " in err and "cannot create the folder" in err, err
    assert "Traceback" not in err


@pytest.fixture()
def unwritable(tmp_path) -> Path:
    """An existing folder in which no file can be created: read-only by its mode bits, or (for
    root, whom mode bits do not stop and os.access waves through) sysfs."""
    import os

    d = tmp_path / "read_only"
    d.mkdir()
    d.chmod(0o500)
    try:
        (d / "probe").touch()
    except OSError:
        return d
    for candidate in (Path("/sys"), Path("/proc")):
        if candidate.is_dir() and os.access(candidate, os.W_OK):
            try:
                (candidate / ".gv-probe").touch()
            except OSError:
                return candidate
    pytest.skip("no folder here refuses new files to this user")


def test_an_unwritable_existing_folder_is_named_even_for_root(unwritable):
    msg = prepare_outputs({"--json": unwritable / "r.json"})
    assert msg.startswith(f"--json {unwritable / 'r.json'}: cannot write in the folder")


@pytest.mark.parametrize("as_folder", [True, False])
def test_export_output_in_an_unwritable_folder_fails_before_converting(unwritable, as_folder,
                                                                         capsys, monkeypatch):
    pytest.importorskip("torch")
    import gv_export.exporter
    from gv_export.cli import main

    monkeypatch.setattr(gv_export.exporter, "export", lambda *a, **k: pytest.fail(
        "the export ran before its output folder was checked"))
    out = f"{unwritable}/" if as_folder else str(unwritable / "m.onnx")
    rc, err = _run(main, ["default", "--target", "onnx", "-o", out], capsys)
    assert rc == 1 and "gv-export: error: --output " in err and "cannot write in" in err, err


def test_bench_cache_that_cannot_be_written_is_one_line(unwritable, blocked, capsys):
    from gv_bench.compare import main

    for cache in (blocked, unwritable):
        rc, err = _run(main, ["--cache", str(cache), "--no-npu", "--formats", "onnx-fp32"],
                       capsys)
        assert rc == 2 and err.startswith("gv-bench: error: --cache ") and "Traceback" not in err
