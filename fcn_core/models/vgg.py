"""The VGG16 trunk of the FCNs, with the layer names of pytorch-fcn (``conv1_1`` ... ``fc7``).

The layers are attributes of the model itself (not a nested module) so the state-dict keys are exactly
pytorch-fcn's and ``fcn8s_from_caffe.pth`` loads unchanged. Options beyond the paper:

* ``batch_norm=True`` adds ``BatchNorm2d`` after every trunk convolution including fc6 and fc7; its keys are
  the convolution's name plus ``_bn`` (``conv1_1_bn.weight``, ``fc6_bn.running_mean``, ...).
* ``width`` scales every trunk channel count (64/128/256/512/512 and 4096 for fc6/fc7), e.g. 0.25 gives
  16/32/64/128/128 and 1024 (about 8.4 M parameters for FCN-8s).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# (stage, number of 3x3 convs, channels at width 1)
VGG16_STAGES: tuple[tuple[int, int, int], ...] = (
    (1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512)
)
FC_CHANNELS = 4096
CONV_NAMES: tuple[str, ...] = tuple(f"conv{s}_{i}" for s, n, _ in VGG16_STAGES for i in range(1, n + 1))
TRUNK_NAMES: tuple[str, ...] = CONV_NAMES + ("fc6", "fc7")


def scaled(channels: int, width: float) -> int:
    """Channel count at ``width`` (at least 1)."""
    return max(1, int(round(channels * width)))


def trunk_channels(width: float) -> dict[str, int]:
    """Output channels of every trunk layer (``conv1_1`` ... ``fc7``) at ``width``."""
    out = {f"conv{s}_{i}": scaled(c, width) for s, n, c in VGG16_STAGES for i in range(1, n + 1)}
    out["fc6"] = out["fc7"] = scaled(FC_CHANNELS, width)
    return out


class VGGTrunkFCN(nn.Module):
    """Base of every FCN: builds the VGG16 trunk and runs it, returning pool3, pool4 and fc7 features.

    Subclasses add the scoring heads. Class attributes ``arch`` and ``strides`` name the variant.
    """

    arch: str = ""
    strides: tuple[int, ...] = ()

    def __init__(self, num_classes: int = 21, *, batch_norm: bool = False, width: float = 1.0) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        self.num_classes = int(num_classes)
        self.batch_norm = bool(batch_norm)
        self.width = float(width)
        chans = trunk_channels(width)
        in_ch = 3
        for name in CONV_NAMES:
            # conv1_1 pads by 100 so that every input size (even 1x1) survives the 5 pools and fc6's 7x7.
            pad = 100 if name == "conv1_1" else 1
            self.add_module(name, nn.Conv2d(in_ch, chans[name], 3, padding=pad))
            if batch_norm:
                self.add_module(f"{name}_bn", nn.BatchNorm2d(chans[name]))
            in_ch = chans[name]
        self.fc6 = nn.Conv2d(in_ch, chans["fc6"], 7)
        if batch_norm:
            self.fc6_bn = nn.BatchNorm2d(chans["fc6"])
        self.drop6 = nn.Dropout2d()
        self.fc7 = nn.Conv2d(chans["fc6"], chans["fc7"], 1)
        if batch_norm:
            self.fc7_bn = nn.BatchNorm2d(chans["fc7"])
        self.drop7 = nn.Dropout2d()
        self.pool3_channels = chans["conv3_3"]
        self.pool4_channels = chans["conv4_3"]
        self.fc_channels = chans["fc7"]
        self._init_trunk()

    def _init_trunk(self) -> None:
        # pytorch-fcn zeroes the whole trunk and always overwrites it from VGG16; we use He init instead so
        # that training from scratch (e.g. the batch-norm variant) also works. Loaded weights replace it.
        for name in TRUNK_NAMES:
            conv = getattr(self, name)
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(conv.bias)

    def _act(self, name: str, h: torch.Tensor) -> torch.Tensor:
        h = getattr(self, name)(h)
        if self.batch_norm:
            h = getattr(self, f"{name}_bn")(h)
        return F.relu(h, inplace=True)

    def trunk(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run conv1_1 ... fc7 (with dropout); return ``(pool3, pool4, fc7)`` features."""
        h = x
        pools: dict[int, torch.Tensor] = {}
        for stage, n, _ in VGG16_STAGES:
            for i in range(1, n + 1):
                h = self._act(f"conv{stage}_{i}", h)
            h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
            pools[stage] = h
        h = self.drop6(self._act("fc6", h))
        h = self.drop7(self._act("fc7", h))
        return pools[3], pools[4], h

    @property
    def options(self) -> dict[str, object]:
        """Build options (``batch_norm``, ``width``); with arch and num_classes they rebuild the model."""
        return {"batch_norm": self.batch_norm, "width": self.width}
