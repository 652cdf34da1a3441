"""Predictions without a model: a folder of stored label images standing in for a ModelSet (Qt-free).

``PredictionSet`` has ModelSet's attributes (``paths`` = [the folder], ``predictors`` = [], ``device``
"disk", ``precision`` "stored", ``arch`` "stored predictions", a ``model_id`` from the folder's resolved path
and newest file time) and its ``predict_stem(stem, image)``, so the inference worker, the ScoreBook,
evaluation, error maps and the accept-prediction tools use it exactly like a live model. Reading is
``fcn_core.data.predictions`` (the same code as ``fcn evaluate --pred DIR --data DS``), with the dataset's
class names and palette.
``has_confidence`` is False when the folder stores no confidence maps: the Conf column, the confidence map
and the read-out then say "no confidence stored" instead of showing the zero placeholders.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fcn_core.data.predictions import PredictionFolder, open_predictions


@dataclass
class PredictionSet:
    """Stored predictions read by stem (duck-types ``app.model_set.ModelSet``)."""

    paths: list[Path]
    folder: PredictionFolder
    model_id: str
    strides: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    palette: np.ndarray
    has_confidence: bool
    predictors: list[Any] = field(default_factory=list)
    device: str = "disk"
    precision: str = "stored"
    arch: str = "stored predictions"
    info: dict = field(default_factory=dict)
    tasks: tuple[str, ...] = ("sem",)  # stored label images are of one head (ModelSet.tasks)
    task: str = "sem"

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """Nothing besides the stem is read (ModelSet.extra_inputs)."""
        return ()

    @property
    def root(self) -> Path:
        return self.folder.root

    def predict_stem(self, stem: str, image: np.ndarray | None = None, *,
                     with_confidence: bool = True) -> dict[int, Any]:
        """``{stride: StoredPrediction}`` of image ``stem`` (a DataError names a missing or bad file)."""
        return self.folder.predict_stem(stem, image, with_confidence=with_confidence)

    def predict(self, image: np.ndarray) -> dict[int, Any]:
        raise ValueError(f"{self.root}: stored predictions are looked up by image name (predict_stem), "
                         "not computed from pixels")

    def describe(self) -> str:
        """Short text for the status bar."""
        conf = "" if self.has_confidence else ", no confidence stored"
        return f"{self.folder.describe()}{conf}"


def load_prediction_set(folder: str | os.PathLike[str], dataset) -> PredictionSet:
    """Stored predictions in ``folder`` for ``dataset`` (its class names and colours: predictions hold
    indices). Raises DataError naming the folder when it holds no predictions, ValueError without a
    dataset."""
    if dataset is None:
        raise ValueError("open a dataset first: stored predictions hold class indices, and their names and "
                         "colours are the dataset's")
    found = open_predictions(folder, dataset)
    # the folder's identity (resolved path, newest file time) read with this dataset's classes
    key = f"{found.identity}|{getattr(dataset, 'root', '')}|{chr(10).join(found.class_names)}"
    model_id = "disk:" + hashlib.sha1(key.encode()).hexdigest()[:12]
    return PredictionSet(
        paths=[found.root], folder=found, model_id=model_id, strides=found.strides,
        num_classes=found.num_classes, class_names=list(found.class_names),
        palette=np.asarray(found.palette, np.uint8), has_confidence=found.has_confidence,
        info={"predictions": str(found.root)})
