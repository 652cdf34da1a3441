"""A VGG16 trunk whose layer names carry a suffix (``conv1_1color`` ... ``fc7color``), as the late-fusion
nets of fcn.berkeleyvision.org name each modality's stream (``modality_fcn(net, data, modality)``).

The layers are added to the owning module itself, so the state-dict keys are exactly the reference's layer
names plus ``.weight`` / ``.bias`` (batch norm, an option beyond the paper, adds ``<name>_bn``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .vgg import CONV_NAMES, TRUNK_NAMES, VGG16_STAGES, trunk_channels


def add_trunk(
    owner: nn.Module, *, suffix: str = "", in_channels: int = 3, batch_norm: bool = False, width: float = 1.0
) -> dict[str, int]:
    """Add ``conv1_1<suffix>`` ... ``fc7<suffix>`` (He init, zero bias) to ``owner``; returns channels."""
    chans = trunk_channels(width)
    in_ch = in_channels
    for name in CONV_NAMES:
        pad = 100 if name == "conv1_1" else 1
        owner.add_module(name + suffix, nn.Conv2d(in_ch, chans[name], 3, padding=pad))
        in_ch = chans[name]
    owner.add_module("fc6" + suffix, nn.Conv2d(in_ch, chans["fc6"], 7))
    owner.add_module("fc7" + suffix, nn.Conv2d(chans["fc6"], chans["fc7"], 1))
    for name in TRUNK_NAMES:
        conv = getattr(owner, name + suffix)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        if batch_norm:
            owner.add_module(f"{name}{suffix}_bn", nn.BatchNorm2d(conv.out_channels))
    owner.add_module("drop6" + suffix, nn.Dropout2d())
    owner.add_module("drop7" + suffix, nn.Dropout2d())
    return chans


def run_trunk(
    owner: nn.Module, x: torch.Tensor, *, suffix: str = "", batch_norm: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the suffixed trunk of ``owner``; returns ``(pool3, pool4, fc7)`` like ``VGGTrunkFCN.trunk``."""

    def act(name: str, h: torch.Tensor) -> torch.Tensor:
        h = getattr(owner, name + suffix)(h)
        if batch_norm:
            h = getattr(owner, f"{name}{suffix}_bn")(h)
        return F.relu(h, inplace=True)

    h = x
    pools: dict[int, torch.Tensor] = {}
    for stage, n, _ in VGG16_STAGES:
        for i in range(1, n + 1):
            h = act(f"conv{stage}_{i}", h)
        h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
        pools[stage] = h
    h = getattr(owner, "drop6" + suffix)(act("fc6", h))
    h = getattr(owner, "drop7" + suffix)(act("fc7", h))
    return pools[3], pools[4], h
