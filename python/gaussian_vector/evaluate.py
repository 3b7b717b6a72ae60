"""Evaluation: run a model over annotated faces, decode, map back to image coordinates, score.

The network pass (`infer_torch`) is separate from decoding (`decode_outputs`) so Beyond Box
parameters can be swept without re-running the network. `predict` picks the backend from the
model file: torch checkpoints here, exported .onnx/.tflite through `gaussian_vector.runtime`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics
from .config import ModelConfig
from .data.readers import Sample
from .decode import check_subpixel, decode_heatmaps, decode_vectors
from .preprocess import to_image_coords

EXPORTED_SUFFIXES = (".onnx", ".tflite")


@dataclass
class Outputs:
    """Raw network outputs for a set of faces plus the crop affines that produced them."""

    config: ModelConfig
    affines: np.ndarray  # (N, 2, 3) image -> crop
    x: np.ndarray | None = None  # (N, K, W) GV
    y: np.ndarray | None = None  # (N, K, H) GV
    heatmaps: np.ndarray | None = None  # (N, K, H, W) heatmap baseline


def infer_torch(model, config: ModelConfig, samples: list[Sample], *, shrink: float = 0.0,
                batch_size: int = 16, device: str | None = None, progress: bool = False,
                dataset=None) -> Outputs:
    """Forward every face (box from its landmarks or its given box, optionally shrunk)."""
    import torch
    from torch.utils.data import DataLoader

    from .data.dataset import LandmarkDataset

    ds = dataset if dataset is not None else LandmarkDataset(samples, config, shrink=shrink)
    dev = torch.device(device or next(model.parameters()).device)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)
    if progress:
        from tqdm import tqdm

        loader = tqdm(loader, desc="eval", unit="batch", leave=False)
    xs, ys, hms, affs = [], [], [], []
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch in loader:
            img = batch["image"].to(dev).contiguous(memory_format=torch.channels_last)
            out = model(img)
            if config.head == "gv":
                xs.append(out[0].float().cpu().numpy())
                ys.append(out[1].float().cpu().numpy())
            else:
                hms.append(out.float().cpu().numpy())
            affs.append(batch["affine"].numpy())
    model.train(was_training)
    o = Outputs(config, np.concatenate(affs))
    if config.head == "gv":
        o.x, o.y = np.concatenate(xs), np.concatenate(ys)
    else:
        o.heatmaps = np.concatenate(hms)
    return o


def decode_outputs(o: Outputs, *, beyond_box: bool = True, tau: float | None = None,
                   sigma: float | None = None, subpixel: str = "quarter") -> np.ndarray:
    """Outputs -> landmarks in image coordinates (N, K, 2)."""
    cfg = o.config
    if o.heatmaps is not None:
        hm_xy, _ = decode_heatmaps(o.heatmaps, subpixel=subpixel)
    else:
        hm_xy, _ = decode_vectors(o.x, o.y, beyond_box=beyond_box,
                                  tau=cfg.tau if tau is None else tau,
                                  sigma=cfg.sigma if sigma is None else sigma,
                                  subpixel=subpixel)
    return np.stack([to_image_coords(hm_xy[i], o.affines[i], cfg) for i in range(len(hm_xy))])


def is_exported(model: str | Path) -> bool:
    """Whether `model` names an exported model (.onnx/.tflite, or a shipped export's name such as
    default-int8, all run through the runtime) rather than a torch checkpoint or its alias."""
    from .checkpoint import ALIASES
    from .runtime.models import SHIPPED

    name = str(model)
    return (Path(name).suffix.lower() in EXPORTED_SUFFIXES
            or (name in SHIPPED and name not in ALIASES))


def predict(model_path: str | Path, samples: list[Sample], *, shrink: float = 0.0,
            beyond_box: bool = True, tau: float | None = None, sigma: float | None = None,
            progress: bool = False, boxes: str = "landmarks",
            refine: bool = False, subpixel: str = "quarter") -> tuple[np.ndarray, ModelConfig]:
    """Landmarks (N, K, 2) for every sample from a checkpoint alias/path or an exported model
    (.onnx/.tflite, through `gaussian_vector.runtime`), plus the model's config.

    `boxes`: "landmarks" (the tight box of the ground truth, shrunk by `shrink`) or "detector"
    (exported models: the bundled face detector, as a board runs; a face it misses gets NaN
    rows). `refine`: exported models, the runtime's second pass on its own landmarks' box.
    `subpixel`: the decoder's interior-peak rule, "quarter" (the paper's) or "parabola".
    """
    check_subpixel(subpixel)
    if boxes not in ("landmarks", "detector"):
        raise ValueError(f"boxes must be 'landmarks' or 'detector', got {boxes!r}")
    if is_exported(model_path):
        return _predict_exported(model_path, samples, shrink, beyond_box, tau, sigma,
                                 boxes=boxes, refine=refine, subpixel=subpixel)
    if boxes == "detector" or refine:
        raise ValueError("detector boxes and --refine run through the on-device runtime: "
                         f"give an exported .onnx/.tflite model, not {model_path}")
    from .checkpoint import load

    model, config, _ = load(model_path)
    o = infer_torch(model, config, samples, shrink=shrink, progress=progress)
    return decode_outputs(o, beyond_box=beyond_box, tau=tau, sigma=sigma,
                          subpixel=subpixel), config


def _predict_exported(path, samples, shrink, beyond_box, tau, sigma, *, boxes="landmarks",
                      refine=False, subpixel="quarter") -> tuple[np.ndarray, ModelConfig]:
    """Exported models go through the on-device runtime, exactly as a board runs them."""
    from .data.boxes import face_box
    from .detector.nms import match_box
    from .image import load_image
    from .runtime import Landmarker

    # min_score=0: an evaluation scores every face, including the ones a board would refuse
    lm = Landmarker.from_file(path, beyond_box=beyond_box, tau=tau, sigma=sigma,
                              subpixel=subpixel, min_score=0.0)
    k = lm.config.num_landmarks
    out = []
    for s in samples:
        box, image = face_box(s, shrink), load_image(s.image)
        if boxes == "detector":
            box = match_box(box, lm.detector(image)[0])
            if box is None:
                out.append(np.full((k, 2), np.nan))
                continue
        out.append(lm.detect(image, box[None], refine=refine)[0].landmarks)
    return np.stack(out).astype(np.float64), lm.config


def sweep_beyond_box(o: Outputs, samples: list[Sample], taus: list[float],
                     sigmas: list[float], scheme: str = "300w68",
                     subpixel: str = "quarter") -> list[dict]:
    """ION NME for every (tau, sigma) Beyond Box setting plus BBS off, from one network pass."""
    gt = np.stack([s.points for s in samples])
    off = decode_outputs(o, beyond_box=False, subpixel=subpixel)
    rows = [{"beyond_box": False, "tau": None, "sigma": None,
             "nme_ion": float(metrics.nme_per_image(off, gt, scheme).mean())}]
    for tau in taus:
        for sigma in sigmas:
            pred = decode_outputs(o, beyond_box=True, tau=tau, sigma=sigma, subpixel=subpixel)
            rows.append({"beyond_box": True, "tau": tau, "sigma": sigma,
                         "nme_ion": float(metrics.nme_per_image(pred, gt, scheme).mean())})
    return rows


def evaluate(pred: np.ndarray, samples: list[Sample], scheme: str = "300w68",
             threshold: float = 0.1) -> dict:
    """Metrics for predictions against the samples' landmarks (see `metrics.summarise`)."""
    gt = np.stack([s.points for s in samples])
    return metrics.summarise(pred, gt, scheme, threshold)
