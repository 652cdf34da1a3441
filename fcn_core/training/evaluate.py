"""Validation during training: the paper's four metrics for every stride the model outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from fcn_core import VOID
from fcn_core.training.distributed import DistContext, sum_tensor
from fcn_core.training.recipe import forward_all
from fcn_core.training.samples import normalize, to_tensor
from fcn_core.training.tasks import is_plain, primary_outputs, sample_arrays
from fcn_core.weights.inputs import network_input


def confusion_on_device(gt: torch.Tensor, pred: torch.Tensor, n: int) -> torch.Tensor:
    """``(n, n)`` int64 confusion (rows = ground truth), void and out-of-range labels ignored."""
    keep = (gt != VOID) & (gt < n)
    idx = gt[keep].long() * n + pred[keep].long()
    return torch.bincount(idx, minlength=n * n).reshape(n, n)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset,
    samples: list,
    prep,
    ctx: DistContext,
    *,
    amp: bool = False,
    channels_last: bool = False,
    specs: list | None = None,
) -> dict[int, dict[str, Any]]:
    """Scores per stride on ``samples`` (full images, batch 1); each rank takes every world-th image.

    Returns ``{stride: scores_from_confusion(...)}`` with pixel_acc, mean_acc, mean_iu, fw_iu, per_class.
    """
    from fcn_core.metrics import scores_from_confusion

    was_training = model.training
    model.eval()
    n = dataset.num_classes
    strides = tuple(model.strides)
    cms = {s: torch.zeros(n, n, dtype=torch.int64, device=ctx.device) for s in strides}
    for i in range(ctx.rank, len(samples), ctx.world):
        stem = samples[i].stem
        gt = dataset.label(stem)
        if gt is None:
            continue
        if specs is None:
            x = to_tensor(normalize(dataset.image(stem), prep))[None].to(ctx.device)
        else:  # extra input channels (depth, HHA)
            arrays = sample_arrays(dataset, stem, tuple(s.name for s in specs))
            x = to_tensor(network_input(specs, arrays))[None].to(ctx.device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=ctx.device.type, dtype=torch.bfloat16, enabled=amp):
            outputs = forward_all(model, strides, x) if is_plain(model) else primary_outputs(model, x)
        g = torch.from_numpy(np.array(gt, dtype=np.uint8)).to(ctx.device)
        for s, logits in outputs.items():
            cms[s] += confusion_on_device(g, logits[0].argmax(0), n)
    model.train(was_training)
    out: dict[int, dict[str, Any]] = {}
    for s in strides:
        cm = sum_tensor(cms[s], ctx).numpy()
        out[s] = scores_from_confusion(cm, dataset.class_names)
    return out


def summary(metrics: dict[int, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The four headline numbers per stride, JSON-ready (``{"8": {"mean_iu": ...}}``)."""
    keys = ("pixel_acc", "mean_acc", "mean_iu", "fw_iu")
    return {str(s): {k: float(v[k]) for k in keys if k in v} for s, v in metrics.items()}


def finest_mean_iu(metrics: dict[int, dict[str, Any]]) -> float:
    """Mean IU of the finest stride (8s for FCN-8s and the multi-stride net): what "best" means."""
    return float(metrics[min(metrics)]["mean_iu"])
