"""Loading any supported FCN weights into a ready model, and saving our own safetensors checkpoints."""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..data.atomic import atomic_path
from ..data.palette import VOC_CLASSES, full_palette
from ..models import build_model, normalize_arch
from .errors import WeightsError, list_keys
from .inference import StateDictLayout, infer_layout, same_family
from .preprocessing import CAFFE_PREPROCESSING, Preprocessing
from .reading import read_weights_file

CHECKPOINT_FORMAT = "fcn-studio/checkpoint"
CHECKPOINT_VERSION = "1"


@dataclass
class LoadedModel:
    """A model ready for inference plus everything needed to use it (classes, colours, preprocessing)."""

    model: nn.Module
    arch: str
    num_classes: int
    class_names: list[str]
    palette: np.ndarray  # (256, 3) uint8
    void_index: int  # void value of the source dataset's files (255 in memory)
    preprocessing: Preprocessing
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def strides(self) -> tuple[int, ...]:
        """Output strides the model produces, e.g. ``(8,)`` or ``(32, 16, 8)``."""
        return tuple(self.model.strides)

    @property
    def parameter_count(self) -> int:
        """Number of parameters of the model."""
        return sum(p.numel() for p in self.model.parameters())


def _default_class_names(n: int) -> list[str]:
    return list(VOC_CLASSES) if n == len(VOC_CLASSES) else [f"class {i}" for i in range(n)]


def _json_meta(meta: dict[str, str], key: str, path: Path) -> Any:
    if key not in meta:
        raise WeightsError(path, f"checkpoint metadata lacks '{key}'")
    try:
        return json.loads(meta[key])
    except ValueError as exc:
        raise WeightsError(path, f"checkpoint metadata '{key}' is not valid JSON ({exc})") from exc


def _check_shapes(model: nn.Module, state: dict[str, torch.Tensor], arch: str, path: Path) -> None:
    expected = model.state_dict()
    missing = set(expected) - set(state)
    unexpected = set(state) - set(expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {list_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {list_keys(unexpected)}")
        raise WeightsError(path, f"does not match {arch}: " + "; ".join(parts))
    for key, ref in expected.items():
        if tuple(state[key].shape) != tuple(ref.shape):
            raise WeightsError(
                path,
                f"layer {key} has shape {tuple(state[key].shape)} in the file "
                f"but {arch} needs {tuple(ref.shape)}",
            )


def _build_loaded(
    state: dict[str, torch.Tensor], arch: str, layout: StateDictLayout, path: Path
) -> nn.Module:
    # Build without allocating/initialising real weights, then adopt the file's tensors (fast for 134 M).
    with torch.device("meta"):
        model = build_model(arch, layout.num_classes, batch_norm=layout.batch_norm, width=layout.width)
    _check_shapes(model, state, arch, path)
    state = {
        k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in state.items()
    }
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


def load_model(
    path: str | os.PathLike[str], *, arch: str | None = None, num_classes: int | None = None
) -> LoadedModel:
    """Load an FCN from a pytorch-fcn ``.pth`` (plain or trainer dict), our ``.safetensors`` checkpoint or a
    fcn.berkeleyvision.org ``.caffemodel`` (see ``caffe_nets``).

    ``arch`` overrides what the file says (needed only for at-once FCN-8s in plain files, whose keys equal
    FCN-8s'); ``num_classes``, when given, must equal the file's. Returns a CPU model in eval mode.
    Raises :class:`WeightsError` naming the file and the problem.
    """
    p = Path(path)
    if p.suffix.lower() == ".caffemodel":  # a reference net from fcn.berkeleyvision.org, read without Caffe
        from .caffe_nets import load_caffemodel

        return load_caffemodel(p, arch=arch, num_classes=num_classes)
    state, st_meta, trainer_info = read_weights_file(p)
    layout = infer_layout(state, p)
    ours = bool(st_meta) and st_meta.get("format") == CHECKPOINT_FORMAT

    file_arch = layout.arch
    if ours:
        if "arch" not in st_meta:
            raise WeightsError(p, "checkpoint metadata lacks 'arch'")
        try:
            file_arch = normalize_arch(st_meta["arch"])
        except ValueError as exc:
            raise WeightsError(p, f"checkpoint metadata names an {exc}") from exc
        options = _json_meta(st_meta, "options", p)
        layout = StateDictLayout(
            file_arch, layout.num_classes, bool(options.get("batch_norm", False)),
            float(options.get("width", layout.width)),
        )
    elif isinstance(trainer_info.get("arch"), str):
        try:  # pytorch-fcn's trainer records the class name, e.g. "FCN8sAtOnce"
            named = normalize_arch(trainer_info["arch"])
            if same_family(named, layout.arch):
                file_arch = named
        except ValueError:
            pass
    if arch is not None:
        try:
            wanted = normalize_arch(arch)
        except ValueError as exc:
            raise WeightsError(p, str(exc)) from exc
        if not same_family(wanted, file_arch):
            raise WeightsError(p, f"file holds {file_arch} weights but {wanted} was requested")
        file_arch = wanted
    if num_classes is not None and int(num_classes) != layout.num_classes:
        raise WeightsError(p, f"file has {layout.num_classes} classes but {int(num_classes)} were requested")

    model = _build_loaded(state, file_arch, layout, p)
    options = {"batch_norm": layout.batch_norm, "width": layout.width}
    if ours:
        class_names = [str(c) for c in _json_meta(st_meta, "class_names", p)]
        if len(class_names) != layout.num_classes:
            raise WeightsError(
                p, f"checkpoint names {len(class_names)} classes but its weights have {layout.num_classes}"
            )
        palette = full_palette(np.asarray(_json_meta(st_meta, "palette", p), dtype=np.uint8).reshape(-1, 3))
        try:
            preprocessing = Preprocessing.from_dict(_json_meta(st_meta, "preprocessing", p))
        except ValueError as exc:
            raise WeightsError(p, f"checkpoint preprocessing is invalid ({exc})") from exc
        try:
            void_index = int(st_meta.get("void_index", "255"))
        except ValueError as exc:
            raise WeightsError(p, f"checkpoint void_index {st_meta['void_index']!r} is not a number") from exc
        metadata = dict(_json_meta(st_meta, "metadata", p)) if "metadata" in st_meta else {}
    else:
        # A plain pytorch-fcn file: the converted Caffe VOC models (BGR, 0-255, mean subtraction).
        class_names = _default_class_names(layout.num_classes)
        palette = full_palette(None)
        preprocessing = CAFFE_PREPROCESSING
        void_index = 255
        metadata = {"source": "pytorch-fcn state dict", **trainer_info}
    return LoadedModel(
        model=model, arch=file_arch, num_classes=layout.num_classes, class_names=class_names, palette=palette,
        void_index=void_index, preprocessing=preprocessing, options=options, metadata=metadata, path=p,
    )


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    *,
    arch: str | None = None,
    class_names: list[str] | tuple[str, ...],
    palette: np.ndarray | None = None,
    void_index: int = 255,
    preprocessing: Preprocessing,
    options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save ``model`` as one ``.safetensors`` file whose ``__metadata__`` describes how to use it.

    ``__metadata__`` holds JSON strings: ``format``, ``format_version``, ``arch``, ``num_classes``,
    ``options`` ({batch_norm, width}), ``class_names``, ``palette`` (one RGB triple per class),
    ``void_index``, ``preprocessing``, ``metadata`` (free-form: provenance, recipe, scores), ``saved_at``.
    The write is atomic.
    """
    from safetensors.torch import save_file

    model_arch = getattr(model, "arch", None)
    arch = normalize_arch(arch or model_arch or "")
    if model_arch is not None and not same_family(arch, model_arch):
        raise ValueError(f"arch {arch!r} does not match the model's arch {model_arch!r}")
    num_classes = int(model.num_classes)
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names given for a model with {num_classes} classes")
    opts = dict(getattr(model, "options", {}) or {})
    opts.update(options or {})
    pal = full_palette(palette)[:num_classes]
    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "arch": arch,
        "num_classes": str(num_classes),
        "options": json.dumps(opts),
        "class_names": json.dumps([str(c) for c in class_names]),
        "palette": json.dumps(pal.astype(int).tolist()),
        "void_index": str(int(void_index)),
        "preprocessing": json.dumps(preprocessing.to_dict()),
        "metadata": json.dumps(metadata or {}, default=str),
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fcn_studio_version": __version__,
    }
    # safetensors needs contiguous CPU tensors that share no memory.
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)


def read_checkpoint_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``__metadata__`` of one of our checkpoints (JSON fields decoded), without loading weights."""
    from safetensors import safe_open

    p = Path(path)
    try:
        with safe_open(str(p), framework="pt", device="cpu") as fh:
            raw = dict(fh.metadata() or {})
    except Exception as exc:
        raise WeightsError(p, f"not a safetensors checkpoint ({exc})") from exc
    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out
