"""Two-headed nets: one VGG16 trunk pass, a semantic and a geometric head (``siftflow-fcn32s/16s/8s``).

Every head layer carries its task as suffix, as in the reference: ``score_fr_sem``, ``upscore_sem`` (32s);
``upscore2_sem``, ``score_pool4_sem``, ``upscore16_sem`` (16s); ``upscore_pool4_sem``, ``score_pool3_sem``,
``upscore8_sem`` (8s); the same with ``_geo``. Crops are the VOC nets'.

``forward(x)`` returns ``{"sem": logits (N, 33, H, W), "geo": logits (N, 3, H, W)}`` from one trunk pass;
``fcn_core.models.forward_tasks`` gives ``{task: {stride: logits}}`` and ``forward_strides`` the semantic
task's ``{stride: logits}`` (what the predictor and the app show).
"""

from __future__ import annotations

import torch

from .layers import (
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

SIFTFLOW_SEMANTIC = 33
SIFTFLOW_GEOMETRIC = 3  # sky, horizontal, vertical


class TwoHeadFCN(VGGTrunkFCN):
    """Base: ``tasks`` = ("sem", "geo"), ``task_classes`` = {task: classes}; ``num_classes`` is the semantic
    count. ``head_stride`` (32, 16 or 8) picks the head; ``strides`` = (head_stride,)."""

    head_stride = 32
    tasks: tuple[str, ...] = ("sem", "geo")
    primary_task = "sem"
    inputs: tuple[str, ...] = ("color",)
    default_classes = SIFTFLOW_SEMANTIC

    def __init__(self, num_classes: int = SIFTFLOW_SEMANTIC, *, batch_norm: bool = False, width: float = 1.0,
                 geo_classes: int = SIFTFLOW_GEOMETRIC) -> None:
        super().__init__(num_classes, batch_norm=batch_norm, width=width)
        self.task_classes = {"sem": int(num_classes), "geo": int(geo_classes)}
        for task, n in self.task_classes.items():
            self._add_head(task, n)

    def _add_head(self, t: str, n: int) -> None:
        self.add_module(f"score_fr_{t}", score_layer(self.fc_channels, n))
        if self.head_stride == 32:
            self.add_module(f"upscore_{t}", upscore_layer(n, 64, 32))
            return
        self.add_module(f"upscore2_{t}", upscore_layer(n, 4, 2))
        self.add_module(f"score_pool4_{t}", score_layer(self.pool4_channels, n))
        if self.head_stride == 16:
            self.add_module(f"upscore16_{t}", upscore_layer(n, 32, 16))
            return
        self.add_module(f"upscore_pool4_{t}", upscore_layer(n, 4, 2))
        self.add_module(f"score_pool3_{t}", score_layer(self.pool3_channels, n))
        self.add_module(f"upscore8_{t}", upscore_layer(n, 16, 8))

    def _head(self, t: str, pool3: torch.Tensor, pool4: torch.Tensor, fc7: torch.Tensor,
              size: tuple[int, int]) -> torch.Tensor:
        layer = lambda name: getattr(self, f"{name}_{t}")  # noqa: E731
        score = layer("score_fr")(fc7)
        if self.head_stride == 32:
            return crop(layer("upscore")(score), CROP_UPSCORE32, *size)
        up2 = layer("upscore2")(score)
        fuse4 = up2 + crop(layer("score_pool4")(pool4), CROP_POOL4, up2.shape[2], up2.shape[3])
        if self.head_stride == 16:
            return crop(layer("upscore16")(fuse4), CROP_UPSCORE16, *size)
        h = layer("upscore_pool4")(fuse4)
        h = h + crop(layer("score_pool3")(pool3), CROP_POOL3, h.shape[2], h.shape[3])
        return crop(layer("upscore8")(h), CROP_UPSCORE8, *size)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"sem": logits, "geo": logits}``, each ``(N, classes, H, W)``, from one trunk pass."""
        pool3, pool4, fc7 = self.trunk(x)
        size = (x.shape[2], x.shape[3])
        return {t: self._head(t, pool3, pool4, fc7, size).contiguous() for t in self.tasks}


class SiftFlowFCN32s(TwoHeadFCN):
    """``siftflow-fcn32s``."""

    arch = "siftflow-fcn32s"
    strides = (32,)
    head_stride = 32


class SiftFlowFCN16s(TwoHeadFCN):
    """``siftflow-fcn16s``."""

    arch = "siftflow-fcn16s"
    strides = (16,)
    head_stride = 16


class SiftFlowFCN8s(TwoHeadFCN):
    """``siftflow-fcn8s``."""

    arch = "siftflow-fcn8s"
    strides = (8,)
    head_stride = 8
