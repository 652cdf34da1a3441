"""`fcn train`: train an FCN (paper or from-scratch recipe, staged or at once), also under torchrun."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from fcn_core.cli.common import ARCH_CHOICES, add_format_argument, fail


def _size(text: str) -> tuple[int, int]:
    """``"384"`` -> (384, 384); ``"240x320"`` -> (240, 320) as height x width."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"crop size {text!r} is not N or HxW") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"crop size {text!r} is not N or HxW with positive numbers")
    return parts[0], parts[1]


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"scale range {text!r} is not LO,HI (e.g. 0.75,1.5)") from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"scale range {text!r} needs 0 < LO <= HI")
    return lo, hi


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train an FCN on a dataset (staged 32s->16s->8s or at once; DDP under torchrun)",
        description="Train an FCN. Writes best.safetensors, last.safetensors (+ last.state.pt for --resume), "
        "log.jsonl and config.json to --out (one subfolder per stage with --staged).",
    )
    p.add_argument("--data", type=Path, required=True, help="dataset folder (VOC, index PNGs, labelme)")
    p.add_argument("--out", type=Path, required=True, help="output folder for checkpoints and logs")
    p.add_argument("--arch", default="fcn8s", help=f"one of {', '.join(ARCH_CHOICES)} (default fcn8s)")
    p.add_argument("--recipe", choices=("paper", "scratch"), default="scratch", help="default scratch")
    p.add_argument("--staged", action="store_true", help="train fcn32s, then fcn16s from it, then fcn8s")
    init = p.add_mutually_exclusive_group()
    init.add_argument("--init-vgg16", type=Path, help="torchvision vgg16 state dict for the trunk")
    init.add_argument("--init-from", type=Path, help="checkpoint to start from (16s from 32s, 8s from 16s)")
    p.add_argument("--labels", type=Path, dest="labels_dir", help="folder of corrected labels to train with")
    p.add_argument("--void-value", type=int, help="void value of the dataset's label files (CamVid: 11)")
    add_format_argument(p)
    p.add_argument("--train-split", default="train")
    p.add_argument("--val-split", default="val")
    p.add_argument("--width", type=float, help="trunk channel multiplier (default 1.0)")
    bn = p.add_mutually_exclusive_group()
    bn.add_argument("--batch-norm", dest="batch_norm", action="store_true", default=None)
    bn.add_argument("--no-batch-norm", dest="batch_norm", action="store_false")
    p.add_argument("--batch-size", type=int, help="per process (paper 1, scratch 8)")
    p.add_argument("--lr", type=float, help="base learning rate (paper: per arch; scratch 2e-3)")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--momentum", type=float, default=0.99, help="SGD momentum (paper recipe)")
    p.add_argument("--warmup", type=float, default=0.05, help="warmup fraction of the schedule (scratch)")
    p.add_argument("--max-iters", type=int, help="iteration budget per stage")
    p.add_argument("--epochs", type=int, help="epoch budget per stage")
    p.add_argument("--minutes", type=float, help="wall-clock budget of the whole run")
    p.add_argument("--crop", type=_size, help="training crop N or HxW (scratch default 384)")
    p.add_argument("--scale-range", type=_range, help="scale jitter LO,HI (scratch default 0.75,1.5)")
    p.add_argument("--mean", choices=("recipe", "imagenet", "caffe", "dataset"), default="recipe",
                   help="input normalisation (recipe: caffe for paper, imagenet for scratch)")
    p.add_argument("--num-workers", type=int, default=2, help="data-loading processes (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from last.state.pt in --out")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    amp = p.add_mutually_exclusive_group()
    amp.add_argument("--amp", dest="amp", action="store_true", default=None, help="bf16 autocast (CUDA)")
    amp.add_argument("--no-amp", dest="amp", action="store_false")
    p.add_argument("--eval-every", type=int, help="evaluate every N iterations (default: every epoch)")
    p.add_argument("--freeze-trunk", action="store_true",
                   help="FCN-32s-fixed: train only the final classifier (score_fr), every other layer frozen")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build a TrainConfig from the arguments and train; prints the best checkpoint and its scores."""
    from fcn_core.data.errors import DataError
    from fcn_core.training import TrainConfig, train_model
    from fcn_core.weights import WeightsError

    names = (
        "data", "out", "arch", "recipe", "staged", "init_vgg16", "init_from", "labels_dir", "void_value",
        "data_format", "train_split", "val_split", "width", "batch_norm", "batch_size", "lr", "weight_decay",
        "momentum",
        "warmup", "max_iters", "epochs", "minutes", "crop", "scale_range", "mean", "num_workers", "seed",
        "resume", "device", "amp", "eval_every", "freeze_trunk",
    )
    try:
        config = TrainConfig(**{n: getattr(args, n) for n in names}, show_progress=not args.quiet)
        result = train_model(config)
    except (DataError, WeightsError, ValueError, OSError) as exc:
        return fail("train", str(exc))
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        print(json.dumps({"best": str(result.best), "last": str(result.last), "iterations": result.iterations,
                          "stopped": result.stopped, "metrics": result.metrics}, indent=2))
    return 0
