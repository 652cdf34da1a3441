"""Tiny NYUDv2 and SIFT Flow datasets in fcn.berkeleyvision.org's layouts, and tiny matching models.

The files have the real names, folders, bit depths and .mat fields (see fcn_core/data/formats/nyud.py and
siftflow.py); the models are ``build_model(arch, width=1/16)`` with random weights, saved as ``fcn train``
saves them (input specs and the geometric head's class names in the checkpoint metadata).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from fcn_core.models import build_model
from fcn_core.training.tasks import checkpoint_metadata, input_specs
from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

TINY = 0.0625
SIFT_NAMES = ["coast_arnat59", "street_urb506", "highway_bost178"]


def make_nyud(root: Path, *, h: int = 24, w: int = 32, n: int = 3, seed: int = 0) -> Path:
    """``data/images``, ``data/depth`` (16-bit mm), ``data/hha``, ``segmentation/img_X.mat``, split lists."""
    import scipy.io

    rng = np.random.default_rng(seed)
    for sub in ("data/images", "data/depth", "data/hha", "segmentation"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stems = [str(5001 + i) for i in range(n)]
    yy = np.linspace(0, 1, h)[:, None]
    for i, stem in enumerate(stems):
        photo = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(photo).save(root / f"data/images/img_{stem}.png")
        depth = (800 + 3000 * yy + 200 * i + np.zeros((h, w))).astype(np.uint16)  # 800..3800+ mm
        Image.fromarray(depth).save(root / f"data/depth/img_{stem}.png")
        hha = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(hha).save(root / f"data/hha/img_{stem}.png")
        seg = rng.integers(0, 41, (h, w)).astype(np.uint8)
        scipy.io.savemat(root / f"segmentation/img_{stem}.mat", {"segmentation": seg})
    (root / "train.txt").write_text("\n".join(stems[:-1]) + "\n")
    (root / "val.txt").write_text(stems[-1] + "\n")
    return root


def make_siftflow(root: Path, *, h: int = 24, w: int = 32, names=SIFT_NAMES, seed: int = 1) -> Path:
    """``Images/``, ``SemanticLabels/`` (field S: 0 void, 1..33), ``GeoLabels/`` (S: -1 void, 1..3)."""
    import scipy.io

    from fcn_core.data.formats.siftflow import SUBDIR

    for sub in ("Images", "SemanticLabels", "GeoLabels"):
        (root / sub / SUBDIR).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / "Images" / SUBDIR /
                                                                              f"{name}.jpg")
        sem = rng.integers(0, 34, (h, w)).astype(np.float64)
        geo = np.full((h, w), 3, np.int16)  # vertical
        geo[: h // 3] = 1  # sky
        geo[2 * h // 3:] = 2  # horizontal
        geo[0, 0] = -1  # void
        scipy.io.savemat(root / "SemanticLabels" / SUBDIR / f"{name}.mat", {"S": sem})
        scipy.io.savemat(root / "GeoLabels" / SUBDIR / f"{name}.mat", {"S": geo})
    (root / "trainval.txt").write_text("\n".join(names[:-1]) + "\n")
    (root / "test.txt").write_text(names[-1] + "\n")
    return root


def randomize(model: torch.nn.Module, seed: int = 3) -> torch.nn.Module:
    """Random weights (the score layers too, so the heads predict varied classes); deconvolutions bilinear."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.5 if "score" in name else (2.0 / max(1, p[0].numel())) ** 0.5
            if not name.startswith("upscore"):
                p.copy_(torch.randn(p.shape, generator=g) * std)
    return model.eval()


def save_tiny_model(path: Path, arch: str, dataset, *, seed: int = 3) -> Path:
    """A tiny ``arch`` with the dataset's classes, saved with its inputs and heads in the metadata."""
    model = randomize(build_model(arch, width=TINY), seed)
    prep = CAFFE_PREPROCESSING
    meta = checkpoint_metadata(model, input_specs(model, prep), dataset)
    save_checkpoint(path, model, class_names=list(dataset.class_names), preprocessing=prep, metadata=meta)
    return path
