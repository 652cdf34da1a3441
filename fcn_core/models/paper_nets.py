"""The other nets of fcn.berkeleyvision.org on one VGG16 stream: NYUDv2 colour / HHA / RGB-D (early
fusion, ``conv1_1_bgrd``) and PASCAL-Context FCN-32s/16s/8s.

Their layers and state-dict keys are the VOC nets' (``conv1_1`` ... ``score_fr``, ``upscore`` ...); only the
class count, the input and, for RGB-D, the first layer differ. Every model takes ONE tensor
``(N, in_channels, H, W)`` whose channels are ``inputs`` in order, each normalised as the reference's data
layer does (see ``fcn_core.weights.caffe_nets``).
"""

from __future__ import annotations

import torch
from torch import nn

from .fcn import FCN8s, FCN16s, FCN32s

NYUD_CLASSES = 40  # Gupta et al.'s 40-class task; 0 is void in the files (255 in memory)
PASCALCONTEXT_CLASSES = 60  # background + the 59-class task (the reference nets have num_output=60)


class NYUDColorFCN32s(FCN32s):
    """``nyud-fcn32s-color``: FCN-32s on the BGR image (NYUDv2 mean), 40 classes."""

    arch = "nyud-fcn32s-color"
    inputs: tuple[str, ...] = ("color",)
    default_classes = NYUD_CLASSES


class NYUDHHAFCN32s(FCN32s):
    """``nyud-fcn32s-hha``: FCN-32s on the HHA image (horizontal disparity, height, angle), 40 classes."""

    arch = "nyud-fcn32s-hha"
    inputs: tuple[str, ...] = ("hha",)
    default_classes = NYUD_CLASSES


class NYUDRGBDFCN32s(FCN32s):
    """``nyud-fcn32s-color-d``: early fusion. The first layer ``conv1_1_bgrd`` sees 4 channels:
    B, G, R minus the NYUDv2 mean, then log(depth) minus 7.844 (the reference's ``Concat(color, depth)``)."""

    arch = "nyud-fcn32s-color-d"
    inputs: tuple[str, ...] = ("color", "depth")
    default_classes = NYUD_CLASSES
    in_channels = 4

    def __init__(
        self, num_classes: int = NYUD_CLASSES, *, batch_norm: bool = False, width: float = 1.0
    ) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        out_ch = self.conv1_1.out_channels
        del self.conv1_1
        self.conv1_1_bgrd = nn.Conv2d(self.in_channels, out_ch, 3, padding=100)
        nn.init.kaiming_normal_(self.conv1_1_bgrd.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.conv1_1_bgrd.bias)
        if batch_norm:
            del self.conv1_1_bn
            self.conv1_1_bgrd_bn = nn.BatchNorm2d(out_ch)

    def _act(self, name: str, h: torch.Tensor) -> torch.Tensor:
        return super()._act("conv1_1_bgrd" if name == "conv1_1" else name, h)


class PascalContextFCN32s(FCN32s):
    """``pascalcontext-fcn32s``: the VOC FCN-32s with 60 outputs (background + 59 classes)."""

    arch = "pascalcontext-fcn32s"
    inputs: tuple[str, ...] = ("color",)
    default_classes = PASCALCONTEXT_CLASSES


class PascalContextFCN16s(FCN16s):
    """``pascalcontext-fcn16s``: the VOC FCN-16s with 60 outputs."""

    arch = "pascalcontext-fcn16s"
    inputs: tuple[str, ...] = ("color",)
    default_classes = PASCALCONTEXT_CLASSES


class PascalContextFCN8s(FCN8s):
    """``pascalcontext-fcn8s``: the VOC FCN-8s with 60 outputs."""

    arch = "pascalcontext-fcn8s"
    inputs: tuple[str, ...] = ("color",)
    default_classes = PASCALCONTEXT_CLASSES

