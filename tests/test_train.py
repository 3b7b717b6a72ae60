"""Training: a few steps lower the loss (both heads, real faces, tiny models), the LR schedule
has its shape, AWing weights the peaks, and a run writes its log and resumes where it stopped."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from gaussian_vector.config import ModelConfig
from gaussian_vector.data.augment import NO_AUGMENT
from gaussian_vector.train import TrainConfig, loss_fn, lr_factor, strip_checkpoint, train

TINY = {"input_size": 64, "width_mult": 0.5, "decoder_channels": 16}


@pytest.fixture(scope="module")
def faces(data_root):
    from gaussian_vector.data import read_300w

    samples, _ = read_300w(data_root / "300w/afw", check_images=False)
    return samples[:24]


@pytest.mark.parametrize("head", ["gv", "heatmap"])
def test_a_few_steps_lower_the_loss(faces, head: str) -> None:
    from torch.utils.data import DataLoader

    from gaussian_vector.data.dataset import LandmarkDataset
    from gaussian_vector.models import build_model

    torch.manual_seed(0)
    torch.set_num_threads(2)
    cfg = ModelConfig(head=head, **TINY)
    model = build_model(cfg).train()
    batch = next(iter(DataLoader(LandmarkDataset(faces[:8], cfg, NO_AUGMENT), batch_size=8)))
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    losses = []
    for _ in range(12):
        loss = loss_fn(model(batch["image"]), batch, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.92 * np.mean(losses[:3])


def test_lr_schedule_warms_up_then_decays_to_the_floor() -> None:
    f = [lr_factor(s, 100, 10, 0.01) for s in range(101)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[10:], f[11:], strict=False))
    assert f[100] == pytest.approx(0.01)


def test_awing_weights_errors_near_the_peaks_more() -> None:
    cfg = ModelConfig(head="heatmap", **TINY)
    target = torch.zeros(1, 1, 16, 16)
    target[0, 0, 8, 8] = 1.0
    near = target.clone()
    near[0, 0, 8, 8] = 0.5  # the same squared error at the peak ...
    far = target.clone()
    far[0, 0, 0, 0] = 0.5  # ... and far from it
    b = {"heatmap": target}
    assert loss_fn(near, b, cfg, 10.0) > loss_fn(far, b, cfg, 10.0)
    assert loss_fn(near, b, cfg) == pytest.approx(loss_fn(far, b, cfg).item())


def test_awing_weights_vector_errors_near_the_peak_and_its_neighbours_more() -> None:
    cfg = ModelConfig(head="gv", **TINY)
    x = torch.zeros(1, 1, 16)
    x[0, 0, 8] = 4.0  # raised peak
    x[0, 0, 7] = x[0, 0, 9] = 0.3  # the >= 0.2 region; its dilation reaches 6 and 10
    y = x.clone()
    b = {"x": x, "y": y}

    def loss_with_error_at(i: int, w: float) -> float:
        out = x.clone()
        out[0, 0, i] += 0.5
        return loss_fn((out, y), b, cfg, w).item()

    # weighted: 11x inside the dilated region (6..10), 1x outside
    assert loss_with_error_at(10, 10.0) == pytest.approx(11 * loss_with_error_at(11, 10.0))
    assert loss_with_error_at(8, 10.0) == pytest.approx(loss_with_error_at(6, 10.0))
    assert loss_with_error_at(8, 0.0) == pytest.approx(loss_with_error_at(0, 0.0))


def test_run_logs_checkpoints_and_resumes(faces, tmp_path) -> None:
    from gaussian_vector import checkpoint

    cfg = ModelConfig(**TINY)
    tc = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=2, threads=2, progress=False)
    train(cfg, tc, faces[:16], faces[16:20], tmp_path)
    log = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1]
    assert {"nme_ion", "nme_ipn", "fr_0.1", "auc_0.1", "train_loss"} <= set(log[0])
    tc.epochs = 2
    data = {"root": "somewhere", "youtube": True, "youtube_labels": "aligned"}
    train(cfg, tc, faces[:16], faces[16:20], tmp_path, data=data)  # resumes: epoch 2 only
    written = json.loads((tmp_path / "train_config.json").read_text())
    assert written["data"] == data and written["n_train"] == 16
    log = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]
    raw = checkpoint.load_raw(tmp_path / "last.pt")
    assert raw["epoch"] == 2 and "optimizer" in raw["train_state"]
    strip_checkpoint(tmp_path / "last.pt", tmp_path / "shipped.pt")
    model, config, payload = checkpoint.load(tmp_path / "shipped.pt")
    assert "train_state" not in payload and config == cfg
    from gaussian_vector.cli.train import main as train_main

    png = tmp_path / "conv.png"
    assert train_main(["--plot-convergence", str(png), "--runs", f"gv={tmp_path}"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit):
        train_main(["--plot-convergence", str(png), "--runs", f"gv={tmp_path / 'nope'}"])
    with pytest.raises(ValueError, match="another model config"):
        train(ModelConfig(head="heatmap", **TINY), tc, faces[:16], faces[16:20], tmp_path)


def test_init_from_starts_a_new_run_from_another_checkpoints_weights(faces, tmp_path) -> None:
    from gaussian_vector import checkpoint

    cfg = ModelConfig(**TINY)
    moving = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=2, threads=2,
                         progress=False, lr=1e-2, min_lr=1e-2, warmup_epochs=0)
    train(cfg, moving, faces[:8], faces[8:12], tmp_path / "a")
    src = checkpoint.load_raw(tmp_path / "a/last.pt")["state_dict"]
    # lr ~ 0: after its step the new run still holds the source's trained weights (which a fresh
    # init with the same seed does not)
    tc = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=1, threads=2, progress=False,
                     lr=1e-9, min_lr=1e-9)
    train(cfg, tc, faces[:8], faces[8:12], tmp_path / "b", init_from=tmp_path / "a/last.pt")
    train(cfg, tc, faces[:8], faces[8:12], tmp_path / "fresh")
    got = checkpoint.load_raw(tmp_path / "b/last.pt")["state_dict"]
    fresh = checkpoint.load_raw(tmp_path / "fresh/last.pt")["state_dict"]
    key = next(k for k, v in src.items() if v.dtype.is_floating_point and v.numel() > 100)
    torch.testing.assert_close(got[key], src[key], atol=1e-6, rtol=0)
    assert (fresh[key] - src[key]).abs().max() > 1e-4
    got = checkpoint.load_raw(tmp_path / "b/last.pt")
    assert got["epoch"] == 1  # a new schedule: epoch counting starts over
    cfg_json = json.loads((tmp_path / "b/train_config.json").read_text())
    assert cfg_json["init_from"].endswith("last.pt")
    with pytest.raises(ValueError, match="another model config"):
        train(ModelConfig(head="heatmap", **TINY), tc, faces[:8], faces[8:12], tmp_path / "c",
              init_from=tmp_path / "a/last.pt")
    with pytest.raises(FileNotFoundError):
        train(cfg, tc, faces[:8], faces[8:12], tmp_path / "d", init_from=tmp_path / "nope.pt")
    # the input size has no weights: fine-tuning at another size keeps the source's
    other = replace(cfg, input_size=cfg.input_size + 32)
    train(other, tc, faces[:8], faces[8:12], tmp_path / "e", init_from=tmp_path / "a/last.pt")
    resized = checkpoint.load_raw(tmp_path / "e/last.pt")
    assert resized["config"]["input_size"] == cfg.input_size + 32
    torch.testing.assert_close(resized["state_dict"][key], src[key], atol=1e-6, rtol=0)
    # nor has the crop: a fine-tune with a tighter one starts from the source's weights
    tighter = replace(cfg, enlarge=1.15)
    train(tighter, tc, faces[:8], faces[8:12], tmp_path / "g", init_from=tmp_path / "a/last.pt")
    cropped = checkpoint.load_raw(tmp_path / "g/last.pt")
    assert cropped["config"]["enlarge"] == 1.15
    torch.testing.assert_close(cropped["state_dict"][key], src[key], atol=1e-6, rtol=0)


def test_init_from_into_a_folder_with_a_run_is_refused_not_ignored(faces, tmp_path) -> None:
    """--init-from on a folder holding last.pt used to resume that run and drop --init-from
    without a word; it is refused before anything is touched (--no-resume starts over)."""
    from gaussian_vector import checkpoint

    tc = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=1, threads=2, progress=False)
    train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "src")
    train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "run")
    before = (tmp_path / "run/last.pt").read_bytes()
    with pytest.raises(ValueError, match=r"already holds a run \(last.pt\).*--no-resume"):
        train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "run",
              init_from=tmp_path / "src/last.pt")
    assert (tmp_path / "run/last.pt").read_bytes() == before
    train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "run", resume=False,
          init_from=tmp_path / "src/last.pt")
    assert checkpoint.load_raw(tmp_path / "run/last.pt")["epoch"] == 1


def test_the_same_init_from_command_resumes_its_own_run(faces, tmp_path) -> None:
    """Re-running the command that started a fine-tune resumes it (its --init-from is where
    that run began), instead of refusing or starting over."""
    from gaussian_vector import checkpoint

    tc = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=1, threads=2, progress=False)
    train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "src")
    src = tmp_path / "src/last.pt"
    train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path / "ft", init_from=src)
    more = replace(tc, epochs=2)
    train(ModelConfig(**TINY), more, faces[:8], faces[8:12], tmp_path / "ft", init_from=src)
    assert checkpoint.load_raw(tmp_path / "ft/last.pt")["epoch"] == 2
    log = [json.loads(line) for line in (tmp_path / "ft/log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]  # epoch 1 ran once: resumed, not restarted


def test_gv_train_rejects_a_bad_box_file_before_training(data_root, tmp_path, capsys) -> None:
    from gaussian_vector.cli.train import main as train_main

    bad = tmp_path / "boxes.txt"
    bad.write_text("image_1 10 10 5 50\n")
    assert train_main(["--data", str(data_root), "--boxes-file", str(bad),
                       "--out", str(tmp_path / "run")]) == 2
    assert "x1 > x0" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()



@pytest.mark.parametrize("missing", ["helen/val.txt", "afw"])
def test_gv_train_on_a_data_folder_missing_part_of_the_layout_is_one_line(tmp_path, capsys,
                                                                          missing) -> None:
    from gaussian_vector.cli.train import main as train_main

    for part in ("300w/afw", "300w/helen/trainset"):
        (tmp_path / part).mkdir(parents=True)
    (tmp_path / "300w/helen/val.txt").write_text("image_1\n")
    target = tmp_path / "300w" / missing
    target.unlink() if target.is_file() else target.rmdir()
    assert train_main(["--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("gv-train: ") and str(target) in line, line

def test_worker_processes_give_the_same_run_as_the_training_process(data_root, tmp_path) -> None:
    """Augmentation draws depend on (seed, epoch, index) only, so loading in workers changes
    nothing: the same losses and metrics, epoch for epoch. Run in a fresh interpreter: the
    workers fork, and this test process may hold other libraries' threads (JAX's)."""
    import subprocess
    import sys

    code = f"""
import json, sys
from gaussian_vector.config import ModelConfig
from gaussian_vector.data import read_300w
from gaussian_vector.train import TrainConfig, train
faces, _ = read_300w({str(data_root / "300w/afw")!r}, check_images=False)
out = {str(tmp_path)!r} + "/w" + sys.argv[1]
tc = TrainConfig(epochs=2, batch_size=4, max_steps_per_epoch=3, threads=2,
                 workers=int(sys.argv[1]), progress=False)
train(ModelConfig(**{TINY!r}), tc, faces[:16], faces[16:20], out)
"""
    logs = []
    for workers in (0, 2):
        subprocess.run([sys.executable, "-c", code, str(workers)], check=True, timeout=300)
        log = (tmp_path / f"w{workers}/log.jsonl").read_text()
        recs = [json.loads(x) for x in log.splitlines()]
        logs.append([(r["train_loss"], r["nme_ion"]) for r in recs])
    assert len(logs[0]) == 2 and logs[0] == logs[1]


def test_workers_default_to_none_on_a_cpu_and_a_few_on_a_gpu(tmp_path) -> None:
    from gaussian_vector.train import default_workers

    assert default_workers("cpu", cores=16) == 0
    assert default_workers("cuda", cores=16) == 4
    assert default_workers("cuda", cores=2) == 1
    with pytest.raises(ValueError, match="workers must be 0 or more"):
        TrainConfig(workers=-1, device="cpu")


@pytest.mark.parametrize("flags, words", [
    (["--epochs", "0"], "epochs must be 1 or more"),
    (["--batch-size", "0"], "batch_size must be 1 or more"),
    (["--lr", "-1"], "lr must be a finite number > 0"),
    (["--lr", "nan"], "lr must be a finite number > 0"),
    (["--lr", "1e-3", "--min-lr", "1e-2"], "min_lr must be in [0, lr = 0.001]"),
    (["--warmup-epochs", "-1"], "warmup_epochs must be 0 or more"),
    (["--awing", "-10"], "awing_weight must be 0 or more"),
    (["--shift", "2"], "shift is a fraction of the crop side in [0, 0.5]"),
    (["--threads", "-1"], "threads must be 0 (all cores) or more"),
    (["--workers", "-1"], "workers must be 0 or more"),
    (["--device", "gpu"], "device must be cpu, cuda"),
    (["--input-size", "100"], "input_size must be a multiple of 32"),
    (["--enlarge", "0.9"], "enlarge must be a finite number >= 1"),
    (["--enlarge", "nan"], "enlarge must be a finite number >= 1"),
    (["--arch", "resnet"], "arch must be one of"),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_gv_train_refuses_a_recipe_that_cannot_train_in_one_line(tmp_path, capsys, flags,
                                                                   words) -> None:
    from gaussian_vector.cli.train import main as train_main

    # no data needed: the recipe is checked before the data is read
    run = tmp_path / "run"
    assert train_main(["--data", str(tmp_path / "absent"), "--out", str(run), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gv-train: ") and words in err and "Traceback" not in err, err
    assert not run.exists()


def test_an_empty_split_is_refused_before_anything_is_written(faces, tmp_path) -> None:
    for train_s, val_s, words in (([], faces[:2], "no training faces"),
                                  (faces[:2], [], "no validation faces")):
        with pytest.raises(ValueError, match=words):
            train(ModelConfig(**TINY), TrainConfig(device="cpu"), train_s, val_s, tmp_path / "r")
        assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing to refuse")
def test_asking_for_cuda_without_it_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="no usable CUDA device"):
        train(ModelConfig(**TINY), TrainConfig(device="cuda"), [], [], tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_plot_convergence_names_a_log_line_it_cannot_read(tmp_path, capsys) -> None:
    from gaussian_vector.cli.train import main as train_main

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "log.jsonl").write_text('{"epoch": 1, "nme_ion": 0.5}\nnot json\n')
    with pytest.raises(SystemExit):
        train_main(["--plot-convergence", str(tmp_path / "c.png"), "--runs",
                    f"a={tmp_path / 'run'}"])
    assert "log.jsonl:2 is not a gv-train log record" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_training_logs_validation_error_in_percent_as_gv_eval_prints_it(faces, tmp_path,
                                                                       caplog) -> None:
    """gv-train logged 'val ION 0.0346' where gv-eval prints 'ION 3.46%': one format now."""
    import logging

    from gaussian_vector.metrics import format_summary

    assert format_summary({"nme_ion": 0.0346, "nme_ipn": 0.0481, "fr_0.1": 0.0,
                           "auc_0.1": 0.654}) == "ION 3.46% IPN 4.81% FR@0.1 0.0% AUC@0.1 0.6540"
    tc = TrainConfig(epochs=1, batch_size=4, max_steps_per_epoch=1, threads=2, progress=False)
    with caplog.at_level(logging.INFO, logger="gaussian_vector.train"):
        best = train(ModelConfig(**TINY), tc, faces[:8], faces[8:12], tmp_path)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch 1:")]
    assert f" val {format_summary(best)} (" in line, line


def test_init_from_takes_its_sources_input_scaling_and_padding(tmp_path) -> None:
    """A run started from a --pretrained run's checkpoint keeps that checkpoint's (x - 128) / 127
    scaling and SAME padding; before, gv-train refused it as 'another model config' and no
    option could say otherwise."""
    from gaussian_vector import checkpoint
    from gaussian_vector.cli.train import build_parser, recipe
    from gaussian_vector.config import TF_MEAN, TF_STD, ModelConfig
    from gaussian_vector.models import build_model

    src = ModelConfig(input_size=64, padding="tf", mean=TF_MEAN, std=TF_STD)
    checkpoint.save(tmp_path / "src.pt", build_model(src), src)
    args = build_parser().parse_args(["--out", str(tmp_path / "run"), "--input-size", "64",
                                      "--init-from", str(tmp_path / "src.pt")])
    mc, _ = recipe(args)
    assert (mc.padding, mc.mean, mc.std) == ("tf", TF_MEAN, TF_STD)
    assert mc == src
    plain = build_parser().parse_args(["--out", str(tmp_path / "run"), "--input-size", "64"])
    assert recipe(plain)[0].padding == "torch"
    missing = build_parser().parse_args(["--out", "x", "--init-from", str(tmp_path / "no.pt")])
    with pytest.raises(ValueError, match="--init-from"):
        recipe(missing)
