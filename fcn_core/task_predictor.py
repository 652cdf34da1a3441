"""One head of a two-headed net as a predictor of its own (``fcn predict/evaluate --task``, the app's Task).

``TaskPredictor(predictor, "geo")`` answers ``predict``/``predict_batch``/``predict_sample`` with the
geometric head's ``{stride: StrideResult}`` and has that head's ``num_classes``, ``class_names`` and
``palette``, so ``fcn_core.evaluation.evaluate_dataset`` and ``fcn_core.pipeline.predict_paths`` use it as
they use a :class:`~fcn_core.predictor.Predictor`. For the semantic head use the Predictor itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from fcn_core.data.palette import full_palette
from fcn_core.data.task_view import GEOMETRIC_PALETTE


def resolve_tasks(predictor, choice: str | None) -> tuple[str, ...]:
    """The tasks ``--task`` names: None → the first (semantic), "all" → every head. ValueError when the net
    has no such head."""
    tasks = tuple(predictor.tasks)
    if choice in (None, ""):
        return tasks[:1]
    if choice == "all":
        return tasks
    if choice not in tasks:
        raise ValueError(f"the model has the task(s) {', '.join(tasks)} only, not {choice!r}")
    return (choice,)


def task_predictor(predictor, task: str):
    """``predictor`` itself for its first task, else a :class:`TaskPredictor` for ``task``."""
    return predictor if task == predictor.tasks[0] else TaskPredictor(predictor, task)


class TaskPredictor:
    """The ``task`` head of a two-headed ``Predictor`` (see the module docstring)."""

    def __init__(self, predictor, task: str) -> None:
        if task not in predictor.tasks:
            raise ValueError(f"the model has the task(s) {', '.join(predictor.tasks)} only, not {task!r}")
        self.predictor, self.task = predictor, task
        self.class_names = predictor.task_class_names(task)
        self.palette = full_palette(GEOMETRIC_PALETTE if task == "geo" else None)

    def __getattr__(self, name: str):  # device, precision, strides, notes, describe, extra_inputs ...
        return getattr(self.predictor, name)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def predict(self, image_rgb: np.ndarray, strides: Iterable[int] | None = None, *,
                with_confidence: bool = True, extra: dict[str, np.ndarray] | None = None,
                progress=None) -> dict:
        return self.predictor.predict_tasks(image_rgb, strides, with_confidence=with_confidence,
                                            extra=extra, progress=progress)[self.task]

    def predict_batch(self, images: Sequence[np.ndarray], strides: Iterable[int] | None = None, *,
                      with_confidence: bool = True, extras=None, progress=None) -> list[dict]:
        out = self.predictor.predict_batch(images, strides, with_confidence=with_confidence, extras=extras,
                                           all_tasks=True, progress=progress)
        return [r[self.task] for r in out]

    def predict_sample(self, dataset, stem: str, image: np.ndarray | None = None, *,
                       with_confidence: bool = False, progress=None) -> dict:
        return self.predictor.predict_sample(dataset, stem, image, with_confidence=with_confidence,
                                             task=self.task, progress=progress)
