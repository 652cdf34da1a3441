"""`fcn predict IMAGE_OR_DIR... --weights FILE`: label PNGs for photos and folders."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fcn_core.cli.common import ARCH_CHOICES, add_backend_options, backend_notes, fail


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``predict`` subcommand."""
    p = sub.add_parser(
        "predict",
        help="write a palette PNG of class indices for each image",
        description="Predict per-pixel classes for images and folders of images. Writes OUT/<stem>.png "
        "(palette PNG holding class indices, in the model's colours). A multi-stride model writes the stride "
        "chosen with --stride; --stride all writes OUT/32s/, OUT/16s/ and OUT/8s/. A two-headed net "
        "(SIFT Flow) writes its semantic head, or the one --task names (--task all: OUT/sem/ and OUT/geo/). "
        "Under torchrun (or with --resume) the images are shared out over the processes, each image done "
        "gets a record in OUT/records/ and a re-run skips images already done with the same model; "
        "OUT/manifest.json sums up the run.",
    )
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR",
                   help="image files and/or folders (jpg, jpeg, png, bmp, tif, webp; not recursive)")
    p.add_argument("--weights", required=True, metavar="FILE",
                   help="weights: our .safetensors checkpoint or a pytorch-fcn .pth")
    p.add_argument("--arch", choices=ARCH_CHOICES, default=None,
                   help="architecture (default: inferred from the weights)")
    p.add_argument("--out", default="predictions", metavar="DIR", help="output folder (default: predictions)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda when present")
    add_backend_options(p, calibration="up to 40 of the input images")
    p.add_argument("--stride", choices=("32", "16", "8", "all"), default=None,
                   help="which output of a multi-stride model to write (default: the finest)")
    p.add_argument("--task", choices=("sem", "geo", "all"), default=None,
                   help="head of a two-headed net (SIFT Flow): sem (default), geo (geometric: sky, "
                   "horizontal, vertical) or all (writes OUT/sem/ and OUT/geo/)")
    p.add_argument("--depth", metavar="DIR", default=None,
                   help="depth PNGs (<stem>.png) for a net that takes depth (default: ../depth/ or ../Depth/ "
                   "beside the images' folder, as NYUDv2 and fcn demo-data --depth keep them)")
    p.add_argument("--hha", metavar="DIR", default=None,
                   help="HHA PNGs (<stem>.png) for a net that takes HHA (default: ../hha/ or ../HHA/)")
    p.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="images per forward pass, equal-sized images only (default: 16 on CUDA, 1 on CPU)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="threads decoding images and threads writing PNGs (default: min(8, CPU count))")
    p.add_argument("--save-confidence", action="store_true",
                   help="also write each pixel's top softmax probability to OUT/confidence/ and the top-1 "
                   "minus top-2 margin to OUT/margin/ (same layout as the labels; 16-bit grey PNGs of "
                   "round(p * 65535)); the app and `fcn evaluate --pred` read them")
    p.add_argument("--memory-mb", type=float, default=None, metavar="MB",
                   help="working memory of one forward pass; larger images are predicted in overlapping "
                   "tiles with the same labels (default 1024)")
    p.add_argument("--resume", action="store_true",
                   help="record each image done (OUT/records/) and skip images already done with the same "
                   "weights file content, precision and strides; always on under torchrun")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    return fail("predict", message)


def run(args: argparse.Namespace) -> int:
    """Run ``fcn predict``; returns 0 when every image was written, 1 when some failed, 2 on bad usage."""
    from fcn_core.pipeline import PipelineError, check_unique_stems, expand_inputs, predict_paths

    paths = expand_inputs(args.inputs)
    if not paths:
        return _fail(f"no image files found in {', '.join(args.inputs)}")
    try:
        check_unique_stems(paths)
    except PipelineError as exc:
        return _fail(str(exc))
    if args.batch_size is not None and args.batch_size < 1:
        return _fail(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.workers is not None and args.workers < 1:
        return _fail(f"--workers must be at least 1, not {args.workers}")
    if args.memory_mb is not None and not args.memory_mb > 0:
        return _fail(f"--memory-mb must be positive, not {args.memory_mb}")

    out = Path(args.out)
    if out.exists() and not out.is_dir():  # checked before the (slow) model load
        return _fail(f"{out}: output path exists and is not a folder")

    from fcn_core.predictor import Predictor
    from fcn_core.weights import WeightsError, load_model

    ctx, device = None, args.device
    if args.resume or "WORLD_SIZE" in os.environ:  # torchrun sets WORLD_SIZE
        from datetime import timedelta

        from fcn_core.training import distributed

        try:  # ranks with less work wait for the others at the end: allow a long wait
            ctx = distributed.setup(args.device, timeout=timedelta(days=7))
        except (ValueError, RuntimeError) as exc:
            return _fail(str(exc))
        device = str(ctx.device)
    try:
        loaded = load_model(args.weights, arch=args.arch)
    except (WeightsError, OSError) as exc:
        return _fail(str(exc))
    try:
        predictor = Predictor(loaded, device=device, precision=args.precision,
                              batch_size=args.batch_size or 16, memory_mb=args.memory_mb,
                              backend=args.backend, calibration=paths if args.precision == "int8" else None)
    except (ValueError, RuntimeError) as exc:  # e.g. --device cuda without a GPU
        return _fail(str(exc))
    backend_notes("predict", predictor)

    available = tuple(predictor.strides)
    if args.stride is None:
        strides, per_dir = (min(available),), False
    elif args.stride == "all":
        strides, per_dir = tuple(sorted(available, reverse=True)), True
    else:
        strides, per_dir = (int(args.stride),), False
    missing = [s for s in strides if s not in available]
    if missing:
        return _fail(f"{args.weights}: {loaded.arch} predicts stride "
                     f"{', '.join(map(str, available))} only, not {missing[0]}")

    on_cuda = str(predictor.device).startswith("cuda")
    batch_size = args.batch_size or (16 if on_cuda else 1)
    workers = args.workers or min(8, os.cpu_count() or 1)

    from tqdm.auto import tqdm

    def report_failure(path: Path, message: str) -> None:
        # Pipeline messages start with the file name ("<path>: <problem>").
        tqdm.write(f"fcn predict: skipped {message}", file=sys.stderr)

    from fcn_core.task_predictor import resolve_tasks, task_predictor

    try:
        tasks = resolve_tasks(predictor, args.task)
    except ValueError as exc:
        return _fail(f"{args.weights}: {exc}")
    extra = None
    if predictor.extra_inputs:
        from fcn_core.extra_inputs import extra_reader

        folders = {name: Path(d) if d else None for name, d in (("depth", args.depth), ("hha", args.hha))}
        extra = extra_reader(predictor.extra_inputs, folders)
    status = 0
    for task in tasks:
        model = task_predictor(predictor, task)
        task_out = out / task if len(tasks) > 1 else out
        palette = loaded.palette if model is predictor else model.palette
        if ctx is not None:
            status = max(status, _run_store(args, ctx, model, task, paths, task_out, strides, per_dir,
                                            batch_size, workers, report_failure, palette, extra))
            continue
        try:
            report = predict_paths(
                model, paths, task_out, strides=strides, batch_size=batch_size, workers=workers,
                progress=not args.no_progress, per_stride_dirs=per_dir, palette=palette,
                on_failure=report_failure, save_confidence=args.save_confidence, extra_inputs=extra,
            )
        except PipelineError as exc:
            return _fail(str(exc))
        except OSError as exc:  # e.g. the output folder cannot be created (per-image errors are reported)
            return _fail(f"{exc.filename or task_out}: cannot write predictions ({exc.strerror or exc})")
        where = ", ".join(str(task_out / f"{s}s") for s in strides) if per_dir else str(task_out)
        print(f"fcn predict: {report.ok} of {len(paths)} images written to {where} in {report.seconds:.1f} s "
              f"({report.images_per_s:.1f} images/s, {predictor.describe()})"
              + (f"; {len(report.failed)} failed" if report.failed else ""), file=sys.stderr)
        if report.failed:
            status = 1
    if ctx is not None:
        from fcn_core.training import distributed

        distributed.teardown(ctx)
    return status


def _run_store(args: argparse.Namespace, ctx, predictor, task: str, paths: list[Path], out: Path,
               strides: tuple[int, ...], per_dir: bool, batch_size: int, workers: int, report_failure,
               palette, extra) -> int:
    """Sharded, resumable ``fcn predict`` (torchrun or --resume) of one task: see
    :mod:`fcn_core.prediction_store`."""
    from fcn_core.pipeline import PipelineError
    from fcn_core.prediction_store import MANIFEST, StoreKey, file_sha256, predict_into_store

    key = StoreKey(model_sha256=file_sha256(args.weights), model_file=Path(args.weights).name,
                   arch=predictor.loaded.arch, precision=predictor.precision, strides=strides, task=task)
    try:
        report, manifest = predict_into_store(
            predictor, paths, out, key=key, ctx=ctx, per_stride_dirs=per_dir, batch_size=batch_size,
            workers=workers, progress=not args.no_progress and ctx.is_main, palette=palette,
            on_failure=report_failure, save_confidence=args.save_confidence, extra_inputs=extra)
    except PipelineError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.filename or out}: cannot write predictions ({exc.strerror or exc})")
    if manifest is None:
        return 1 if report.failed else 0
    print(f"fcn predict: {manifest['written']} of {manifest['images']} images written to {out} by "
          f"{manifest['processes']} process(es), {manifest['skipped_already_done']} already done "
          f"({predictor.device}, {predictor.precision})"
          + (f"; {manifest['failed']} failed" if manifest["failed"] else "")
          + f"; summary in {out / MANIFEST}", file=sys.stderr)
    return 1 if manifest["failed"] or report.failed else 0
