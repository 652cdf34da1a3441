"""Working out which FCN a state dict belongs to from its keys and shapes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..models.vgg import CONV_NAMES, trunk_channels
from .errors import WeightsError


@dataclass(frozen=True)
class StateDictLayout:
    """What the keys say: the head family, class count and trunk options."""

    arch: str
    num_classes: int
    batch_norm: bool
    width: float


def head_family(keys: set[str]) -> str | None:
    """Arch implied by the head keys (``fcn8s`` also stands for at-once, which has the same keys)."""
    has = {name for name in ("upscore", "upscore16", "upscore8", "score_pool3") if f"{name}.weight" in keys}
    if {"upscore", "upscore16", "upscore8"} <= has:
        return "fcn-multi"
    if "upscore8" in has and "score_pool3" in has:
        return "fcn8s"
    if "upscore16" in has:
        return "fcn16s"
    if "upscore" in has:
        return "fcn32s"
    return None


def paper_family(keys: set[str]) -> str | None:
    """Arch of the reference nets whose keys differ from the VOC nets' (two heads, late fusion, RGB-D)."""
    def stride(suffix: str) -> int:
        return 8 if f"upscore8{suffix}.weight" in keys else 16 if f"upscore16{suffix}.weight" in keys else 32

    if "score_fr_sem.weight" in keys:
        return f"siftflow-fcn{stride('_sem')}s"
    if "score_frcolor.weight" in keys:
        return f"nyud-fcn{stride('')}s-color-hha"
    if "conv1_1_bgrd.weight" in keys:
        return "nyud-fcn32s-color-d"
    return None


def same_family(a: str, b: str) -> bool:
    """True when two arch names share state-dict keys (fcn8s and fcn8s-atonce do)."""
    eight = {"fcn8s", "fcn8s-atonce"}
    return a == b or (a in eight and b in eight)


def _snap_width(width: float) -> float:
    # Prefer a short decimal (0.3 rather than 0.300048828125) when it gives exactly the same channels.
    exact = trunk_channels(width)
    for digits in (2, 3, 4, 6):
        candidate = round(width, digits)
        if candidate > 0 and trunk_channels(candidate) == exact:
            return candidate
    return width


def infer_layout(state: dict[str, torch.Tensor], path: Path | None) -> StateDictLayout:
    """Infer arch (at-once reads as ``fcn8s``), classes, batch norm and width from a state dict."""
    keys = set(state)
    arch = paper_family(keys) or head_family(keys)
    if arch is None:
        if any(k.startswith("features.") for k in keys) and any(k.startswith("classifier.") for k in keys):
            raise WeightsError(
                path,
                "looks like a torchvision VGG16 classification model, not an FCN; use it to initialise "
                "training (init_from_vgg16) instead of loading it as a segmentation model",
            )
        raise WeightsError(
            path, "has no FCN head (no upscore / upscore16 / upscore8 keys); it is not an FCN weights file"
        )
    score = next((state[k] for k in ("score_fr.weight", "score_fr_sem.weight", "score_frcolor.weight")
                  if k in state), None)
    fc6 = next((state[k] for k in ("fc6.weight", "fc6color.weight") if k in state), None)
    if score is None or score.ndim != 4 or fc6 is None or fc6.ndim != 4:
        raise WeightsError(path, "lacks the fc6 / score_fr weights every FCN has")
    # fc6 has 4096 x width channels: the finest-grained record of the width multiplier.
    width = _snap_width(fc6.shape[0] / 4096.0)
    batch_norm = any(f"{name}_bn.weight" in keys for name in CONV_NAMES) or any(
        k.endswith("_bn.weight") for k in keys
    )
    return StateDictLayout(arch=arch, num_classes=int(score.shape[0]), batch_norm=batch_norm, width=width)
