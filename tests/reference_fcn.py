"""An independent reference for the FCNs, written from the paper/Caffe facts, sharing no code with fcn_core.

* ``reference_forward(state, x, arch)`` runs FCN-32s/16s/8s (and at-once 8s) purely functionally from a
  pytorch-fcn-layout state dict (``conv1_1.weight`` ... ``upscore8.weight``), with the Caffe crops.
* ``expected_state_shapes(arch, n_class)`` lists pytorch-fcn's keys and shapes for the paper variants.
* ``reference_upsample_filter(size)`` is the bilinear filter of Caffe's ``surgery.upsample_filt``.
* ``derive_crop_offsets()`` recomputes the crop offsets from layer geometry (Caffe's coordinate maps), so
  the constants 19/27/31 and 5/9 are checked against arithmetic, not only against a copy of themselves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

VGG_BLOCKS = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
CROPS = {
    "fcn32s": {"out": 19}, "fcn16s": {"pool4": 5, "out": 27}, "fcn8s": {"pool4": 5, "pool3": 9, "out": 31}
}


def expected_state_shapes(arch: str, n_class: int = 21) -> dict[str, tuple[int, ...]]:
    """pytorch-fcn's state-dict keys and shapes for FCN32s/FCN16s/FCN8s(AtOnce), width 1, no batch norm."""
    shapes: dict[str, tuple[int, ...]] = {}
    cin = 3
    for block, (cout, n) in enumerate(VGG_BLOCKS, start=1):
        for i in range(1, n + 1):
            shapes[f"conv{block}_{i}.weight"] = (cout, cin, 3, 3)
            shapes[f"conv{block}_{i}.bias"] = (cout,)
            cin = cout
    shapes.update({"fc6.weight": (4096, 512, 7, 7), "fc6.bias": (4096,)})
    shapes.update({"fc7.weight": (4096, 4096, 1, 1), "fc7.bias": (4096,)})
    shapes.update({"score_fr.weight": (n_class, 4096, 1, 1), "score_fr.bias": (n_class,)})
    deconv = {"upscore": 64, "upscore2": 4, "upscore16": 32, "upscore_pool4": 4, "upscore8": 16}
    if arch == "fcn32s":
        heads = ["upscore"]
    elif arch == "fcn16s":
        shapes.update({"score_pool4.weight": (n_class, 512, 1, 1), "score_pool4.bias": (n_class,)})
        heads = ["upscore2", "upscore16"]
    else:
        shapes.update({"score_pool3.weight": (n_class, 256, 1, 1), "score_pool3.bias": (n_class,)})
        shapes.update({"score_pool4.weight": (n_class, 512, 1, 1), "score_pool4.bias": (n_class,)})
        heads = ["upscore2", "upscore8", "upscore_pool4"]
    for name in heads:
        shapes[f"{name}.weight"] = (n_class, n_class, deconv[name], deconv[name])
    return shapes


def reference_upsample_filter(size: int) -> torch.Tensor:
    """2-D bilinear filter ``(size, size)``: f = ceil(size/2), c = (2f - 1 - f % 2) / (2f)."""
    f = (size + 1) // 2
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    vals = [1 - abs(i / f - c) for i in range(size)]
    row = torch.tensor(vals, dtype=torch.float64)
    return torch.outer(row, row).float()


def _conv(state: dict[str, torch.Tensor], name: str, h: torch.Tensor, padding: int = 0) -> torch.Tensor:
    return F.conv2d(h, state[f"{name}.weight"], state[f"{name}.bias"], padding=padding)


def _deconv(state: dict[str, torch.Tensor], name: str, h: torch.Tensor, stride: int) -> torch.Tensor:
    return F.conv_transpose2d(h, state[f"{name}.weight"], None, stride=stride)


def _cut(h: torch.Tensor, k: int, height: int, width: int) -> torch.Tensor:
    return h.narrow(2, k, height).narrow(3, k, width)


@torch.no_grad()
def reference_forward(state: dict[str, torch.Tensor], x: torch.Tensor, arch: str) -> torch.Tensor:
    """Logits of FCN-32s/16s/8s/8s-atonce for ``x`` (N, 3, H, W) from a pytorch-fcn state dict (eval mode)."""
    h = x
    taps = {}
    for block, (_, n) in enumerate(VGG_BLOCKS, start=1):
        for i in range(1, n + 1):
            h = F.relu(_conv(state, f"conv{block}_{i}", h, padding=100 if (block, i) == (1, 1) else 1))
        h = F.max_pool2d(h, kernel_size=2, stride=2, ceil_mode=True)
        taps[block] = h
    h = F.relu(_conv(state, "fc6", h))
    h = F.relu(_conv(state, "fc7", h))
    score = _conv(state, "score_fr", h)
    H, W = x.shape[2], x.shape[3]
    if arch == "fcn32s":
        return _cut(_deconv(state, "upscore", score, 32), CROPS["fcn32s"]["out"], H, W)
    at_once = arch == "fcn8s-atonce"
    up = _deconv(state, "upscore2", score, 2)
    p4 = taps[4] * 0.01 if at_once else taps[4]
    up = up + _cut(_conv(state, "score_pool4", p4), 5, up.shape[2], up.shape[3])
    if arch == "fcn16s":
        return _cut(_deconv(state, "upscore16", up, 16), CROPS["fcn16s"]["out"], H, W)
    up = _deconv(state, "upscore_pool4", up, 2)
    p3 = taps[3] * 0.0001 if at_once else taps[3]
    up = up + _cut(_conv(state, "score_pool3", p3), 9, up.shape[2], up.shape[3])
    return _cut(_deconv(state, "upscore8", up, 8), CROPS["fcn8s"]["out"], H, W)


def derive_crop_offsets() -> dict[str, float]:
    """Crop offsets from layer geometry: each layer maps its output coordinate to its input's as
    ``in = a * out + b`` (conv/pool: a = stride, b = (kernel - 1) / 2 - pad; deconv: the inverse).
    The crop of a blob against a reference is the difference of their offsets in a common frame."""

    def conv(m: tuple[float, float], k: int, s: int, p: int) -> tuple[float, float]:
        a, b = m  # image = a * blob + b for the blob feeding this layer
        return a * s, a * ((k - 1) / 2 - p) + b

    def deconv(m: tuple[float, float], k: int, s: int) -> tuple[float, float]:
        a, b = m
        return a / s, b - a * (k - 1) / 2 / s

    m = (1.0, 0.0)
    taps = {}
    for block, (_, n) in enumerate(VGG_BLOCKS, start=1):
        for i in range(1, n + 1):
            m = conv(m, 3, 1, 100 if (block, i) == (1, 1) else 1)
        m = conv(m, 2, 2, 0)
        taps[block] = m
    fr = conv(m, 7, 1, 0)  # fc6 (fc7 and score_fr are 1x1)
    up32 = deconv(fr, 64, 32)
    up2 = deconv(fr, 4, 2)
    up16 = deconv(up2, 32, 16)
    up_p4 = deconv(up2, 4, 2)
    up8 = deconv(up_p4, 16, 8)
    assert up32[0] == up16[0] == up8[0] == 1.0
    # A crop k means blob[k] aligns with reference[0]: offset = (ref_b - blob_b) / blob_a.
    return {
        "fcn32s": -up32[1],
        "fcn16s": -up16[1],
        "fcn8s": -up8[1],
        "pool4": (up2[1] - taps[4][1]) / taps[4][0],
        "pool3": (up_p4[1] - taps[3][1]) / taps[3][0],
    }
