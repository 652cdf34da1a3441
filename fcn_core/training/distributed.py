"""DistributedDataParallel plumbing: the same `fcn train` under ``torchrun --nproc_per_node=N``.

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR/PORT``; we join the process group
with NCCL on GPUs and gloo on CPU. Only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class DistContext:
    """Where this process stands: ``rank``/``world`` (1 when not distributed), its device, and ownership."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # True when we created the process group and must destroy it

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None, *, timeout: timedelta | None = None) -> DistContext:
    """Pick the device and, under torchrun (``WORLD_SIZE`` > 1), join the process group.

    ``timeout``: how long a collective waits for the other ranks (default: torch's, 10–30 minutes).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    ctx = DistContext(rank=rank, world=world, local_rank=local_rank, device=dev)
    if world > 1 and not dist.is_initialized():
        extra = {} if timeout is None else {"timeout": timeout}
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world,
                                **extra)
        ctx.owns_group = True
    elif dist.is_initialized():
        ctx.rank, ctx.world = dist.get_rank(), dist.get_world_size()
    return ctx


def teardown(ctx: DistContext) -> None:
    """Leave the process group if `setup` created it."""
    if ctx.owns_group and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP-wrap ``model`` when distributed (batch norm synchronised across GPUs); otherwise return it."""
    if not ctx.distributed:
        return model
    if ctx.device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a DDP wrapper."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def sync_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank, so all ranks hold one model.

    DDP keeps parameters identical but each rank's last forward updates its own running statistics.
    """
    if ctx.distributed:
        for buf in unwrap(model).buffers():
            dist.broadcast(buf.data, 0)


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when ``flag`` is true on any rank (keeps stop decisions in lockstep)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def sum_tensor(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``t`` over ranks (e.g. confusion matrices of each rank's share of the validation set)."""
    if ctx.distributed:
        t = t.to(ctx.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu()
