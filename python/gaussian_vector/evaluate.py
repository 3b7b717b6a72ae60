"""Evaluation: run a model over annotated faces, decode, map back to image coordinates, score.

The network pass (`infer_torch`) is separate from decoding (`decode_outputs`) so Beyond Box
parameters can be swept without re-running the network. `predict` picks the backend from the
model file: torch checkpoints here, exported .onnx/.tflite through `gaussian_vector.runtime`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import metrics
from .config import ModelConfig
from .data.readers import Sample
from .decode_rules import Rules, rules_for
from .flip_test import merge
from .heads import head_of
from .preprocess import to_image_coords

#: The matching rule of end-to-end evaluation: of the detections in a face's image (in the
#: landmark-box convention), the one whose box overlaps the face's landmark box most, when that
#: IoU is at least this; else the face is missed. Each annotation is matched on its own (300-W
#: files hold one face each).
MIN_IOU = 0.3
MATCH_RULE = ("the detection whose box overlaps the landmarks' tight box most, if IoU >= "
              "min_iou; else a miss")


@dataclass
class Outputs:
    """Raw network outputs for a set of faces, laid out as the head exports them (GV: packed
    (N, K, W + H); heatmaps: (N, K, H, W)), plus the crop affines that produced them."""

    config: ModelConfig
    affines: np.ndarray  # (N, 2, 3) image -> crop
    output: np.ndarray  # the head's exported layout, float32
    mirrored: np.ndarray | None = None  # the same for the mirrored crops (flip test), or None


def infer_torch(model, config: ModelConfig, samples: list[Sample], *, shrink: float = 0.0,
                batch_size: int = 16, device: str | None = None, progress: bool = False,
                dataset=None, flip_test: bool = False) -> Outputs:
    """Forward every face (box from its landmarks or its given box, optionally shrunk);
    `flip_test`: its mirrored crop too (`Outputs.mirrored`)."""
    import torch
    from torch.utils.data import DataLoader

    from .data.dataset import LandmarkDataset

    ds = dataset if dataset is not None else LandmarkDataset(samples, config, shrink=shrink)
    dev = torch.device(device or next(model.parameters()).device)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)
    if progress:
        from tqdm import tqdm

        loader = tqdm(loader, desc="eval", unit="batch", leave=False)
    head = head_of(config)
    outs, mirrored, affs = [], [], []
    was_training = model.training
    model.eval()

    def forward(img: torch.Tensor) -> np.ndarray:
        out = model(img.contiguous(memory_format=torch.channels_last))
        parts = out if isinstance(out, tuple) else (out,)
        return head.pack([t.float().cpu().numpy() for t in parts])

    with torch.inference_mode():
        for batch in loader:
            img = batch["image"].to(dev)
            outs.append(forward(img))
            if flip_test:
                mirrored.append(forward(img.flip(-1)))
            affs.append(batch["affine"].numpy())
    model.train(was_training)
    return Outputs(config, np.concatenate(affs), np.concatenate(outs),
                   np.concatenate(mirrored) if flip_test else None)


def decode_outputs(o: Outputs, rules: Rules = None) -> np.ndarray:
    """Outputs -> landmarks in image coordinates (N, K, 2), by the numpy reference decoder
    (`rules`: the model's own by default, or changes to them); with mirrored outputs, the two
    readings merged (`flip_test.merge`)."""
    cfg = o.config
    head, r = head_of(cfg), rules_for(cfg, rules)
    hm_xy, conf = head.decode(o.output, r)
    if o.mirrored is not None:
        hm_xy, _ = merge(hm_xy, conf, *head.decode(o.mirrored, r), cfg)
    return np.stack([to_image_coords(hm_xy[i], o.affines[i], cfg) for i in range(len(hm_xy))])


def is_exported(model: str | Path) -> bool:
    """Whether `model` names an exported model (.onnx/.tflite, or a shipped export's name such as
    default-int8, all run through the runtime) rather than a torch checkpoint or its alias."""
    from .checkpoint import ALIASES
    from .modelfile.formats import format_of
    from .modelfile.shipped import SHIPPED

    name = str(model)
    if Path(name).suffix.lower() == ".rknn":  # runs in the vendor's simulator (runtime.simulators)
        return True
    return format_of(name) is not None or (name in SHIPPED and name not in ALIASES)


@dataclass
class Matches:
    """The bundled detector's box matched to each annotated face (None: missed) and the best IoU
    of its detections with the face's landmark box (the matched box's; 0: no detection)."""

    boxes: list[np.ndarray | None]
    iou: list[float]

    @property
    def found(self) -> np.ndarray:
        return np.array([b is not None for b in self.boxes], bool)


def match_face(points: np.ndarray, boxes: np.ndarray,
               min_iou: float = MIN_IOU) -> tuple[np.ndarray | None, float]:
    """`MATCH_RULE` for one annotated face: of a detector's boxes (M, 4) in its image, the one
    matched to its landmarks (K, 2) (None: a miss), and the best IoU of any (0: no boxes)."""
    from .affine import box_from_landmarks
    from .detector.nms import iou, match_box

    if not 0 < min_iou <= 1:
        raise ValueError(f"min_iou must be in (0, 1], got {min_iou}")
    truth = box_from_landmarks(points)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    best = float(iou(truth, boxes).max()) if len(boxes) else 0.0
    return match_box(truth, boxes, min_iou), best


def match_detections(samples: list[Sample], min_iou: float = MIN_IOU,
                     threads: int | None = 1) -> Matches:
    """Run the bundled face detector on each face's image and match its boxes (mapped to the
    landmark-box convention, as the runtime crops with them) to the face by `MATCH_RULE`."""
    from .detector import default_detector
    from .image import load_image

    detector = default_detector(threads=threads)
    boxes, overlaps = [], []
    for s in samples:
        box, best = match_face(s.points, detector(load_image(s.image))[0], min_iou)
        boxes.append(box)
        overlaps.append(best)
    return Matches(boxes, overlaps)


def predict(model_path: str | Path, samples: list[Sample], *, shrink: float = 0.0,
            rules: Rules = None, progress: bool = False, boxes: str = "landmarks",
            refine: bool = False, flip_test: bool = False,
            matches: Matches | None = None) -> tuple[np.ndarray, ModelConfig]:
    """Landmarks (N, K, 2) for every sample from a checkpoint alias/path or an exported model
    (.onnx/.tflite, through `gaussian_vector.runtime`), plus the model's config.

    `boxes`: "landmarks" (each sample's given box, else the tight box of its ground truth;
    shrunk by `shrink`) or "detector" (the bundled face detector's, matched by
    `match_detections` unless `matches` are given; a face it misses gets NaN rows).
    `refine`: exported models, the runtime's second pass on its own landmarks' box.
    `rules`: the decoder's `DecodeRules`, or changes to the model's own (e.g. {"subpixel":
    "parabola"}); None: the model's. `flip_test`: each face read from its crop and its mirror,
    the two merged (`flip_test.merge`).
    """
    if boxes not in ("landmarks", "detector"):
        raise ValueError(f"boxes must be 'landmarks' or 'detector', got {boxes!r}")
    if refine and not is_exported(model_path):
        raise ValueError("--refine runs through the on-device runtime: give an exported "
                         f".onnx/.tflite model, not {model_path}")
    if boxes == "detector":
        if shrink:
            raise ValueError("shrink applies to the landmarks' boxes, not the detector's")
        if matches is None:
            matches = match_detections(samples)
        if len(matches.boxes) != len(samples):
            raise ValueError(f"{len(matches.boxes)} matches for {len(samples)} faces")
        found = matches.found
        if not found.any():
            raise ValueError(f"the detector found none of the {len(samples)} faces")
        at = [replace(s, box=tuple(map(float, b)))
              for s, b in zip(samples, matches.boxes, strict=True) if b is not None]
        pred, config = predict(model_path, at, rules=rules, progress=progress, refine=refine,
                               flip_test=flip_test)
        out = np.full((len(samples), config.num_landmarks, 2), np.nan)
        out[found] = pred
        return out, config
    if is_exported(model_path):
        return _predict_exported(model_path, samples, shrink, rules, refine=refine,
                                 flip_test=flip_test)
    from .checkpoint import load

    model, config, _ = load(model_path)
    o = infer_torch(model, config, samples, shrink=shrink, progress=progress,
                    flip_test=flip_test)
    return decode_outputs(o, rules), config


def _predict_exported(path: str | Path, samples: list[Sample], shrink: float, rules: Rules, *,
                      refine: bool = False,
                      flip_test: bool = False) -> tuple[np.ndarray, ModelConfig]:
    """Exported models go through the on-device runtime, exactly as a board runs them."""
    from .data.boxes import face_box
    from .image import load_image
    from .runtime import FacePipeline
    from .runtime.simulators import simulated_pipeline

    # min_score=0: an evaluation scores every face, including the ones a board would refuse
    run = (simulated_pipeline(path, rules, flip_test=flip_test)  # NPU models: their simulator
           or FacePipeline.from_file(path, rules=rules, min_score=0.0, flip_test=flip_test))
    out = [run.detect(load_image(s.image), face_box(s, shrink)[None], refine=refine)[0].landmarks
           for s in samples]
    return np.stack(out).astype(np.float64), run.landmarker.config


def sweep_beyond_box(o: Outputs, samples: list[Sample], taus: list[float],
                     sigmas: list[float], scheme: str = "300w68",
                     rules: Rules = None) -> list[dict]:
    """ION NME for every (tau, sigma) Beyond Box setting plus BBS off, from one network pass
    (the other rules: `rules`, the model's own by default)."""
    gt = np.stack([s.points for s in samples])
    base = rules_for(o.config, rules)
    off = decode_outputs(o, replace(base, beyond_box=False))
    rows = [{"beyond_box": False, "tau": None, "sigma": None,
             "nme_ion": float(metrics.nme_per_image(off, gt, scheme).mean())}]
    for tau in taus:
        for sigma in sigmas:
            pred = decode_outputs(o, replace(base, beyond_box=True, tau=tau, sigma=sigma))
            rows.append({"beyond_box": True, "tau": tau, "sigma": sigma,
                         "nme_ion": float(metrics.nme_per_image(pred, gt, scheme).mean())})
    return rows


def evaluate(pred: np.ndarray, samples: list[Sample], scheme: str = "300w68",
             threshold: float = 0.1) -> dict:
    """Metrics for predictions against the samples' landmarks (see `metrics.summarise`)."""
    gt = np.stack([s.points for s in samples])
    return metrics.summarise(pred, gt, scheme, threshold)
