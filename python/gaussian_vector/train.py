"""Training loop for GV and the heatmap baseline: Adam, warm-up + cosine LR, resumable
checkpoints, per-epoch validation NME as JSON lines, fixed seed, all cores, GPU when present."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from . import checkpoint
from .config import ModelConfig
from .data import label_offsets
from .data.augment import AugmentConfig
from .data.dataset import LandmarkDataset
from .data.readers import ReadSummary, Sample, read_300w, read_name_list
from .evaluate import decode_outputs, evaluate, infer_torch
from .heads import head_of
from .metrics import format_summary

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """The recipe: everything that is not the model itself."""

    epochs: int = 60
    batch_size: int = 16
    lr: float = 2e-3
    min_lr: float = 1e-5
    warmup_epochs: float = 1.0
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 0  # 0 = all cores
    workers: int | None = None  # DataLoader worker processes; None = auto (default_workers)
    awing_weight: float = 0.0  # AWing weight-map factor on the targets (paper: 10); 0 = plain MSE
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    device: str = ""  # "" = cuda if available else cpu
    max_steps_per_epoch: int = 0  # 0 = full epochs (tests use a few steps)
    progress: bool = True

    def __post_init__(self) -> None:
        """Refuse a recipe that cannot train, naming the field, before any work is done."""
        def need(ok: bool, what: str, value: object) -> None:
            if not ok:
                raise ValueError(f"{what}, got {value!r}")

        need(self.epochs >= 1, "epochs must be 1 or more", self.epochs)
        need(self.batch_size >= 1, "batch_size must be 1 or more", self.batch_size)
        need(math.isfinite(self.lr) and self.lr > 0, "lr must be a finite number > 0", self.lr)
        need(0 <= self.min_lr <= self.lr, f"min_lr must be in [0, lr = {self.lr:g}]", self.min_lr)
        need(math.isfinite(self.warmup_epochs) and self.warmup_epochs >= 0,
             "warmup_epochs must be 0 or more", self.warmup_epochs)
        need(math.isfinite(self.weight_decay) and self.weight_decay >= 0,
             "weight_decay must be 0 or more", self.weight_decay)
        need(math.isfinite(self.awing_weight) and self.awing_weight >= 0,
             "awing_weight must be 0 or more", self.awing_weight)
        need(self.threads >= 0, "threads must be 0 (all cores) or more", self.threads)
        need(self.workers is None or self.workers >= 0, "workers must be 0 or more", self.workers)
        need(self.max_steps_per_epoch >= 0, "max_steps_per_epoch must be 0 (no cap) or more",
             self.max_steps_per_epoch)
        need(self.device in ("", "cpu") or self.device.split(":")[0] in ("cuda", "mps"),
             "device must be cpu, cuda, cuda:N or mps (empty: cuda if available)", self.device)


def split_300w(data_root: str | Path, youtube: bool = False,
               youtube_offsets: np.ndarray | None = None,
               ) -> tuple[list[Sample], list[Sample], ReadSummary]:
    """The project split: AFW + HELEN train less helen/val.txt for training (plus YouTube frames
    if asked, their labels moved by `youtube_offsets` (K, 2) where given:
    `data.label_offsets`); the helen/val.txt names for validation."""
    root = Path(data_root)
    val_names = read_name_list(root / "300w/helen/val.txt")
    summary = ReadSummary()
    folders = [root / "300w/afw", root / "300w/helen/trainset"]
    train, summary = read_300w(folders, exclude=val_names, summary=summary)
    if youtube:
        frames, summary = read_300w(root / "youtube-faces/trainset", exclude=val_names,
                                    summary=summary)
        train += frames if youtube_offsets is None else label_offsets.align(frames,
                                                                              youtube_offsets)
    val, summary = read_300w(root / "300w/helen/trainset", names=val_names, summary=summary)
    if len(val) != len(val_names):
        log.warning("validation split: %d of %d names found", len(val), len(val_names))
    return train, val, summary


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds any third-party code using the legacy API
    torch.manual_seed(seed)


def lr_factor(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine decay to `min_ratio` at `total` steps."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def awing_weighted_mse(out: torch.Tensor, target: torch.Tensor, weight: float) -> torch.Tensor:
    """MSE weighted by AWing's weight map: 1 + `weight` on the region where the target is >= 0.2,
    dilated by one pixel (3x3 for heatmaps, 3 along a vector); plain MSE when `weight` <= 0."""
    if weight <= 0:
        return F.mse_loss(out, target)
    fg = (target >= 0.2).float()
    if target.ndim == 4:  # (N, K, H, W) heatmaps
        mask = F.max_pool2d(fg, 3, stride=1, padding=1)
    else:  # (N, K, L) vectors
        mask = F.max_pool1d(fg.flatten(0, -2).unsqueeze(1), 3, stride=1, padding=1).view_as(fg)
    return ((out - target) ** 2 * (1 + weight * mask)).mean()


def loss_fn(out, batch: dict, config: ModelConfig, awing_weight: float = 0.0) -> torch.Tensor:
    """MSE of each network output against its label, as the head pairs them (GV: x and y
    vectors; baseline: heatmaps), optionally AWing-weighted."""
    return head_of(config).loss(out, batch, partial(awing_weighted_mse, weight=awing_weight))


def validate(model, config: ModelConfig, val_ds: LandmarkDataset, device) -> dict:
    """Validation metrics (ION, IPN, FR, AUC at 0.1) with the default decoder."""
    o = infer_torch(model, config, val_ds.samples, dataset=val_ds, device=str(device))
    res = evaluate(decode_outputs(o), val_ds.samples, config.scheme)
    return {k: v for k, v in res.items() if not isinstance(v, list)}


def default_workers(device_type: str, cores: int | None = None) -> int:
    """Worker processes when none are asked for: none on a CPU, where the cores train, and up to
    4 (leaving a core to the training process) on a GPU, which augmentation alone would starve."""
    cores = cores or os.cpu_count() or 1
    return min(4, cores - 1) if device_type == "cuda" else 0


def init_pretrained(model, config: ModelConfig, path: str | Path, samples: list[Sample],
                    calibration_faces: int = 32) -> None:
    """Backbone from the ImageNet .tflite, its BN statistics from the first training crops (no
    augmentation), and a log of what was loaded and of input scaling or padding other than the
    ones the weights were trained with."""
    from .config import TF_MEAN, TF_STD
    from .models.pretrained import fold_back_batch_norm, load_backbone

    report = load_backbone(model.backbone, path)
    ds = LandmarkDataset(samples[:calibration_faces], config, cache=False)
    images = torch.stack([ds[i]["image"] for i in range(len(ds))])
    device = next(model.parameters()).device
    n_bn = fold_back_batch_norm(model.backbone, images.to(device))
    log.info("pretrained backbone from %s: %d convolutions matched in order, %d parameters "
             "(weights and folded biases); %d batch norms set from %d training crops; the "
             "file's %d classifier convolutions are not used; FPN decoder and head start fresh",
             report.path, report.convs, report.parameters, n_bn, len(ds), report.skipped)
    if (tuple(config.mean), tuple(config.std)) != (TF_MEAN, TF_STD):
        log.warning("the pretrained backbone was trained on (x - 128) / 127 inputs; this run "
                    "normalises with mean %s std %s", config.mean, config.std)
    if config.padding != "tf":
        log.warning("the pretrained backbone was trained with TF's SAME padding; this run pads "
                    "stride-2 convolutions symmetrically (padding %r)", config.padding)


def _to(batch: dict, device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v
            for k, v in batch.items()}


def _device(cfg: TrainConfig) -> torch.device:
    """The device the recipe asks for (cuda when available by default); ValueError when this
    torch build cannot use it."""
    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {cfg.device!r}: this torch build has no usable CUDA device "
                         "(use --device cpu)")
    return device


def _check_start(train_samples: list[Sample], val_samples: list[Sample], out: Path,
                 resume: bool, init_from: str | Path | None,
                 pretrained: str | Path | None) -> None:
    """Refuse a run that cannot start, before any work: no faces, or starting weights that
    contradict each other or the run already in `out`."""
    if not train_samples:
        raise ValueError("no training faces: check the data folder (and --limit)")
    if not val_samples:
        raise ValueError("no validation faces: the validation names are not in the data folder")
    if (init_from is not None and resume and (out / "last.pt").is_file()
            and not _started_from(out, init_from)):
        raise ValueError(f"--init-from {init_from}: {out} already holds a run (last.pt), which "
                         "would resume and ignore it; give a new --out, or --no-resume to start "
                         "over there from the given weights")
    if pretrained is not None and init_from is not None:
        raise ValueError("--pretrained and --init-from both set the starting weights: give one")


def _started_from(out: Path, init_from: str | Path) -> bool:
    """Whether the run in `out` was started from `init_from`: then the same command resumes it
    (its weights already moved on from there)."""
    try:
        started = json.loads((out / "train_config.json").read_text()).get("init_from")
    except (OSError, ValueError):
        return False
    return started is not None and Path(started).resolve() == Path(init_from).resolve()


@dataclass
class _Run:
    """What one training run works on: the model, its optimiser and schedule, the datasets."""

    model: torch.nn.Module
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    train_ds: LandmarkDataset
    val_ds: LandmarkDataset
    steps_per_epoch: int

    @classmethod
    def build(cls, model_config: ModelConfig, cfg: TrainConfig, train_samples: list[Sample],
              val_samples: list[Sample], device: torch.device) -> _Run:
        """A fresh model (drawn after `seed_everything`), Adam, the datasets, warm-up + cosine."""
        from .models import build_model

        model = build_model(model_config).to(device).to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        train_ds = LandmarkDataset(train_samples, model_config, cfg.augment, seed=cfg.seed)
        val_ds = LandmarkDataset(val_samples, model_config)
        steps = math.ceil(len(train_ds) / cfg.batch_size)
        if cfg.max_steps_per_epoch:
            steps = min(steps, cfg.max_steps_per_epoch)
        total = steps * cfg.epochs
        warmup = int(cfg.warmup_epochs * steps)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: lr_factor(s, total, warmup, cfg.min_lr / cfg.lr))
        return cls(model, opt, sched, train_ds, val_ds, steps)


def _start_from(run: _Run, model_config: ModelConfig, last: Path, resume: bool,
                init_from: str | Path | None, pretrained: str | Path | None,
                train_samples: list[Sample]) -> tuple[int, dict | None, float]:
    """Load the starting weights: a resumed run's whole state, another checkpoint's weights, or
    the ImageNet backbone. Returns (first epoch to run, best record so far, wall seconds)."""
    resuming = resume and last.is_file()
    if init_from is not None and not resuming:
        payload = checkpoint.load_raw(checkpoint.resolve(init_from))
        src = ModelConfig.from_dict(payload["config"])
        # BPM, the input size and the crop have no weights: a run may change its edge rule or
        # fine-tune at another input size or crop and keep the source's weights
        if replace(src, bpm_edges=model_config.bpm_edges, input_size=model_config.input_size,
                   enlarge=model_config.enlarge) != model_config:
            raise ValueError(f"--init-from {init_from} has another model config "
                             f"({payload['config']}); it must match the run's")
        run.model.load_state_dict(payload["state_dict"])
        log.info("initialised from %s (its epoch %s%s)", init_from, payload.get("epoch"),
                 f", trained at {src.input_size} px" if src.input_size != model_config.input_size
                 else "")
    if pretrained is not None and not resuming:
        init_pretrained(run.model, model_config, pretrained, train_samples)
    if not resuming:
        return 0, None, 0.0
    payload = checkpoint.load_raw(last)
    if ModelConfig.from_dict(payload["config"]) != model_config:
        raise ValueError(f"{last} was trained with another model config; use a new out dir")
    run.model.load_state_dict(payload["state_dict"])
    ts = payload["train_state"]
    run.opt.load_state_dict(ts["optimizer"])
    run.sched.load_state_dict(ts["scheduler"])
    log.info("resumed from %s at epoch %d", last, payload["epoch"])
    return payload["epoch"], ts.get("best"), ts.get("wall_s", 0.0)


def _train_epoch(run: _Run, model_config: ModelConfig, cfg: TrainConfig, epoch: int,
                 workers: int, device: torch.device, generator: torch.Generator) -> list[float]:
    """One epoch of at most `run.steps_per_epoch` optimiser steps; the loss of each step."""
    run.train_ds.set_epoch(epoch)
    generator.manual_seed(cfg.seed * 1000 + epoch)
    loader = DataLoader(run.train_ds, batch_size=cfg.batch_size, shuffle=True,
                        generator=generator, num_workers=workers,
                        pin_memory=device.type == "cuda",
                        drop_last=len(run.train_ds) > cfg.batch_size)
    run.model.train()
    it = loader
    if cfg.progress:
        from tqdm import tqdm

        it = tqdm(loader, total=min(len(loader), run.steps_per_epoch),
                  desc=f"{model_config.head} {epoch + 1}/{cfg.epochs}", unit="batch",
                  leave=False)
    losses = []
    for step, batch in enumerate(it):
        if step >= run.steps_per_epoch:
            break
        batch = _to(batch, device)
        img = batch["image"].contiguous(memory_format=torch.channels_last)
        loss = loss_fn(run.model(img), batch, model_config, cfg.awing_weight)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at epoch {epoch + 1}")
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        run.sched.step()
        losses.append(loss.item())
        if cfg.progress:
            it.set_postfix(loss=f"{np.mean(losses[-20:]):.5f}")
    return losses


def _save_epoch(run: _Run, model_config: ModelConfig, cfg: TrainConfig, out: Path, rec: dict,
                best: dict | None, wall: float) -> dict:
    """Append the epoch's record to log.jsonl and write its checkpoints: best.pt when the
    validation ION improved, last.pt (with the state a resume needs) always. The best record."""
    improved = best is None or rec["nme_ion"] < best["nme_ion"]
    if improved:
        best = rec
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    log.info("epoch %d: loss %.5f val %s (%.0f s)", rec["epoch"], rec["train_loss"],
             format_summary(rec), rec["epoch_s"])
    metrics_ = {k: v for k, v in rec.items() if k != "lr"}
    if improved:
        checkpoint.save(out / "best.pt", run.model, model_config, epoch=rec["epoch"],
                        metrics=metrics_)
    checkpoint.save(out / "last.pt", run.model, model_config, epoch=rec["epoch"],
                    metrics=metrics_,
                    train_state={"optimizer": run.opt.state_dict(),
                                 "scheduler": run.sched.state_dict(), "best": best,
                                 "wall_s": wall, "train_config": asdict(cfg)})
    return best


def _write_train_config(out: Path, model_config: ModelConfig, cfg: TrainConfig, run: _Run,
                        init_from: str | Path | None, pretrained: str | Path | None,
                        data: dict | None) -> None:
    """train_config.json: the model, the recipe, the data, the split sizes and the starting
    weights."""
    (out / "train_config.json").write_text(json.dumps(
        {"model": model_config.to_dict(), "train": asdict(cfg), "data": data or {},
         "n_train": len(run.train_ds),
         "n_val": len(run.val_ds), "init_from": None if init_from is None else str(init_from),
         "pretrained": None if pretrained is None else str(pretrained)},
        indent=1, default=str))


def train(model_config: ModelConfig, cfg: TrainConfig, train_samples: list[Sample],
          val_samples: list[Sample], out_dir: str | Path, *, resume: bool = True,
          init_from: str | Path | None = None, pretrained: str | Path | None = None,
          data: dict | None = None) -> dict:
    """Train into `out_dir` (last.pt every epoch, best.pt on best val ION, log.jsonl);
    resumes from `out_dir/last.pt` when it exists and `resume` is set. `init_from` starts a new
    run from another checkpoint's weights (fresh optimiser and schedule: a fine-tune or a warm
    restart); `pretrained` starts the backbone from Google's ImageNet MobileNetV3-Small .tflite
    (models/pretrained.py), the FPN decoder and head fresh. `data`: what the faces were read
    from (written to train_config.json as it is). Returns the best metrics."""
    device = _device(cfg)
    out = Path(out_dir)
    _check_start(train_samples, val_samples, out, resume, init_from, pretrained)
    workers = default_workers(device.type) if cfg.workers is None else cfg.workers
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: pick the fastest conv once
    seed_everything(cfg.seed)
    run = _Run.build(model_config, cfg, train_samples, val_samples, device)
    start_epoch, best, wall = _start_from(run, model_config, out / "last.pt", resume,
                                          init_from, pretrained, train_samples)
    _write_train_config(out, model_config, cfg, run, init_from, pretrained, data)
    if workers:
        import cv2

        # OpenCV's thread pool does not survive fork (workers hang on its lock): the workers are
        # the parallelism, so switch it off before they start
        cv2.setNumThreads(0)
        run.train_ds.preload(cfg.progress)  # before the workers fork, so they share the pixels
    g = torch.Generator()
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.time()
        losses = _train_epoch(run, model_config, cfg, epoch, workers, device, g)
        train_time = time.time() - t0
        val = validate(run.model, model_config, run.val_ds, device)
        wall += time.time() - t0
        rec = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
               "lr": run.opt.param_groups[0]["lr"], "epoch_s": round(time.time() - t0, 1),
               "train_s": round(train_time, 1), "wall_s": round(wall, 1), **val}
        best = _save_epoch(run, model_config, cfg, out, rec, best, wall)
    return best or {}


def strip_checkpoint(src: str | Path, dst: str | Path) -> None:
    """Copy a training checkpoint without optimiser state (the shipped form)."""
    payload = checkpoint.load_raw(src)
    payload.pop("train_state", None)
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(dst) + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(dst)
