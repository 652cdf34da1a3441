"""Colouring of the extra input channels: depth on a red (near) to blue (far) ramp, HHA as an image."""

from __future__ import annotations

import numpy as np

from app.input_channels import depth_range

#: RdYlBu-like stops: near is red, far is blue (unlike the confidence map's viridis ramp).
_STOPS = np.array([[180, 4, 38], [244, 109, 67], [254, 224, 144], [116, 173, 209], [49, 54, 149]], np.float32)
DEPTH_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_STOPS)), _STOPS[:, c])
                      for c in range(3)], axis=1).astype(np.uint8)


def _metres(value: float) -> str:
    m = value / 1000
    return f"{m:.1f}" if m >= 10 else f"{m:.2f}"


def depth_rgba(depth: np.ndarray) -> tuple[np.ndarray, str]:
    """(RGBA image, panel title with the range). Depth in millimetres (NYUDv2 and the demo data); values
    outside the 1st..99th percentile are clipped to the ends; no depth (0) is black."""
    d = np.asarray(depth, np.float32)
    if d.ndim == 3:
        d = d[..., 0]
    rng = depth_range(d)
    rgba = np.zeros(d.shape + (4,), np.uint8)
    rgba[..., 3] = 255
    if rng is None:
        return rgba, "Depth (no valid values)"
    near, far = rng
    scaled = (d - near) / max(far - near, 1e-6)
    index = np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)
    valid = np.isfinite(d) & (d > 0)
    rgba[..., :3] = np.where(valid[..., None], DEPTH_LUT[index], 0)
    return rgba, f"Depth red {_metres(near)} – blue {_metres(far)} m"


def hha_rgb(hha: np.ndarray) -> tuple[np.ndarray, str]:
    """The HHA encoding shown as an RGB image (disparity, height, angle as R, G, B)."""
    return np.ascontiguousarray(np.asarray(hha, np.uint8)[..., :3]), "HHA (disparity, height, angle)"
