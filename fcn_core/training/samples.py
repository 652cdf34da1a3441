"""Training samples: preprocessing, augmentation and the epoch order, all reproducible from the seed.

Augmentation draws from ``numpy.random.default_rng([seed, epoch, index])`` instead of a global generator, so a
sample looks the same whatever worker loads it, however many processes train, and after a resume.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Sampler

from fcn_core import VOID


def normalize(image: np.ndarray, prep) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` -> float32 ``(H, W, 3)`` in the network's colour order, scale, mean and std."""
    x = image.astype(np.float32)
    if prep.color_order.upper() == "BGR":
        x = x[..., ::-1]
    x = x * np.float32(prep.scale)
    x = (x - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)
    return np.ascontiguousarray(x)


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """float32 ``(H, W, 3)`` -> ``(3, H, W)`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def augment(
    image: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    crop: tuple[int, int] | None,
    scale_range: tuple[float, float],
    flip: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Scale jitter, horizontal flip, brightness/contrast jitter and a random crop (padded with void).

    ``image`` is the normalised float32 image, so padding with 0 pads with the mean colour.
    """
    lo, hi = scale_range
    if hi > lo or lo != 1.0:
        s = float(np.exp(rng.uniform(math.log(lo), math.log(hi))))
        h, w = labels.shape[:2]
        size = (max(1, round(w * s)), max(1, round(h * s)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    if flip:
        if rng.random() < 0.5:
            image, labels = image[:, ::-1], labels[:, ::-1]
        # Photometric jitter in normalised units: contrast x[0.8, 1.2], brightness +-0.2 std.
        image = image * np.float32(rng.uniform(0.8, 1.2)) + np.float32(rng.uniform(-0.2, 0.2))
    if crop is not None:
        ch, cw = crop
        h, w = labels.shape[:2]
        ph, pw = max(0, ch - h), max(0, cw - w)
        if ph or pw:
            image = np.pad(image, ((0, ph), (0, pw), (0, 0)))
            labels = np.pad(labels, ((0, ph), (0, pw)) + ((0, 0),) * (labels.ndim - 2), constant_values=VOID)
            h, w = labels.shape[:2]
        y = int(rng.integers(0, h - ch + 1))
        x = int(rng.integers(0, w - cw + 1))
        image, labels = image[y : y + ch, x : x + cw], labels[y : y + ch, x : x + cw]
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(labels)


class TrainSamples(TorchDataset):
    """Labelled samples of one split; item ``(index, epoch)`` -> (image (3,H,W) float, labels (H,W) long)."""

    def __init__(
        self,
        dataset,
        samples: Sequence,
        prep,
        *,
        seed: int,
        crop: tuple[int, int] | None,
        scale_range: tuple[float, float],
        augment: bool,
        specs: list | None = None,
        tasks: tuple[str, ...] = ("sem",),
    ) -> None:
        self.dataset = dataset
        # Extra inputs (depth, HHA) and tasks (geometric labels): see fcn_core.training.tasks.
        self.specs = specs
        self.tasks = tuple(tasks)
        self.samples = list(samples)
        self.prep = prep
        self.seed = int(seed)
        self.crop = tuple(crop) if crop is not None else None
        self.scale_range = tuple(scale_range)
        self.augment = augment

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw RGB uint8 image and uint8 labels (void 255) of sample ``index``."""
        stem = self.samples[index].stem
        return self.dataset.image(stem), self.dataset.label(stem)

    def __getitem__(self, item: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, epoch = item
        if self.specs is None and self.tasks == ("sem",):
            image, labels = self.load(index)
            x = normalize(image, self.prep)
        else:
            from fcn_core.training.tasks import sample_arrays, sample_targets
            from fcn_core.weights.inputs import network_input

            stem = self.samples[index].stem
            specs = self.specs or []
            x = network_input(specs, sample_arrays(self.dataset, stem, tuple(s.name for s in specs)))
            labels = sample_targets(self.dataset, stem, self.tasks)
        if self.augment or self.crop is not None:
            rng = np.random.default_rng([self.seed, int(epoch), int(index)])
            x, labels = augment(
                x, labels, rng, crop=self.crop, scale_range=self.scale_range, flip=self.augment
            )
        return to_tensor(x), torch.from_numpy(labels.astype(np.int64))


class EpochBatches(Sampler[list[tuple[int, int]]]):
    """Batches of ``(index, epoch)`` for this process: a seeded permutation per epoch, split across ranks.

    The permutation is padded cyclically to a multiple of ``world * batch_size`` so every rank runs the same
    number of iterations. Set ``epoch`` and ``skip`` (batches already done, for resume) before iterating.
    """

    def __init__(self, n: int, batch_size: int, *, seed: int, rank: int = 0, world: int = 1) -> None:
        if n < 1:
            raise ValueError("no labelled training samples")
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.epoch = 0
        self.skip = 0

    def __len__(self) -> int:
        return math.ceil(self.n / (self.world * self.batch_size))

    def batches(self, epoch: int) -> list[list[tuple[int, int]]]:
        """All of this rank's batches of ``epoch``."""
        g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
        perm = torch.randperm(self.n, generator=g).tolist()
        total = len(self) * self.world * self.batch_size
        perm = (perm * math.ceil(total / self.n))[:total]
        mine = perm[self.rank :: self.world]
        return [
            [(i, epoch) for i in mine[b : b + self.batch_size]] for b in range(0, len(mine), self.batch_size)
        ]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        yield from self.batches(self.epoch)[self.skip :]
