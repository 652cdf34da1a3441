"""FCN-32s, FCN-16s, FCN-8s, at-once FCN-8s and the multi-stride FCN (Long, Shelhamer, Darrell).

Heads, crops and state-dict keys follow pytorch-fcn's ``torchfcn/models/fcn{32,16,8}s.py`` exactly.
"""

from __future__ import annotations

import torch

from .layers import (
    ATONCE_POOL3_SCALE,
    ATONCE_POOL4_SCALE,
    CROP_POOL3,
    CROP_POOL4,
    CROP_UPSCORE8,
    CROP_UPSCORE16,
    CROP_UPSCORE32,
    crop,
    score_layer,
    upscore_layer,
)
from .vgg import VGGTrunkFCN


class FCN32s(VGGTrunkFCN):
    """FCN-32s: ``score_fr`` upsampled 32x by ``upscore`` (64/32), cropped at 19."""

    arch = "fcn32s"
    strides = (32,)

    def __init__(self, num_classes: int = 21, *, batch_norm: bool = False, width: float = 1.0) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        self.score_fr = score_layer(self.fc_channels, num_classes)
        self.upscore = upscore_layer(num_classes, 64, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` for input ``(N, 3, H, W)``."""
        _, _, fc7 = self.trunk(x)
        h = self.upscore(self.score_fr(fc7))
        return crop(h, CROP_UPSCORE32, x.shape[2], x.shape[3]).contiguous()


class FCN16s(VGGTrunkFCN):
    """FCN-16s: 2x ``upscore2`` + ``score_pool4`` (crop 5), then 16x ``upscore16`` (32/16), crop 27."""

    arch = "fcn16s"
    strides = (16,)

    def __init__(self, num_classes: int = 21, *, batch_norm: bool = False, width: float = 1.0) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        self.score_fr = score_layer(self.fc_channels, num_classes)
        self.score_pool4 = score_layer(self.pool4_channels, num_classes)
        self.upscore2 = upscore_layer(num_classes, 4, 2)
        self.upscore16 = upscore_layer(num_classes, 32, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` for input ``(N, 3, H, W)``."""
        _, pool4, fc7 = self.trunk(x)
        up2 = self.upscore2(self.score_fr(fc7))
        h = up2 + crop(self.score_pool4(pool4), CROP_POOL4, up2.shape[2], up2.shape[3])
        h = self.upscore16(h)
        return crop(h, CROP_UPSCORE16, x.shape[2], x.shape[3]).contiguous()


class FCN8s(VGGTrunkFCN):
    """FCN-8s: 16s fusion, 2x ``upscore_pool4`` + ``score_pool3`` (crop 9), ``upscore8`` (16/8), crop 31."""

    arch = "fcn8s"
    strides = (8,)
    # Multipliers on pool4/pool3 before their score layers: 1 for the staged net, 0.01/0.0001 at once.
    pool4_scale = 1.0
    pool3_scale = 1.0

    def __init__(self, num_classes: int = 21, *, batch_norm: bool = False, width: float = 1.0) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        self.score_fr = score_layer(self.fc_channels, num_classes)
        self.score_pool3 = score_layer(self.pool3_channels, num_classes)
        self.score_pool4 = score_layer(self.pool4_channels, num_classes)
        self.upscore2 = upscore_layer(num_classes, 4, 2)
        self.upscore8 = upscore_layer(num_classes, 16, 8)
        self.upscore_pool4 = upscore_layer(num_classes, 4, 2)

    def _skip(self, pool: torch.Tensor, scale: float) -> torch.Tensor:
        return pool if scale == 1.0 else pool * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` for input ``(N, 3, H, W)``."""
        pool3, pool4, fc7 = self.trunk(x)
        up2 = self.upscore2(self.score_fr(fc7))
        s4 = self.score_pool4(self._skip(pool4, self.pool4_scale))
        h = self.upscore_pool4(up2 + crop(s4, CROP_POOL4, up2.shape[2], up2.shape[3]))
        s3 = self.score_pool3(self._skip(pool3, self.pool3_scale))
        h = h + crop(s3, CROP_POOL3, h.shape[2], h.shape[3])
        h = self.upscore8(h)
        return crop(h, CROP_UPSCORE8, x.shape[2], x.shape[3]).contiguous()


class FCN8sAtOnce(FCN8s):
    """At-once FCN-8s: same layers and keys as FCN-8s; pool4 x0.01 and pool3 x0.0001 before scoring."""

    arch = "fcn8s-atonce"
    pool4_scale = ATONCE_POOL4_SCALE
    pool3_scale = ATONCE_POOL3_SCALE


class MultiStrideFCN(VGGTrunkFCN):
    """All three FCN heads on one trunk pass: ``forward(x) -> {32: logits, 16: logits, 8: logits}``.

    The heads share ``score_fr``, ``score_pool4`` and ``upscore2`` exactly as the staged nets do; the 32s,
    16s and 8s outputs come from ``upscore``, ``upscore16`` and ``upscore_pool4``/``upscore8``.
    """

    arch = "fcn-multi"
    strides = (32, 16, 8)

    def __init__(self, num_classes: int = 21, *, batch_norm: bool = False, width: float = 1.0) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        self.score_fr = score_layer(self.fc_channels, num_classes)
        self.score_pool3 = score_layer(self.pool3_channels, num_classes)
        self.score_pool4 = score_layer(self.pool4_channels, num_classes)
        self.upscore = upscore_layer(num_classes, 64, 32)
        self.upscore2 = upscore_layer(num_classes, 4, 2)
        self.upscore16 = upscore_layer(num_classes, 32, 16)
        self.upscore_pool4 = upscore_layer(num_classes, 4, 2)
        self.upscore8 = upscore_layer(num_classes, 16, 8)

    def forward(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """``{32: logits, 16: logits, 8: logits}``, each ``(N, C, H, W)``."""
        height, width = x.shape[2], x.shape[3]
        pool3, pool4, fc7 = self.trunk(x)
        score = self.score_fr(fc7)
        out32 = crop(self.upscore(score), CROP_UPSCORE32, height, width).contiguous()
        up2 = self.upscore2(score)
        fuse16 = up2 + crop(self.score_pool4(pool4), CROP_POOL4, up2.shape[2], up2.shape[3])
        out16 = crop(self.upscore16(fuse16), CROP_UPSCORE16, height, width).contiguous()
        h = self.upscore_pool4(fuse16)
        h = h + crop(self.score_pool3(pool3), CROP_POOL3, h.shape[2], h.shape[3])
        out8 = crop(self.upscore8(h), CROP_UPSCORE8, height, width).contiguous()
        return {32: out32, 16: out16, 8: out8}


MODEL_CLASSES: dict[str, type[VGGTrunkFCN]] = {
    cls.arch: cls for cls in (FCN32s, FCN16s, FCN8s, FCN8sAtOnce, MultiStrideFCN)
}
