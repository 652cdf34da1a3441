"""The nets of fcn.berkeleyvision.org as ``.caffemodel`` files: recognise them and load them as our models.

Recognition uses only the layer names and the score layer's class count (the table in :data:`KNOWN_NETS`):
the reference nets differ in head layers (``upscore`` / ``upscore16`` / ``upscore8`` / ``scale_pool4``), in
suffixes (``_sem`` / ``_geo``, ``color`` / ``hha``), in ``conv1_1_bgrd`` and in class count (VOC 21,
PASCAL-Context 60, NYUDv2 40, SIFT Flow 33 + 3). NYUDv2 colour and HHA FCN-32s have identical layers; the file
name tells them apart (``hha`` in it: HHA), or ``arch=`` does. Each layer's first blob becomes
``<name>.weight`` and the second ``<name>.bias`` (an ``InnerProduct`` fc6/fc7 is reshaped into the conv).
A net that matches no entry is refused with the layers found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.formats.nyud import NYUD_CLASSES, NYUD_MEAN_BGR, NYUD_MEAN_HHA, NYUD_MEAN_LOG_DEPTH
from ..data.formats.siftflow import GEOMETRIC_CLASSES, SIFTFLOW_CLASSES, SIFTFLOW_MEAN_BGR
from ..data.palette import VOC_CLASSES, full_palette
from ..models import build_model, normalize_arch
from .caffe_proto import CaffeLayer, read_caffemodel
from .errors import WeightsError, list_keys
from .inference import _snap_width
from .inputs import InputSpec
from .preprocessing import CAFFE_PREPROCESSING, Preprocessing

#: PASCAL-Context: background + the 59 classes (reference data/pascal-context/classes-59.txt).
PASCALCONTEXT_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor", "bag", "bed", "bench", "book", "building", "cabinet", "ceiling", "clothes", "computer",
    "cup", "door", "fence", "floor", "flower", "food", "grass", "ground", "keyboard", "light",
    "mountain", "mouse", "curtain", "platform", "sign", "plate", "road", "rock", "shelves", "sidewalk",
    "sky", "snow", "bedcloth", "track", "tree", "truck", "wall", "water", "window", "wood",
)
PASCALCONTEXT_MEAN_BGR = (104.007, 116.669, 122.679)  # pascalcontext_layers.py

_COLOR = {
    "voc": InputSpec("color", 3, CAFFE_PREPROCESSING),
    "pascalcontext": InputSpec("color", 3, Preprocessing("BGR", 1.0, PASCALCONTEXT_MEAN_BGR)),
    "nyud": InputSpec("color", 3, Preprocessing("BGR", 1.0, NYUD_MEAN_BGR)),
    "siftflow": InputSpec("color", 3, Preprocessing("BGR", 1.0, SIFTFLOW_MEAN_BGR)),
}
# HHA is used in file channel order (the reference does not flip it).
HHA_INPUT = InputSpec("hha", 3, Preprocessing("RGB", 1.0, NYUD_MEAN_HHA))
DEPTH_INPUT = InputSpec("depth", 1, None, log=True, mean=NYUD_MEAN_LOG_DEPTH)


@dataclass(frozen=True)
class KnownNet:
    """One reference net: its folder name in fcn.berkeleyvision.org, our arch, classes and inputs."""

    reference: str
    arch: str
    class_names: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    task_classes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # extra heads: (("geo", names),)

    @property
    def preprocessing(self) -> Preprocessing:
        """The first input's normalisation (the colour image, or HHA for the HHA-only net)."""
        assert self.inputs[0].preprocessing is not None
        return self.inputs[0].preprocessing


def _net(reference: str, arch: str, names, inputs, tasks=()) -> KnownNet:
    return KnownNet(reference, arch, tuple(names), tuple(inputs), tuple(tasks))


KNOWN_NETS: dict[str, KnownNet] = {
    k.reference: k
    for k in (
        _net("voc-fcn32s", "fcn32s", VOC_CLASSES, [_COLOR["voc"]]),
        _net("voc-fcn16s", "fcn16s", VOC_CLASSES, [_COLOR["voc"]]),
        _net("voc-fcn8s", "fcn8s", VOC_CLASSES, [_COLOR["voc"]]),
        _net("voc-fcn8s-atonce", "fcn8s-atonce", VOC_CLASSES, [_COLOR["voc"]]),
        *(
            _net(f"pascalcontext-fcn{s}s", f"pascalcontext-fcn{s}s", PASCALCONTEXT_CLASSES,
                 [_COLOR["pascalcontext"]])
            for s in (32, 16, 8)
        ),
        _net("nyud-fcn32s-color", "nyud-fcn32s-color", NYUD_CLASSES, [_COLOR["nyud"]]),
        _net("nyud-fcn32s-hha", "nyud-fcn32s-hha", NYUD_CLASSES, [HHA_INPUT]),
        _net("nyud-fcn32s-color-d", "nyud-fcn32s-color-d", NYUD_CLASSES, [_COLOR["nyud"], DEPTH_INPUT]),
        _net("nyud-fcn32s-color-hha", "nyud-fcn32s-color-hha", NYUD_CLASSES, [_COLOR["nyud"], HHA_INPUT]),
        _net("nyud-fcn16s-color-hha", "nyud-fcn16s-color-hha", NYUD_CLASSES, [_COLOR["nyud"], HHA_INPUT]),
        *(
            _net(f"siftflow-fcn{s}s", f"siftflow-fcn{s}s", SIFTFLOW_CLASSES, [_COLOR["siftflow"]],
                 [("geo", GEOMETRIC_CLASSES)])
            for s in (32, 16, 8)
        ),
    )
}
ARCH_TO_NET: dict[str, KnownNet] = {k.arch: k for k in KNOWN_NETS.values()}

# Layers that carry blobs in the reference nets but are no parameters of ours: at-once FCN-8s' fixed
# Scale layers (0.01 / 0.0001; our model multiplies by the same constants).
_SCALE_LAYERS = ("scale_pool4", "scale_pool3")


def _stride(names: set[str], suffix: str = "") -> int | None:
    if f"upscore8{suffix}" in names:
        return 8
    if f"upscore16{suffix}" in names:
        return 16
    if f"upscore{suffix}" in names:
        return 32
    return None


def identify(layers: list[CaffeLayer], path: Path | None) -> KnownNet:
    """The reference net these layers come from; WeightsError (listing the layers) when none fits."""
    names = {layer.name for layer in layers if layer.blobs}
    by_name = {layer.name: layer for layer in layers if layer.blobs}

    def classes(layer: str) -> int | None:
        blobs = by_name[layer].blobs if layer in by_name else []
        return int(blobs[0].shape[0]) if blobs and blobs[0].ndim >= 1 else None

    ref: str | None = None
    if "score_fr_sem" in names and "score_fr_geo" in names:
        s = _stride(names, "_sem")
        ref = f"siftflow-fcn{s}s" if s else None
        n = classes("score_fr_sem")
    elif "conv1_1color" in names and "conv1_1hha" in names:
        s = _stride(names)
        ref = {32: "nyud-fcn32s-color-hha", 16: "nyud-fcn16s-color-hha"}.get(s or 0)
        n = classes("score_frcolor")
    elif "conv1_1_bgrd" in names:
        ref = "nyud-fcn32s-color-d" if _stride(names) == 32 else None
        n = classes("score_fr")
    else:
        s = _stride(names)
        n = classes("score_fr")
        if s is not None and n is not None and "conv1_1" in names:
            dataset = {21: "voc", 60: "pascalcontext", 40: "nyud"}.get(n)
            if dataset == "voc":
                ref = f"voc-fcn{s}s" + ("-atonce" if s == 8 and "scale_pool4" in names else "")
            elif dataset == "pascalcontext":
                ref = f"pascalcontext-fcn{s}s"
            elif dataset == "nyud" and s == 32:
                hha = path is not None and "hha" in path.name.lower()
                ref = "nyud-fcn32s-hha" if hha else "nyud-fcn32s-color"
    if ref is None or ref not in KNOWN_NETS or n != len(KNOWN_NETS[ref].class_names):
        found = [f"{layer.name} ({layer.type}, {'/'.join(str(tuple(b.shape)) for b in layer.blobs)})"
                 for layer in layers if layer.blobs]
        raise WeightsError(
            path,
            "is not one of the known fcn.berkeleyvision.org nets (VOC, PASCAL-Context, NYUDv2, SIFT Flow); "
            f"layers with weights: {'; '.join(found)}",
        )
    return KNOWN_NETS[ref]


def _width(layers: list[CaffeLayer]) -> float:
    for layer in layers:
        if layer.name in ("fc6", "fc6color") and layer.blobs:
            return _snap_width(layer.blobs[0].shape[0] / 4096.0)
    return 1.0


def caffe_state_dict(layers: list[CaffeLayer], model: torch.nn.Module, arch: str, path: Path | None
                     ) -> dict[str, torch.Tensor]:
    """Blobs by layer name -> ``model``'s state dict (shapes checked; fully connected blobs reshaped)."""
    expected = model.state_dict()
    state: dict[str, torch.Tensor] = {}
    for layer in layers:
        if layer.blobs and layer.name in _SCALE_LAYERS:
            want_scale = getattr(model, f"{layer.name[len('scale_'):]}_scale", None)
            if want_scale is None or not np.allclose(layer.blobs[0], want_scale, rtol=1e-5):
                raise WeightsError(path, f"layer {layer.name} scales by {np.unique(layer.blobs[0])[:4]}; "
                                         f"{arch} multiplies by {want_scale}")
            continue
        if not layer.blobs:
            continue
        for field, blob in zip(("weight", "bias"), layer.blobs[:2]):
            key = f"{layer.name}.{field}"
            if key not in expected:
                raise WeightsError(path, f"layer {layer.name} ({layer.type}) has no counterpart in {arch}")
            want = tuple(expected[key].shape)
            if tuple(blob.shape) != want:
                if blob.size != expected[key].numel():
                    raise WeightsError(
                        path, f"layer {layer.name} {field} has shape {tuple(blob.shape)}; {arch} needs {want}"
                    )
                blob = blob.reshape(want)  # InnerProduct fc6 (4096, 25088) -> conv (4096, 512, 7, 7)
            state[key] = torch.from_numpy(blob.astype("float32", copy=True))
    missing = set(expected) - set(state)
    if missing:
        raise WeightsError(path, f"lacks weights for {arch} layers: {list_keys(missing)}")
    return state


def load_caffemodel(
    path: str | os.PathLike[str], *, arch: str | None = None, num_classes: int | None = None
):
    """Load a reference ``.caffemodel`` as a :class:`LoadedModel` (CPU, eval mode) with the reference's
    classes and preprocessing; ``metadata["inputs"]`` lists the input channels, ``metadata["reference"]``
    the net, ``metadata["task_classes"]`` the extra heads' class names (SIFT Flow: geometric)."""
    from .checkpoint import LoadedModel

    p = Path(path)
    layers = read_caffemodel(p)
    net = identify(layers, p)
    if arch is not None:
        try:
            wanted = normalize_arch(arch)
        except ValueError as exc:
            raise WeightsError(p, str(exc)) from exc
        # Only nets with identical layers can be told apart by the caller: NYUDv2 colour / HHA, and
        # FCN-8s / at-once FCN-8s (whose Scale layers a converted file may lack).
        same_layers = ({"nyud-fcn32s-color", "nyud-fcn32s-hha"}, {"fcn8s", "fcn8s-atonce"})
        if wanted != net.arch and not any({wanted, net.arch} <= group for group in same_layers):
            raise WeightsError(p, f"file holds {net.reference} weights but {wanted} was requested")
        net = ARCH_TO_NET[wanted]
    n = len(net.class_names)
    if num_classes is not None and int(num_classes) != n:
        raise WeightsError(p, f"file has {n} classes but {int(num_classes)} were requested")
    width = _width(layers)
    with torch.device("meta"):
        model = build_model(net.arch, n, width=width)
    state = caffe_state_dict(layers, model, net.arch, p)
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    metadata = {
        "source": "caffemodel",
        "reference": net.reference,
        "inputs": [s.to_dict() for s in net.inputs],
        "task_classes": {t: list(names) for t, names in net.task_classes},
    }
    return LoadedModel(
        model=model, arch=net.arch, num_classes=n, class_names=list(net.class_names),
        palette=full_palette(None), void_index=255, preprocessing=net.preprocessing,
        options={"batch_norm": False, "width": width}, metadata=metadata, path=p,
    )
