"""Building FCNs by name, calling any of them uniformly, and copying weights between variants."""

from __future__ import annotations

import torch
from torch import nn

from .fcn import MODEL_CLASSES
from .fusion import LateFusionFCN16s, LateFusionFCN32s
from .paper_nets import (
    NYUDColorFCN32s,
    NYUDHHAFCN32s,
    NYUDRGBDFCN32s,
    PascalContextFCN8s,
    PascalContextFCN16s,
    PascalContextFCN32s,
)
from .two_heads import SiftFlowFCN8s, SiftFlowFCN16s, SiftFlowFCN32s

ARCHS: tuple[str, ...] = ("fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce", "fcn-multi")

# The other nets of fcn.berkeleyvision.org (NYUDv2, PASCAL-Context, SIFT Flow), named by reference folder.
PAPER_MODEL_CLASSES: dict[str, type[nn.Module]] = {
    cls.arch: cls
    for cls in (
        NYUDColorFCN32s, NYUDHHAFCN32s, NYUDRGBDFCN32s, LateFusionFCN32s, LateFusionFCN16s,
        PascalContextFCN32s, PascalContextFCN16s, PascalContextFCN8s,
        SiftFlowFCN32s, SiftFlowFCN16s, SiftFlowFCN8s,
    )
}
PAPER_ARCHS: tuple[str, ...] = tuple(PAPER_MODEL_CLASSES)
ALL_ARCHS: tuple[str, ...] = ARCHS + PAPER_ARCHS

# Friendly spellings accepted by `build_model` / the CLI (pytorch-fcn class names, "8s", ...).
_ALIASES = {
    "fcn8satonce": "fcn8s-atonce",
    "fcn8s_atonce": "fcn8s-atonce",
    "atonce": "fcn8s-atonce",
    "multi": "fcn-multi",
    "fcnmulti": "fcn-multi",
    "multistridefcn": "fcn-multi",
    "32s": "fcn32s",
    "16s": "fcn16s",
    "8s": "fcn8s",
}


def normalize_arch(arch: str) -> str:
    """Canonical arch name (``"FCN8sAtOnce"`` -> ``"fcn8s-atonce"``); raises ValueError for unknown names."""
    key = str(arch).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in ALL_ARCHS:
        raise ValueError(f"unknown FCN architecture {arch!r}; choose one of {', '.join(ALL_ARCHS)}")
    return key


def build_model(
    arch: str, num_classes: int | None = None, *, batch_norm: bool = False, width: float = 1.0
) -> nn.Module:
    """Build an FCN by name (one of ``ARCHS`` or ``PAPER_ARCHS``).

    Score layers start at zero and deconvolutions at bilinear interpolation, as in pytorch-fcn; with
    ``batch_norm=False, width=1.0`` the state-dict keys and shapes are exactly pytorch-fcn's (and, for the
    ``PAPER_ARCHS``, the reference's layer names). ``num_classes`` defaults to 21 for ``ARCHS`` and to the
    reference's count for the others (NYUDv2 40, PASCAL-Context 60, SIFT Flow 33 semantic + 3 geometric).
    """
    key = normalize_arch(arch)
    cls = MODEL_CLASSES.get(key) or PAPER_MODEL_CLASSES[key]
    if num_classes is None:
        num_classes = getattr(cls, "default_classes", 21)
    return cls(num_classes, batch_norm=batch_norm, width=width)


def forward_tasks(model: nn.Module, x: torch.Tensor) -> dict[str, dict[int, torch.Tensor]]:
    """Run any FCN and return ``{task: {stride: logits}}``; single-task models have the one task "sem"."""
    out = model(x)
    tasks = getattr(model, "tasks", None)
    if tasks:
        return {t: {model.strides[0]: out[t]} for t in tasks}
    return {"sem": out if isinstance(out, dict) else {model.strides[0]: out}}


def forward_strides(model: nn.Module, x: torch.Tensor) -> dict[int, torch.Tensor]:
    """Run any FCN and return ``{stride: logits}`` (one entry for single-stride models).

    Two-headed models (``model.tasks``) give their primary (semantic) task's logits.
    """
    out = model(x)
    tasks = getattr(model, "tasks", None)
    if tasks:
        return {model.strides[0]: out[model.primary_task]}
    if isinstance(out, dict):
        return out
    return {model.strides[0]: out}


def copy_compatible_weights(src: nn.Module, dst: nn.Module) -> list[str]:
    """Copy every parameter/buffer of ``src`` into ``dst`` where the key exists in both with equal shape.

    This is the staged-training step of the paper (16s from 32s, 8s from 16s): the trunk, ``score_fr`` and
    shared heads are copied; layers only ``dst`` has keep their initialisation (score layers zero,
    deconvolutions bilinear). Returns the copied keys.
    """
    src_state = src.state_dict()
    copied: list[str] = []
    with torch.no_grad():
        for key, value in dst.state_dict().items():
            other = src_state.get(key)
            if other is not None and other.shape == value.shape:
                value.copy_(other)
                copied.append(key)
    return copied


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (weights and biases, not buffers)."""
    return sum(p.numel() for p in model.parameters())
