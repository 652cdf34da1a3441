"""FCN weights: pytorch-fcn state dicts, trainer checkpoints, VGG16 init, our safetensors checkpoints.

Loading never unpickles arbitrary objects (``torch.load(weights_only=True)`` or safetensors).
"""

from .caffe_nets import KNOWN_NETS, load_caffemodel
from .checkpoint import (
    CHECKPOINT_FORMAT,
    LoadedModel,
    load_model,
    read_checkpoint_metadata,
    save_checkpoint,
)
from .errors import WeightsError
from .inference import StateDictLayout, infer_layout
from .inputs import InputSpec, network_input, specs_from_metadata
from .preprocessing import CAFFE_PREPROCESSING, IMAGENET_PREPROCESSING, Preprocessing
from .reading import read_weights_file
from .vgg_init import init_from_vgg16

__all__ = [
    "CAFFE_PREPROCESSING",
    "CHECKPOINT_FORMAT",
    "IMAGENET_PREPROCESSING",
    "KNOWN_NETS",
    "InputSpec",
    "LoadedModel",
    "Preprocessing",
    "StateDictLayout",
    "WeightsError",
    "infer_layout",
    "load_caffemodel",
    "network_input",
    "specs_from_metadata",
    "init_from_vgg16",
    "load_model",
    "read_checkpoint_metadata",
    "read_weights_file",
    "save_checkpoint",
]
