"""FCN models: paper-exact FCN-32s/16s/8s (VGG16, pytorch-fcn keys), at-once FCN-8s, multi-stride FCN."""

from .builder import (
    ALL_ARCHS,
    ARCHS,
    PAPER_ARCHS,
    build_model,
    copy_compatible_weights,
    count_parameters,
    forward_strides,
    forward_tasks,
    normalize_arch,
)
from .fcn import FCN8s, FCN8sAtOnce, FCN16s, FCN32s, MultiStrideFCN
from .layers import bilinear_kernel
from .vgg import CONV_NAMES, TRUNK_NAMES, VGGTrunkFCN

__all__ = [
    "ALL_ARCHS",
    "ARCHS",
    "PAPER_ARCHS",
    "CONV_NAMES",
    "FCN8s",
    "FCN8sAtOnce",
    "FCN16s",
    "FCN32s",
    "MultiStrideFCN",
    "TRUNK_NAMES",
    "VGGTrunkFCN",
    "bilinear_kernel",
    "build_model",
    "copy_compatible_weights",
    "count_parameters",
    "forward_strides",
    "forward_tasks",
    "normalize_arch",
]
