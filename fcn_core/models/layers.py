"""Small building blocks shared by the FCN heads: bilinear deconvolution kernels and the paper's crops."""

from __future__ import annotations

import torch
from torch import nn

# Crop offsets of the reference networks (Caffe `Crop` layers as transcribed by pytorch-fcn).
# They follow from conv1_1's padding of 100 and the deconvolution geometry; see DESIGN.md.
CROP_UPSCORE32 = 19  # FCN-32s: upscore (64/32) -> input size
CROP_UPSCORE16 = 27  # FCN-16s: upscore16 (32/16) -> input size
CROP_UPSCORE8 = 31  # FCN-8s: upscore8 (16/8) -> input size
CROP_POOL4 = 5  # score_pool4 -> upscore2 size
CROP_POOL3 = 9  # score_pool3 -> upscore_pool4 size

# At-once FCN-8s scales the skip features so the new score layers learn at a sane rate (pytorch-fcn/Caffe).
ATONCE_POOL4_SCALE = 0.01
ATONCE_POOL3_SCALE = 0.0001


def bilinear_kernel(in_ch: int, out_ch: int, size: int) -> torch.Tensor:
    """Bilinear upsampling weight ``(in_ch, out_ch, size, size)`` for ``ConvTranspose2d``.

    Only the diagonal (channel i -> channel i) is non-zero, so no class mixes into another
    (same as ``surgery.upsample_filt`` in the Caffe reference).
    """
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float64)
    filt1d = 1 - (og - center).abs() / factor
    filt = filt1d[:, None] * filt1d[None, :]
    weight = torch.zeros(in_ch, out_ch, size, size, dtype=torch.float64)
    n = min(in_ch, out_ch)
    idx = torch.arange(n)
    weight[idx, idx] = filt
    return weight.float()


def crop(x: torch.Tensor, offset: int, height: int, width: int) -> torch.Tensor:
    """``x[:, :, offset:offset + height, offset:offset + width]`` (the Caffe Crop layer)."""
    return x[:, :, offset : offset + height, offset : offset + width]


def upscore_layer(num_classes: int, size: int, stride: int) -> nn.ConvTranspose2d:
    """A bias-free class-to-class deconvolution initialised to bilinear interpolation."""
    layer = nn.ConvTranspose2d(num_classes, num_classes, size, stride=stride, bias=False)
    with torch.no_grad():
        layer.weight.copy_(bilinear_kernel(num_classes, num_classes, size))
    return layer


def score_layer(in_ch: int, num_classes: int) -> nn.Conv2d:
    """A 1x1 scoring convolution initialised to zero, as in pytorch-fcn (new heads start silent)."""
    layer = nn.Conv2d(in_ch, num_classes, 1)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
    return layer
