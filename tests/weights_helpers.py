"""Weight-file fixtures shared by the weights tests: random state dicts in pytorch-fcn layout."""

from __future__ import annotations

import torch

from fcn_core.models import build_model

TINY = 0.0625


def _random_state(arch: str, n_class: int, *, width: float = TINY, batch_norm: bool = False, seed: int = 0):
    """A pytorch-fcn-layout state dict with random values everywhere (score layers too)."""
    g = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in build_model(arch, n_class, batch_norm=batch_norm, width=width)
                  .state_dict().items()}
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            std = 0.1 if key.startswith("upscore") else (2.0 / fan_in) ** 0.5
            state[key] = torch.randn(shape, generator=g) * std
        else:
            state[key] = torch.randn(shape, generator=g) * 0.1
    return state
