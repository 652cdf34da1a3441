"""What a training run is asked to do (`TrainConfig`) and the two recipes' defaults.

``paper``: the reference recipe of Long, Shelhamer & Darrell (SGD, momentum 0.99, unnormalised loss summed
over pixels, fixed learning rates 1e-10 / 1e-12 / 1e-14 for 32s / 16s / 8s, weight decay 5e-4, batch 1, Caffe
preprocessing, no augmentation). ``scratch``: a recipe that trains a batch-norm FCN from random weights in
minutes (AdamW, warmup + cosine, flips, scale jitter, crops, a loss on every head, bf16 autocast on CUDA).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECIPES = ("paper", "scratch")
# Paper learning rates per arch (pytorch-fcn's train_fcn{32,16,8}s.py and train_fcn8s_atonce.py).
PAPER_LR = {"fcn32s": 1e-10, "fcn16s": 1e-12, "fcn8s": 1e-14, "fcn8s-atonce": 1e-10, "fcn-multi": 1e-10}
STAGES = ("fcn32s", "fcn16s", "fcn8s")


@dataclass
class TrainConfig:
    """Everything one ``fcn train`` run needs. ``None`` means "the recipe's default" (see `resolved`).

    Budget: ``max_iters`` (per stage), ``epochs`` (per stage) and ``minutes`` (whole run, split evenly over
    the stages of ``staged``); training stops at whichever comes first. With none given the recipe default
    applies (scratch: 30 epochs, paper: 100000 iterations).
    """

    data: Path
    out: Path
    arch: str = "fcn8s"
    recipe: str = "scratch"
    staged: bool = False
    init_vgg16: Path | None = None
    init_from: Path | None = None
    labels_dir: Path | None = None
    void_value: int | None = None
    data_format: str | None = None  # a dataset format name (fcn_core.data.formats); None: detected
    train_split: str = "train"
    val_split: str = "val"
    width: float | None = None
    batch_norm: bool | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    momentum: float = 0.99
    warmup: float = 0.05  # fraction of the schedule spent warming up (scratch)
    max_iters: int | None = None
    epochs: int | None = None
    minutes: float | None = None
    crop: tuple[int, int] | None = None  # (height, width) of training crops (scratch)
    scale_range: tuple[float, float] | None = None
    mean: str = "recipe"  # recipe | imagenet | caffe | dataset
    num_workers: int = 2
    seed: int = 0
    resume: bool = False
    device: str | None = None
    amp: bool | None = None  # bf16 autocast; default on for CUDA
    channels_last: bool | None = None  # default on for CUDA
    eval_every: int | None = None  # evaluate every N iterations instead of once per epoch
    freeze_trunk: bool = False  # FCN-32s-fixed: train only the final classifier (score_fr*)
    show_progress: bool = True

    def resolved(self) -> TrainConfig:
        """A copy with every recipe default filled in and paths as `Path`; raises ValueError on bad values."""
        from fcn_core.models import normalize_arch

        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        c = dataclasses.replace(self)
        c.data, c.out = Path(c.data), Path(c.out)
        for name in ("init_vgg16", "init_from", "labels_dir"):
            value = getattr(c, name)
            setattr(c, name, Path(value) if value is not None else None)
        c.arch = "fcn8s" if c.staged else normalize_arch(c.arch)
        paper = c.recipe == "paper"
        if c.batch_norm is None:
            c.batch_norm = not paper
        if c.batch_size is None:
            c.batch_size = 1 if paper else 8
        if c.weight_decay is None:
            c.weight_decay = 5e-4 if paper else 1e-4
        if c.scale_range is None:
            c.scale_range = (1.0, 1.0) if paper else (0.75, 1.5)
        if c.crop is None and not paper:
            c.crop = (384, 384)
        if c.max_iters is None and c.epochs is None and c.minutes is None:
            if paper:
                c.max_iters = 100000
            else:
                c.epochs = 30
        if c.mean not in ("recipe", "imagenet", "caffe", "dataset"):
            raise ValueError(f"unknown mean {c.mean!r}; choose recipe, imagenet, caffe or dataset")
        for name in ("batch_size", "max_iters", "epochs", "num_workers", "eval_every"):
            value = getattr(c, name)
            if value is not None and value < (0 if name == "num_workers" else 1):
                raise ValueError(f"{name} must be positive, got {value}")
        if c.minutes is not None and c.minutes <= 0:
            raise ValueError(f"minutes must be positive, got {c.minutes}")
        if c.crop is None and c.batch_size > 1:
            raise ValueError("a batch size above 1 needs a crop size (--crop): images differ in size")
        if c.width is not None and c.width <= 0:
            raise ValueError(f"width must be positive, got {c.width}")
        return c

    def stage_lr(self, arch: str) -> float:
        """Base learning rate of a stage: the paper's per-arch value or the scratch default 2e-3."""
        if self.lr is not None:
            return float(self.lr)
        if self.recipe == "paper" and arch not in PAPER_LR:  # the other reference nets: by stride, as VOC
            return 1e-14 if "fcn8s" in arch else 1e-12 if "fcn16s" in arch else 1e-10
        return PAPER_LR[arch] if self.recipe == "paper" else 2e-3

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (paths as strings), stored in checkpoints and the resume state."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out
