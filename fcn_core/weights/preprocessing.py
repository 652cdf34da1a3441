"""How a model expects its input: channel order, scale, mean and std (carried by every checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Preprocessing:
    """``x = (image[channels in color_order] * scale - mean) / std``, per channel.

    ``mean`` and ``std`` are given in ``color_order`` (for Caffe weights: B, G, R).
    """

    color_order: str = "RGB"
    scale: float = 1.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if self.color_order not in ("RGB", "BGR"):
            raise ValueError(f"color_order must be 'RGB' or 'BGR', got {self.color_order!r}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std need exactly 3 values")
        if any(s == 0 for s in self.std):
            raise ValueError("std values must be non-zero")
        # Normalise to plain tuples of floats so equality and JSON round trips are exact.
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        object.__setattr__(self, "scale", float(self.scale))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "color_order": self.color_order,
            "scale": self.scale,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`; raises ValueError for missing or bad fields."""
        try:
            return cls(
                color_order=str(data["color_order"]).upper(),
                scale=float(data["scale"]),
                mean=tuple(float(v) for v in data["mean"]),  # type: ignore[arg-type]
                std=tuple(float(v) for v in data.get("std", (1.0, 1.0, 1.0))),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"bad preprocessing description {data!r}: {exc}") from exc

    def normalize(self, images: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Normalise RGB images ``(N, 3, H, W)`` (uint8 or float, any device) into the network's input.

        Runs wherever ``images`` lives, so the GPU path uploads uint8 and normalises on the device.
        """
        x = images.to(dtype=torch.float32)
        if self.color_order == "BGR":
            x = x.flip(1)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        inv_std = 1.0 / torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
        x = (x * self.scale - mean) * inv_std
        return x.to(dtype)

    def describe(self) -> str:
        """One line for humans, e.g. ``BGR x1 - (104.0, 116.7, 122.7)``."""
        mean = ", ".join(f"{v:.4g}" for v in self.mean)
        std = ", ".join(f"{v:.4g}" for v in self.std)
        return f"{self.color_order}, scale {self.scale:.6g}, mean ({mean}), std ({std})"


#: Weights converted from the Caffe reference models (pytorch-fcn's ``*_from_caffe.pth``).
CAFFE_PREPROCESSING = Preprocessing("BGR", 1.0, (104.00698793, 116.66876762, 122.67891434), (1.0, 1.0, 1.0))
#: torchvision's ImageNet models (``vgg16-397923af.pth``).
IMAGENET_PREPROCESSING = Preprocessing("RGB", 1.0 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
