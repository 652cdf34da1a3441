"""The training loop: one stage (one arch), the staged 32s -> 16s -> 8s sequence, budgets, resume, DDP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from fcn_core.training import distributed as dd
from fcn_core.training import state as st
from fcn_core.training import tasks
from fcn_core.training.config import STAGES, TrainConfig
from fcn_core.training.evaluate import evaluate, finest_mean_iu, summary
from fcn_core.training.recipe import (
    build_stage_model,
    forward_all,
    lr_factor,
    make_optimizer,
    segmentation_loss,
    set_lr,
)
from fcn_core.training.resume import check_output_folder, check_resume
from fcn_core.training.samples import EpochBatches, TrainSamples

Progress = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    """What a run produced: checkpoint paths, the final model (on every rank) and the last scores."""

    best: Path
    last: Path
    model: nn.Module
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    iterations: int = 0
    stopped: bool = False  # True when should_stop() ended the run early


@dataclass
class _Data:
    dataset: Any
    train: list
    val: list
    hash: str


def _open_data(cfg: TrainConfig) -> _Data:
    from fcn_core.data import open_dataset
    from fcn_core.data.errors import DataError

    dataset = open_dataset(cfg.data, void_value=cfg.void_value, labels_dir=cfg.labels_dir,
                           format=cfg.data_format)
    labelled = [s for s in dataset.samples if s.label_path is not None]
    if not labelled:
        raise DataError(cfg.data, "has no labelled images to train on")
    if not dataset.splits:  # no split files: a fixed 90/10 split by position
        train = [s for i, s in enumerate(labelled) if i % 10 != 9]
        val = [s for i, s in enumerate(labelled) if i % 10 == 9]
    else:
        train = [s for s in dataset.split(cfg.train_split) if s.label_path is not None]
        val = (
            [s for s in dataset.split(cfg.val_split) if s.label_path is not None]
            if cfg.val_split in (dataset.splits)
            else []
        )
    if not train:
        raise DataError(cfg.data, f"split {cfg.train_split!r} has no labelled images")
    return _Data(dataset, train, val, st.data_hash(dataset, {"train": train, "val": val}))


def train(
    config: TrainConfig, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None
) -> Path:
    """Train as ``config`` says and return the best checkpoint's path (see `train_model`)."""
    return train_model(config, progress, should_stop).best


def train_model(
    config: TrainConfig, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None
) -> TrainResult:
    """Run every stage of ``config``; under torchrun each process calls this and rank 0 writes the files.

    ``progress`` gets dicts: ``event`` ("iteration", "evaluation", "finished"), ``stage``, ``iteration``,
    ``max_iters``, ``epoch``, ``loss``, ``lr``, ``elapsed``, and ``metrics`` after an evaluation.
    ``should_stop()`` returning True ends the run after the current iteration, saving ``last``.
    """
    cfg = config.resolved()
    check_output_folder(cfg.out)
    ctx = dd.setup(cfg.device)
    try:
        data = _open_data(cfg)
        if cfg.resume:  # before anything is written: a refused resume leaves the earlier run as it was
            check_resume(cfg, data.dataset.num_classes)
        if ctx.is_main:
            cfg.out.mkdir(parents=True, exist_ok=True)
        written = False

        def ready() -> None:
            """Called by a stage once its model is built (and resumed): now the run's config is written."""
            nonlocal written
            if ctx.is_main and not written:
                st.atomic_write_text(
                    cfg.out / "config.json", json.dumps(cfg.to_dict(), indent=2, default=str) + "\n"
                )
            written = True

        stages = STAGES if cfg.staged else (cfg.arch,)
        minutes = cfg.minutes / len(stages) if cfg.minutes is not None else None
        init_from = cfg.init_from
        result: TrainResult | None = None
        for i, arch in enumerate(stages):
            out = cfg.out / arch if cfg.staged else cfg.out
            result = _run_stage(
                cfg,
                ctx,
                data,
                arch,
                out,
                minutes,
                init_from=init_from,
                init_vgg16=cfg.init_vgg16 if i == 0 else None,
                progress=progress,
                should_stop=should_stop,
                ready=ready,
            )
            if result.stopped:
                break
            init_from = result.best
        assert result is not None
        return result
    finally:
        dd.teardown(ctx)


def _run_stage(
    cfg: TrainConfig,
    ctx: dd.DistContext,
    data: _Data,
    arch: str,
    out: Path,
    minutes: float | None,
    *,
    init_from: Path | None,
    init_vgg16: Path | None,
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
    ready: Callable[[], None] = lambda: None,
) -> TrainResult:
    resume = st.load_state(out / st.STATE) if cfg.resume and (out / st.STATE).exists() else None
    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every run
    model, prep, how = build_stage_model(
        cfg, arch, data.dataset, data.train, init_from=init_from, init_vgg16=init_vgg16
    )
    if resume is not None:
        try:
            st.load_weights_into(model, out / st.LAST)
        except RuntimeError as exc:  # e.g. --init-from another width: check_resume cannot see every case
            first = str(exc).strip().splitlines()[:2]
            raise ValueError(f"{out / st.LAST}: cannot resume: the saved model does not fit this run's "
                             f"{arch} ({' '.join(s.strip() for s in first)})") from exc
        if resume.get("finished"):
            return TrainResult(
                out / st.BEST, out / st.LAST, model, resume.get("metrics", {}), int(resume["iteration"])
            )
    ready()
    device, cuda = ctx.device, ctx.device.type == "cuda"
    amp = cuda if cfg.amp is None else bool(cfg.amp and cuda)
    channels_last = cuda if cfg.channels_last is None else bool(cfg.channels_last)
    if cuda:
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: let cuDNN pick the fastest kernels
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg, cfg.stage_lr(arch))
    plain = tasks.is_plain(model)
    specs = None if plain else tasks.input_specs(model, prep)  # depth / HHA inputs, two heads
    samples = TrainSamples(
        data.dataset,
        data.train,
        prep,
        seed=cfg.seed,
        crop=cfg.crop,
        scale_range=cfg.scale_range,
        augment=cfg.recipe == "scratch",
        specs=specs,
        tasks=tasks.model_tasks(model),
    )
    sampler = EpochBatches(len(samples), cfg.batch_size, seed=cfg.seed, rank=ctx.rank, world=ctx.world)
    per_epoch = len(sampler)
    total = cfg.max_iters
    if cfg.epochs is not None:
        total = min(total or 1 << 62, cfg.epochs * per_epoch)
    it, epoch, pos, best, elapsed0, metrics = 0, 0, 0, float("-inf"), 0.0, {}
    if resume is not None:
        opt.load_state_dict(resume["optimizer"])
        for g in opt.param_groups:  # load_state_dict keeps the saved base_lr; the schedule uses it
            g.setdefault("base_lr", g["lr"])
        st.set_rng_state(resume["rng"], device)
        it, epoch, pos = int(resume["iteration"]), int(resume["epoch"]), int(resume["position"])
        best, elapsed0 = float(resume["best"]), float(resume["elapsed"])
        metrics = resume.get("metrics", {})
    ddp = dd.wrap(model, ctx)
    loader = DataLoader(
        samples,
        batch_sampler=sampler,
        num_workers=cfg.num_workers,
        pin_memory=cuda,
        persistent_workers=cfg.num_workers > 0,
        generator=torch.Generator(),
        worker_init_fn=_worker_init,
        multiprocessing_context=_worker_context(cfg.num_workers),
    )
    budget_s = minutes * 60.0 if minutes is not None else None
    start = time.monotonic() - elapsed0

    def progress_frac() -> float:
        p = it / total if total else 0.0
        if budget_s:
            p = max(p, (time.monotonic() - start) / budget_s)
        return p

    info = {
        "class_names": data.dataset.class_names,
        "palette": data.dataset.palette,
        "void_index": data.dataset.void_value,
        "preprocessing": prep,
    }

    def meta(extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "recipe": cfg.recipe,
            "data_hash": data.hash,
            "data": str(cfg.data),
            "stage": arch,
            "init": how,
            "iteration": it,
            "epoch": epoch,
            "trained_seconds": round(time.monotonic() - start, 1),
            "metrics": metrics,
            "labels_dir": str(cfg.labels_dir) if cfg.labels_dir else None,
            "config": cfg.to_dict(),
            **({} if plain else tasks.checkpoint_metadata(model, specs, data.dataset)),
            **extra,
        }

    def save(finished: bool) -> None:
        dd.sync_buffers(ddp, ctx)
        if ctx.is_main:
            st.save_model_checkpoint(out / st.LAST, model, info, meta({"finished": finished}))
            st.save_state(
                out / st.STATE,
                {
                    "iteration": it,
                    "epoch": epoch,
                    "position": pos,
                    "optimizer": opt.state_dict(),
                    "rng": st.rng_state(device),
                    "best": best,
                    "elapsed": time.monotonic() - start,
                    "finished": finished,
                    "metrics": metrics,
                    "arch": arch,
                },
            )

    def notify(event: str, **extra: Any) -> None:
        """Tell ``progress`` (rank 0 only) where the stage is, plus the event's own fields."""
        if progress is not None and ctx.is_main:
            progress({"event": event, "stage": arch, "iteration": it, "max_iters": total, "epoch": epoch,
                      "elapsed": time.monotonic() - start, **extra})

    def run_eval() -> None:
        nonlocal best, metrics
        if not data.val:
            return
        dd.sync_buffers(ddp, ctx)
        scores = evaluate(model, data.dataset, data.val, prep, ctx, amp=amp, channels_last=channels_last,
                          specs=specs)
        metrics = summary(scores)
        score = finest_mean_iu(scores)
        if ctx.is_main:
            st.append_log(out, {"stage": arch, "iteration": it, "epoch": epoch, "metrics": metrics})
            if score > best:
                st.save_model_checkpoint(out / st.BEST, model, info, meta({"best": True}))
        best = max(best, score)
        notify("evaluation", metrics=metrics)

    bar = _progress_bar(ctx, cfg, arch, total, it)
    set_lr(opt, lr_factor(cfg, progress_frac()))
    ddp.train()
    stopped = cancelled = False
    done = (total is not None and it >= total) or (
        budget_s is not None and time.monotonic() - start >= budget_s
    )
    smooth = None
    while not done:
        sampler.epoch, sampler.skip = epoch, pos
        for images, target in loader:
            images = images.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
                outputs = forward_all(ddp, model.strides, images) if plain else ddp(images)
            if plain:
                loss = segmentation_loss(outputs, target, unnormalised=cfg.recipe == "paper")
            else:
                loss = tasks.multitask_loss(model, outputs, target, unnormalised=cfg.recipe == "paper")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            it, pos = it + 1, pos + 1
            epoch_end = pos == per_epoch
            if epoch_end:
                epoch, pos = epoch + 1, 0
            value = float(loss.detach())
            smooth = value if smooth is None else 0.9 * smooth + 0.1 * value
            lr = set_lr(opt, lr_factor(cfg, progress_frac()))
            cancelled = dd.any_rank(bool(should_stop and ctx.is_main and should_stop()), ctx)
            time_up = dd.any_rank(budget_s is not None and time.monotonic() - start >= budget_s, ctx)
            done = cancelled or time_up or (total is not None and it >= total)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{smooth:.4g}", mIU=_fmt_miu(metrics), epoch=epoch)
            notify("iteration", loss=value, lr=lr)
            due = it % cfg.eval_every == 0 if cfg.eval_every else epoch_end
            if not cancelled and (due or done):
                run_eval()
                if bar is not None:
                    bar.set_postfix(loss=f"{smooth:.4g}", mIU=_fmt_miu(metrics), epoch=epoch)
                save(finished=done)
            if done:
                break
    if cancelled:
        save(finished=False)
        stopped = True
    if bar is not None:
        bar.close()
    if ctx.is_main and not (out / st.BEST).exists():  # no validation split: the last weights are the best
        st.save_model_checkpoint(out / st.BEST, model, info, meta({"best": True}))
    notify("finished", metrics=metrics, stopped=stopped)
    return TrainResult(out / st.BEST, out / st.LAST, model, metrics, it, stopped)


def _worker_context(num_workers: int) -> str | None:
    """Fork (fast) when this process runs one thread; forkserver when other threads are alive (a GUI, a
    thread pool): forking then can copy a lock another thread holds, and the worker hangs at its first import
    (seen as a DataLoader worker stuck in ``_worker_init`` during the test suite)."""
    import threading

    if num_workers == 0 or threading.active_count() == 1:
        return None
    return "forkserver"


def _worker_init(_: int) -> None:
    import cv2

    cv2.setNumThreads(1)  # workers run in parallel already; OpenCV threads would oversubscribe the CPU
    torch.set_num_threads(1)


def _fmt_miu(metrics: dict[str, dict[str, float]]) -> str:
    if not metrics:
        return "-"
    finest = min(metrics, key=int)
    return f"{metrics[finest]['mean_iu']:.3f}"


def _progress_bar(ctx: dd.DistContext, cfg: TrainConfig, arch: str, total: int | None, initial: int):
    if not (ctx.is_main and cfg.show_progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=arch, dynamic_ncols=True, leave=True)
