"""Initialising an FCN's trunk from torchvision's ImageNet VGG16 (``vgg16`` or ``vgg16_bn``) weights."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..models.vgg import CONV_NAMES
from .errors import WeightsError
from .reading import read_weights_file

_BN_FIELDS = ("weight", "bias", "running_mean", "running_var")


def _feature_layers(state: Mapping[str, torch.Tensor]) -> list[tuple[str, int]]:
    """``[("conv", idx), ("bn", idx), ...]`` in order for torchvision's ``features.N`` keys."""
    keys = [k for k in state if k.startswith("features.") and k.endswith(".weight")]
    indices = sorted({int(k.split(".")[1]) for k in keys})
    layers = []
    for i in indices:
        w = state[f"features.{i}.weight"]
        layers.append(("conv" if w.ndim == 4 else "bn", i))
    return layers


def init_from_vgg16(
    model: nn.Module, source: str | os.PathLike[str] | Mapping[str, torch.Tensor]
) -> list[str]:
    """Copy torchvision VGG16 weights into the trunk of ``model`` (conv1_1 ... conv5_3, fc6, fc7).

    ``source`` is a file (``vgg16-397923af.pth`` or a vgg16_bn file) or an already loaded state dict.
    ``classifier.0`` (4096, 25088) becomes fc6 (4096, 512, 7, 7) and ``classifier.3`` fc7 (4096, 4096, 1, 1).
    BatchNorm statistics are copied too when both sides have them. The model needs width 1.0. Score layers
    and deconvolutions are left as they are. Use ``IMAGENET_PREPROCESSING`` with the result.
    Returns the model keys that were written.
    """
    path = None if isinstance(source, Mapping) else Path(source)
    state = dict(source) if isinstance(source, Mapping) else read_weights_file(path)[0]
    layers = _feature_layers(state)
    convs = [i for kind, i in layers if kind == "conv"]
    bns = [i for kind, i in layers if kind == "bn"]
    has_classifier = "classifier.0.weight" in state and "classifier.3.weight" in state
    if len(convs) != len(CONV_NAMES) or not has_classifier:
        raise WeightsError(
            path,
            f"is not a torchvision VGG16 state dict (found {len(convs)} feature convolutions, VGG16 has 13, "
            "and needs classifier.0 / classifier.3)",
        )
    if bns and not getattr(model, "batch_norm", False):
        raise WeightsError(path, "holds VGG16 with batch norm (vgg16_bn) but the model has no batch norm")
    targets = model.state_dict()
    updates: dict[str, torch.Tensor] = {}

    def put(key: str, value: torch.Tensor) -> None:
        ref = targets[key]
        if value.numel() != ref.numel():
            raise WeightsError(
                path,
                f"layer {key} has shape {tuple(ref.shape)} in the model but the VGG16 file gives "
                f"{tuple(value.shape)} (VGG16 initialisation needs a width-1.0 model)",
            )
        updates[key] = value.reshape(ref.shape)

    for name, idx in zip(CONV_NAMES, convs):
        put(f"{name}.weight", state[f"features.{idx}.weight"])
        put(f"{name}.bias", state[f"features.{idx}.bias"])
        # In vgg16_bn each conv is followed directly by its BatchNorm.
        bn_idx = next((b for b in bns if b > idx), None)
        if bns and bn_idx is not None and f"{name}_bn.weight" in targets:
            for fld in _BN_FIELDS:
                put(f"{name}_bn.{fld}", state[f"features.{bn_idx}.{fld}"])
    for name, idx in (("fc6", 0), ("fc7", 3)):
        put(f"{name}.weight", state[f"classifier.{idx}.weight"])
        put(f"{name}.bias", state[f"classifier.{idx}.bias"])
    with torch.no_grad():
        for key, value in updates.items():
            targets[key].copy_(value)
    return list(updates)
