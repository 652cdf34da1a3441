"""The parts of a recipe that act on the model: initialisation, preprocessing, optimizer, schedule, loss."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fcn_core import VOID
from fcn_core.models import build_model, copy_compatible_weights
from fcn_core.training.config import TrainConfig
from fcn_core.weights import CAFFE_PREPROCESSING, IMAGENET_PREPROCESSING, Preprocessing

# Final upsamplers stay fixed bilinear (paper: "final layer deconvolutional filters are fixed to bilinear
# interpolation, while intermediate upsampling layers are initialized to bilinear ... and then learned").
FINAL_UPSAMPLERS = ("upscore", "upscore16", "upscore8")


def dataset_preprocessing(dataset, samples, limit: int = 100) -> Preprocessing:
    """RGB, 0–1 preprocessing with the mean and std of (up to ``limit``) training images."""
    step = max(1, len(samples) // limit)
    total = np.zeros(3)
    total_sq = np.zeros(3)
    count = 0
    for s in samples[::step][:limit]:
        img = dataset.image(s.stem).reshape(-1, 3).astype(np.float64) / 255.0
        total += img.sum(0)
        total_sq += (img**2).sum(0)
        count += len(img)
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 1e-6))
    return Preprocessing("RGB", 1.0 / 255.0, tuple(mean), tuple(std))


def build_stage_model(
    cfg: TrainConfig,
    arch: str,
    dataset,
    train_samples,
    *,
    init_from: Path | None,
    init_vgg16: Path | None,
) -> tuple[nn.Module, Preprocessing, str]:
    """Build the stage's model and initialise it; returns (model, preprocessing, how it was initialised).

    ``init_from``: copy every layer the checkpoint shares with ``arch`` (16s from 32s, 8s from 16s); layers
    new to ``arch`` keep their start values (score layers zero, deconvolutions bilinear). Width and batch norm
    follow the checkpoint unless given. ``init_vgg16``: torchvision VGG16 trunk, ImageNet preprocessing.
    """
    from fcn_core.weights import init_from_vgg16, load_model

    width, batch_norm = cfg.width, cfg.batch_norm
    source = None
    if init_from is not None:
        source = load_model(init_from)
        width = source.options.get("width", 1.0) if width is None else width
        batch_norm = bool(source.options.get("batch_norm", False))  # the copied weights decide
    width = 1.0 if width is None else float(width)
    model = build_model(arch, dataset.num_classes, batch_norm=bool(batch_norm), width=width)
    if source is not None:
        copied = copy_compatible_weights(source.model, model)
        if source.num_classes != dataset.num_classes:
            warnings.warn(
                f"{init_from}: checkpoint has {source.num_classes} classes, the data {dataset.num_classes}; "
                "the score layers start from zero",
                stacklevel=2,
            )
        how = f"from {init_from} ({source.arch}, {len(copied)} tensors copied)"
        prep = source.preprocessing
    elif init_vgg16 is not None:
        init_from_vgg16(model, init_vgg16)
        how = f"trunk from torchvision VGG16 {init_vgg16}"
        prep = IMAGENET_PREPROCESSING
    else:
        how = "from scratch"
        prep = CAFFE_PREPROCESSING if cfg.recipe == "paper" else IMAGENET_PREPROCESSING
    if cfg.mean == "imagenet":
        prep = IMAGENET_PREPROCESSING
    elif cfg.mean == "caffe":
        prep = CAFFE_PREPROCESSING
    elif cfg.mean == "dataset" and source is None:
        prep = dataset_preprocessing(dataset, train_samples)
    if getattr(cfg, "freeze_trunk", False):
        from fcn_core.training.freeze import freeze_all_but_classifier

        trained = freeze_all_but_classifier(model)
        how += f"; trunk frozen, training only {', '.join(trained)}"
    return model, prep, how


def make_optimizer(model: nn.Module, cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    """Paper: SGD, biases at 2x lr without decay. Scratch: AdamW, no decay on biases/batch norm."""
    for name in FINAL_UPSAMPLERS:
        layer = getattr(model, name, None)
        if layer is not None:
            layer.weight.requires_grad_(False)
    weights, others = [], []
    for p in model.parameters():
        if p.requires_grad:
            (weights if p.ndim > 1 else others).append(p)
    if cfg.recipe == "paper":
        groups = [
            {"params": weights, "lr": lr, "weight_decay": cfg.weight_decay},
            {"params": others, "lr": 2 * lr, "weight_decay": 0.0},
        ]
        opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=lr, momentum=cfg.momentum)
    else:
        groups = [
            {"params": weights, "lr": lr, "weight_decay": cfg.weight_decay},
            {"params": others, "lr": lr, "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999))
    for g in opt.param_groups:
        g["base_lr"] = g["lr"]
    return opt


def lr_factor(cfg: TrainConfig, progress: float) -> float:
    """Learning-rate multiplier at ``progress`` in [0, 1]: constant (paper) or warmup + cosine (scratch)."""
    if cfg.recipe == "paper":
        return 1.0
    p = min(max(progress, 0.0), 1.0)
    if cfg.warmup > 0 and p < cfg.warmup:
        return max(p / cfg.warmup, 0.01)
    q = (p - cfg.warmup) / max(1e-8, 1.0 - cfg.warmup)
    return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * q))


def set_lr(opt: torch.optim.Optimizer, factor: float) -> float:
    """Scale every group's base learning rate; returns the first group's lr."""
    for g in opt.param_groups:
        g["lr"] = g["base_lr"] * factor
    return opt.param_groups[0]["lr"]


def segmentation_loss(
    outputs: dict[int, torch.Tensor], target: torch.Tensor, *, unnormalised: bool
) -> torch.Tensor:
    """Cross-entropy summed over heads, void ignored; per-pixel mean, or the paper's plain sum."""
    valid = bool((target != VOID).any())
    total = None
    for logits in outputs.values():
        if not valid:  # an all-void crop: keep the graph (DDP needs every rank to backprop) but add nothing
            loss = logits.float().sum() * 0.0
        else:
            loss = F.cross_entropy(
                logits.float(), target, ignore_index=VOID, reduction="sum" if unnormalised else "mean"
            )
        total = loss if total is None else total + loss
    assert total is not None
    return total


def forward_all(model: nn.Module, strides: tuple[int, ...], x: torch.Tensor) -> dict[int, torch.Tensor]:
    """``{stride: logits}`` from a plain or DDP-wrapped model."""
    out = model(x)
    return out if isinstance(out, dict) else {strides[0]: out}
