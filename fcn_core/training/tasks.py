"""Training nets with extra input channels (depth, HHA) and two heads (semantic + geometric).

Where the extra data comes from: a dataset with ``inputs(stem, names)`` / ``geo_label(stem)`` (NYUDv2,
SIFT Flow readers), else sidecar folders of a VOC-layout dataset as ``fcn demo-data --depth --geometric``
writes them: ``Depth/<stem>.png`` (16-bit depth in millimetres), ``HHA/<stem>.png`` and
``GeoLabels/<stem>.png`` (8-bit index, void 255).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from fcn_core.data.errors import DataError
from fcn_core.weights.inputs import InputSpec
from fcn_core.weights.preprocessing import Preprocessing

SIDECARS = {"depth": "Depth", "hha": "HHA", "geo": "GeoLabels"}
#: NYUDv2's statistics (nyud_layers.py) are the defaults for depth and HHA inputs.
NYUD_MEAN_LOG_DEPTH = 7.844
NYUD_MEAN_HHA = (132.431, 94.076, 118.477)


def model_inputs(model: nn.Module) -> tuple[str, ...]:
    """The model's inputs in channel order (("color",) for the VOC nets)."""
    return tuple(getattr(model, "inputs", ("color",)))


def model_tasks(model: nn.Module) -> tuple[str, ...]:
    """The model's tasks (("sem",) for single-headed nets, ("sem", "geo") for two heads)."""
    return tuple(getattr(model, "tasks", ("sem",)))


def input_specs(model: nn.Module, prep: Preprocessing) -> list[InputSpec]:
    """Normalisation of every input: colour with ``prep``; depth ``log(d) - 7.844``; HHA minus the NYUDv2 HHA
    mean on the colour's scale and std (so a scratch recipe's 0-1 input and Caffe's 0-255 both fit)."""
    specs = []
    for name in model_inputs(model):
        if name == "color":
            specs.append(InputSpec("color", 3, prep))
        elif name == "depth":
            specs.append(InputSpec("depth", 1, None, log=True, mean=NYUD_MEAN_LOG_DEPTH))
        elif name == "hha":
            mean = tuple(m * prep.scale for m in NYUD_MEAN_HHA)
            specs.append(InputSpec("hha", 3, Preprocessing("RGB", prep.scale, mean, prep.std)))
        else:
            raise ValueError(f"unknown network input {name!r}")
    return specs


def _sidecar(dataset, stem: str, what: str) -> Path:
    return Path(dataset.root) / SIDECARS[what] / f"{stem}.png"


def _read_png(path: Path, what: str) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise DataError(path, f"{what} file not found (the network needs {what} for every image)")
    array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise DataError(path, f"cannot read {what} image")
    return array


def sample_arrays(dataset, stem: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Raw arrays of ``names`` for one sample: "color" RGB uint8, "depth" (H, W), "hha" uint8 (H, W, 3)."""
    if hasattr(dataset, "inputs"):
        return dataset.inputs(stem, names)
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "color":
            out[name] = dataset.image(stem)
        else:
            array = _read_png(_sidecar(dataset, stem, name), name)
            out[name] = array[..., ::-1].copy() if array.ndim == 3 else array  # cv2 reads BGR
    return out


def sample_targets(dataset, stem: str, tasks: tuple[str, ...]) -> np.ndarray:
    """uint8 labels ``(H, W)`` for one task, ``(H, W, T)`` for several (void 255)."""
    labels = []
    for task in tasks:
        if task == "sem":
            lab = dataset.label(stem)
        elif hasattr(dataset, "geo_label"):
            lab = dataset.geo_label(stem)
        else:
            lab = _read_png(_sidecar(dataset, stem, "geo"), "geometric label").astype(np.uint8)
        if lab is None:
            raise DataError(Path(dataset.root), f"image {stem!r} has no {task} label")
        labels.append(lab)
    return labels[0] if len(labels) == 1 else np.stack(labels, axis=2)


def task_outputs(model: nn.Module, out, tasks: tuple[str, ...]) -> dict[str, dict[int, torch.Tensor]]:
    """``{task: {stride: logits}}`` from a (DDP-wrapped) model's raw output."""
    strides = tuple(model.strides)
    if len(tasks) > 1:
        return {t: {strides[0]: out[t]} for t in tasks}
    return {tasks[0]: out if isinstance(out, dict) else {strides[0]: out}}


def task_classes(model: nn.Module) -> dict[str, int]:
    """Classes per task."""
    return dict(getattr(model, "task_classes", {"sem": model.num_classes}))


def is_plain(model: nn.Module) -> bool:
    """True for the VOC-style nets: colour input only, one task (the training code's original path)."""
    return model_inputs(model) == ("color",) and model_tasks(model) == ("sem",)


def multitask_loss(model: nn.Module, raw, target: torch.Tensor, *, unnormalised: bool) -> torch.Tensor:
    """Sum over tasks of the segmentation loss; ``target`` is ``(N, H, W)`` or ``(N, H, W, T)``."""
    from fcn_core.training.recipe import segmentation_loss

    tasks = model_tasks(model)
    outs = task_outputs(model, raw, tasks)
    total = None
    for i, t in enumerate(tasks):
        tgt = target[..., i] if len(tasks) > 1 else target
        loss = segmentation_loss(outs[t], tgt.contiguous(), unnormalised=unnormalised)
        total = loss if total is None else total + loss
    assert total is not None
    return total


def primary_outputs(model: nn.Module, x: torch.Tensor) -> dict[int, torch.Tensor]:
    """``{stride: logits}`` of the semantic task (what validation scores)."""
    return task_outputs(model, model(x), model_tasks(model))["sem"]


def checkpoint_metadata(model: nn.Module, specs: list[InputSpec], dataset) -> dict:
    """What the checkpoint of a multi-input or two-headed net records: inputs, the extra heads' classes."""
    meta: dict = {"inputs": [s.to_dict() for s in specs]}
    if len(model_tasks(model)) > 1:
        names = getattr(dataset, "task_class_names", None) or {}
        meta["task_classes"] = {"geo": list(names.get("geo", ("sky", "horizontal", "vertical")))}
    return meta
