"""A set of loaded checkpoints that together give the 32s/16s/8s outputs (Qt-free, used by the workers)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class ModelSetError(ValueError):
    """The model files cannot be combined (message names the files and the problem)."""


@dataclass
class ModelSet:
    """One multi-stride checkpoint, or separate single-stride checkpoints combined (one stride per file)."""

    paths: list[Path]
    predictors: list[Any]  # fcn_core.predictor.Predictor, one per file
    model_id: str
    strides: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    palette: np.ndarray
    device: str
    precision: str
    arch: str
    info: dict = field(default_factory=dict)
    tasks: tuple[str, ...] = ("sem",)  # heads of the net: ("sem", "geo") for a two-headed (SIFT Flow) net
    task: str = "sem"  # the head this set predicts (see for_task)
    has_confidence: bool = True  # a live model always gives confidence and margin

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """Inputs besides the photo the nets need (depth, HHA), in order."""
        names: dict[str, None] = {}
        for predictor in self.predictors:
            names.update(dict.fromkeys(getattr(predictor, "extra_inputs", ())))
        return tuple(names)

    def for_task(self, task: str) -> ModelSet:
        """The same nets answering with ``task``'s head: its classes, colours, and an id of its own (so cached
        predictions and scores of the two heads never mix). The first task's set has the file's id."""
        if task not in self.tasks:
            raise ModelSetError(f"{self.describe()}: has the task(s) {', '.join(self.tasks)} only, "
                                f"not {task!r}")
        from fcn_core.task_predictor import task_predictor

        base_id = self.model_id.split(":", 1)[0]
        head = task_predictor(self.predictors[0], task)
        return dataclasses.replace(
            self, task=task, model_id=base_id if task == self.tasks[0] else f"{base_id}:{task}",
            num_classes=len(head.class_names), class_names=list(head.class_names),
            palette=np.asarray(head.palette, np.uint8))

    def predict(self, image: np.ndarray, extra: dict[str, np.ndarray] | None = None,
                progress=None) -> dict[int, Any]:
        """``{stride: StrideResult}`` of the set's task for every stride the set provides (one forward per
        file); ``extra``: depth / HHA arrays for nets that need them. A large image is predicted in tiles
        within the memory cap (``progress(done, total)`` per tile; ``last_note`` says what was done)."""
        out: dict[int, Any] = {}
        # Only what is given is passed on: a stand-in predictor with just ``predict(image)`` still works.
        options = {k: v for k, v in (("extra", extra), ("progress", progress)) if v is not None}
        for predictor in self.predictors:
            if self.task == self.tasks[0]:
                out.update(predictor.predict(image, **options))
            else:
                out.update(predictor.predict_tasks(image, **options)[self.task])
        return {s: out[s] for s in self.strides if s in out}

    def predict_stem(self, stem: str, image: np.ndarray, dataset=None, progress=None) -> dict[int, Any]:
        """``{stride: StrideResult}`` of dataset image ``stem``, computed from its pixels (stored predictions,
        ``app.prediction_set.PredictionSet``, look the stem up instead): the extra inputs the nets need
        (depth, HHA) are read from ``dataset``'s sample ``stem`` (NYUDv2 readers, or the demo data's Depth/
        HHA/ folders)."""
        extra = None
        if self.extra_inputs and dataset is not None:
            from fcn_core.training.tasks import sample_arrays

            extra = sample_arrays(dataset, stem, self.extra_inputs)
        return self.predict(image, extra=extra, progress=progress)

    @property
    def last_note(self) -> str:
        """What the last prediction did beyond one pass (e.g. "predicted in 49 tiles of 1664×1376"), or ""."""
        notes = [p.last_tiling.describe() for p in self.predictors if getattr(p, "last_tiling", None)]
        return "; ".join(dict.fromkeys(notes))

    def describe(self) -> str:
        """Short text for the status bar and window title."""
        names = ", ".join(p.name for p in self.paths)
        return f"{self.arch} [{'/'.join(f'{s}s' for s in self.strides)}] from {names}"


def model_id_for(paths: list[Path]) -> str:
    """Identity of a model set: the files' resolved paths, sizes and modification times."""
    h = hashlib.sha1()
    for p in paths:
        st = os.stat(p)
        h.update(f"{Path(p).resolve()}|{st.st_size}|{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


def load_model_set(paths: list[str | os.PathLike], *, device: str | None = None,
                   precision: str = "fp32", memory_mb: float | None = None,
                   backend: str = "torch") -> ModelSet:
    """Load the checkpoint(s) and build one Predictor per file.

    Several files must each provide different strides and the same number of classes; e.g. separate
    ``fcn32s``/``fcn16s``/``fcn8s`` checkpoints become one set toggled live like a multi-stride model.
    """
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    paths = [Path(p) for p in paths]
    if not paths:
        raise ModelSetError("no model file given")
    for p in paths:
        if not p.is_file():
            raise ModelSetError(f"{p}: model file not found")
    loaded = [load_model(p) for p in paths]
    seen: dict[int, Path] = {}
    for lm in loaded:
        for s in lm.strides:
            if s in seen:
                raise ModelSetError(f"{lm.path}: stride {s}s is already given by {seen[s]}; "
                                    "give one file per stride")
            seen[s] = Path(lm.path)
        if lm.num_classes != loaded[0].num_classes:
            raise ModelSetError(f"{lm.path}: has {lm.num_classes} classes but {loaded[0].path} has "
                                f"{loaded[0].num_classes}; the files do not belong together")
    predictors = [Predictor(lm, device=device, precision=precision, memory_mb=memory_mb, backend=backend)
                  for lm in loaded]
    first = loaded[0]
    arch = "+".join(lm.arch for lm in loaded)
    return ModelSet(
        paths=paths, predictors=predictors, model_id=model_id_for(paths),
        strides=tuple(sorted(seen, reverse=True)), num_classes=first.num_classes,
        class_names=list(first.class_names), palette=np.asarray(first.palette, np.uint8),
        device=str(predictors[0].device), precision=str(predictors[0].precision), arch=arch,
        info={"metadata": [lm.metadata for lm in loaded]}, tasks=tuple(predictors[0].tasks),
        task=predictors[0].tasks[0],
    )
