"""What the inference worker sends back (Qt-free): an image with its own prediction and confusion matrices,
a scored image of an evaluation, and how a prediction is asked of a model set or stored predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.model_set import ModelSet


@dataclass
class ImageResult:
    """Everything the window needs to show one image: pixels, ground truth, per-stride predictions and the
    image's own confusion matrices against them."""

    req_id: int
    stem: str
    image: np.ndarray
    gt: np.ndarray | None
    results: dict[int, Any] | None  # {stride: StrideResult}, None without a model (or not yet: image first)
    model_id: str | None
    confusions: dict[int, np.ndarray] | None = None  # {stride: gt x pred matrix}; None: not scored
    score_error: str = ""  # why the image could not be scored (label size / values)
    prediction_error: str = ""  # why there is no prediction (stored predictions: file missing or bad)
    note: str = ""  # what the prediction did beyond one pass, e.g. "predicted in 49 tiles of 1664×1376"
    classes_present: list[int] = field(default_factory=list)
    seconds: float = 0.0
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # extra channels shown: depth, HHA
    input_errors: dict[str, str] = field(default_factory=dict)  # channel -> why it could not be read
    preview: bool = False  # an int8 fast preview (app/fast_preview.py): shown, never cached or scored


@dataclass
class ScoredImage:
    """One image scored by the worker for an evaluation run (``run_id`` > 0) or a re-score (``run_id`` 0)."""

    run_id: int
    stem: str
    model_id: str | None
    confusions: dict[int, np.ndarray] | None
    mean_conf: dict[int, float] = field(default_factory=dict)
    classes_present: list[int] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    regions: list | None = None  # evaluation runs: fcn_core.regions.ErrorRegion list at the finest stride


def evaluation_regions(image: np.ndarray, gt: np.ndarray, results: dict) -> list | None:
    """The image's error regions at the finest stride for the regions panel (None when they cannot be
    extracted; the score still counts)."""
    from fcn_core.regions import extract_regions

    try:
        return extract_regions(image, gt, results)
    except ValueError:
        return None


def predict_stem(models, stem: str, image: np.ndarray, progress=None, dataset=None) -> dict[int, Any]:
    """``{stride: result}`` of image ``stem`` from a ModelSet (computed, with the extra inputs its nets need
    read from ``dataset``'s sample, and tile ``progress``) or a PredictionSet (looked up by stem); a source
    with only ``predict(image)`` is asked that way."""
    if isinstance(models, ModelSet):
        return models.predict_stem(stem, image, dataset=dataset, progress=progress)
    by_stem = getattr(models, "predict_stem", None)
    return by_stem(stem, image) if by_stem is not None else models.predict(image)


def describe_error(exc: BaseException) -> str:
    """Plain words for an exception raised while reading or predicting."""
    name = type(exc).__name__
    if "OutOfMemory" in name:
        return f"out of GPU memory ({exc}); try --device cpu or a smaller image"
    text = str(exc) or name
    return text if isinstance(exc, ValueError | OSError) else f"{name}: {text}"
