"""Late fusion of colour and HHA (``nyud-fcn32s-color-hha`` and its 16-stride variant).

Two whole VGG16 streams whose layers carry the modality as suffix (``conv1_1color`` ... ``score_frcolor``,
``conv1_1hha`` ... ``score_frhha``), as the reference's ``modality_fcn``. Their scores are averaged before
upsampling: ``score_fused = 0.5 * score_frcolor + 0.5 * score_frhha`` (Caffe ``Eltwise SUM coeff
[0.5, 0.5]``), then ``upscore`` (64/32), crop 19. ``forward(x)`` takes ``(N, 6, H, W)``: colour
channels then HHA channels.

The 16-stride net (``nyud-fcn16s-color-hha``) has no net.py in the reference repository; here it extends
the 32s net the way FCN-16s extends FCN-32s, fusing both streams the same way at each scale:
``score_pool4color`` / ``score_pool4hha`` averaged, ``upscore2`` (4/2) on ``score_fused``, crop 5, sum,
``upscore16`` (32/16), crop 27.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import CROP_POOL4, CROP_UPSCORE16, CROP_UPSCORE32, crop, score_layer, upscore_layer
from .paper_nets import NYUD_CLASSES
from .streams import add_trunk, run_trunk

MODALITIES = ("color", "hha")


class LateFusionFCN32s(nn.Module):
    """``nyud-fcn32s-color-hha``: colour and HHA streams, scores averaged, one ``upscore``."""

    arch = "nyud-fcn32s-color-hha"
    strides: tuple[int, ...] = (32,)
    inputs: tuple[str, ...] = MODALITIES
    in_channels = 6
    default_classes = NYUD_CLASSES

    def __init__(
        self, num_classes: int = NYUD_CLASSES, *, batch_norm: bool = False, width: float = 1.0
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        self.num_classes = int(num_classes)
        self.batch_norm = bool(batch_norm)
        self.width = float(width)
        for m in MODALITIES:
            chans = add_trunk(self, suffix=m, batch_norm=batch_norm, width=width)
            self.add_module("score_fr" + m, score_layer(chans["fc7"], num_classes))
        self.pool4_channels = chans["conv4_3"]
        self._add_upsampling()

    def _add_upsampling(self) -> None:
        self.upscore = upscore_layer(self.num_classes, 64, 32)

    @property
    def options(self) -> dict[str, object]:
        """Build options (``batch_norm``, ``width``)."""
        return {"batch_norm": self.batch_norm, "width": self.width}

    def stream_scores(self, x: torch.Tensor, modality: str) -> dict[str, torch.Tensor]:
        """One stream alone: its trunk features and ``score_fr<m>`` (before fusion and upsampling)."""
        pool3, pool4, fc7 = run_trunk(self, x, suffix=modality, batch_norm=self.batch_norm)
        return {"pool4": pool4, "score_fr": getattr(self, "score_fr" + modality)(fc7)}

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(color, hha)`` halves of the 6-channel input."""
        if x.shape[1] != 6:
            raise ValueError(f"{self.arch} needs 6 input channels (colour then HHA), got {x.shape[1]}")
        return x[:, :3], x[:, 3:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` for ``x = cat(color, hha)`` ``(N, 6, H, W)``."""
        color, hha = self.split(x)
        c, h = self.stream_scores(color, "color"), self.stream_scores(hha, "hha")
        fused = 0.5 * c["score_fr"] + 0.5 * h["score_fr"]
        return crop(self.upscore(fused), CROP_UPSCORE32, x.shape[2], x.shape[3]).contiguous()


class LateFusionFCN16s(LateFusionFCN32s):
    """``nyud-fcn16s-color-hha``: the 32s fusion plus each stream's ``score_pool4<m>`` (averaged)."""

    arch = "nyud-fcn16s-color-hha"
    strides = (16,)

    def _add_upsampling(self) -> None:
        for m in MODALITIES:
            self.add_module("score_pool4" + m, score_layer(self.pool4_channels, self.num_classes))
        self.upscore2 = upscore_layer(self.num_classes, 4, 2)
        self.upscore16 = upscore_layer(self.num_classes, 32, 16)

    def stream_scores(self, x: torch.Tensor, modality: str) -> dict[str, torch.Tensor]:
        out = super().stream_scores(x, modality)
        out["score_pool4"] = getattr(self, "score_pool4" + modality)(out["pool4"])
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        color, hha = self.split(x)
        c, h = self.stream_scores(color, "color"), self.stream_scores(hha, "hha")
        up2 = self.upscore2(0.5 * c["score_fr"] + 0.5 * h["score_fr"])
        pool4 = 0.5 * c["score_pool4"] + 0.5 * h["score_pool4"]
        fuse = up2 + crop(pool4, CROP_POOL4, up2.shape[2], up2.shape[3])
        return crop(self.upscore16(fuse), CROP_UPSCORE16, x.shape[2], x.shape[3]).contiguous()
