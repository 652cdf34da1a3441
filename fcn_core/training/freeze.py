"""FCN-32s-fixed (paper Table 1/§4.3): train only the final classifier, every other layer frozen.

The classifier is every ``score_fr*`` layer (``score_fr``, ``score_fr_sem``/``score_fr_geo``,
``score_frcolor``/``score_frhha``). Frozen batch-norm layers also keep their running statistics and use
them (they stay in eval mode whatever ``model.train()`` says), so the trunk is bit-identical after training.
"""

from __future__ import annotations

import types

from torch import nn


def is_classifier(name: str) -> bool:
    """True for parameters of the final classifier (``score_fr``, ``score_fr_sem``, ``score_frcolor`` ...)."""
    return name.split(".", 1)[0].startswith("score_fr")


def _always_eval(module: nn.Module, mode: bool = True) -> nn.Module:
    return nn.Module.train(module, False)


def freeze_all_but_classifier(model: nn.Module) -> list[str]:
    """Freeze every parameter but the classifier's and pin frozen batch norms to eval; returns the trainable
    parameter names. Raises ValueError when the model has no ``score_fr*`` layer."""
    trainable = []
    for name, p in model.named_parameters():
        keep = is_classifier(name)
        p.requires_grad_(keep)
        if keep:
            trainable.append(name)
    if not trainable:
        raise ValueError(f"{type(model).__name__} has no score_fr layer to train with a frozen trunk")
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not is_classifier(name):
            module.train = types.MethodType(_always_eval, module)  # type: ignore[method-assign]
            module.eval()
    return trainable
