"""Torch Dataset: sample -> (normalised crop, labels) with one affine warp and paper augmentation.

Decoded images are cached in memory on first use (the 300-W crops are small): on a 2-core
machine JPEG decoding would otherwise starve training.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .. import affine
from ..config import ModelConfig
from ..heads import head_of
from ..image import load_image
from ..preprocess import normalise
from ..schemes import get_scheme
from .augment import (
    NO_AUGMENT,
    AugmentConfig,
    occlude,
    photometric,
    sample_transform,
    transform_points,
)
from .boxes import face_box
from .readers import Sample


class LandmarkDataset(Dataset):
    """Items: {"image": (3,S,S) float, "points": (K,2) label coords, "affine": (2,3)
    image->crop, "index"} and the head's labels ("x" and "y", or "heatmap")."""

    def __init__(
        self,
        samples: list[Sample],
        config: ModelConfig,
        augment: AugmentConfig | None = None,
        *,
        seed: int = 0,
        cache: bool = True,
        shrink: float = 0.0,
    ) -> None:
        if not samples:
            raise ValueError("LandmarkDataset needs at least one sample")
        self.samples = samples
        self.config = config
        self.scheme = get_scheme(config.scheme)
        bad = [s.name for s in samples if s.points.shape != (self.scheme.num_points, 2)]
        if bad:
            raise ValueError(f"{len(bad)} samples do not have {self.scheme.num_points} points, "
                             f"e.g. {bad[:3]}")
        self.augment = augment or NO_AUGMENT
        self.seed = seed
        self.epoch = 0
        self.shrink = shrink
        self._cache: dict[int, np.ndarray] | None = {} if cache else None
        self.head = head_of(config)

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation draw per epoch while keeping runs reproducible."""
        self.epoch = epoch

    def preload(self, progress: bool = False) -> None:
        """Decode every image into the cache now, so that DataLoader workers forked afterwards
        share it (copy-on-write) instead of each decoding the whole set again."""
        if self._cache is None:
            return
        idx = range(len(self.samples))
        if progress:
            from tqdm import tqdm

            idx = tqdm(idx, desc="decoding images", unit="img", leave=False)
        for i in idx:
            self.image(i)

    def image(self, i: int) -> np.ndarray:
        if self._cache is None:
            return load_image(self.samples[i].image)
        if i not in self._cache:
            self._cache[i] = load_image(self.samples[i].image)
        return self._cache[i]

    def __getitem__(self, i: int) -> dict:
        s = self.samples[i]
        cfg = self.config
        rng = np.random.default_rng((self.seed, self.epoch, i))
        box = face_box(s, self.shrink)
        m, flip = sample_transform(box, cfg.input_size, cfg.enlarge, self.augment, rng)
        crop = affine.warp(self.image(i), m, cfg.input_size)
        crop = photometric(occlude(crop, self.augment, rng), self.augment, rng)
        pts = affine.crop_to_heatmap(transform_points(s.points, m, flip, self.scheme,
                                                      self.augment.flip_shift),
                                     cfg.input_size // cfg.output_size)
        item = {
            "image": torch.from_numpy(normalise(crop, cfg)),
            "points": torch.from_numpy(pts.astype(np.float32)),
            "affine": torch.from_numpy(m.astype(np.float64)),
            "index": i,
        }
        item.update((k, torch.from_numpy(v)) for k, v in self.head.encode(pts).items())
        return item
