"""The open workspace as one plain object (Qt-free, as napari's ``ViewerModel``): the dataset and split, the
models, the image on screen with its own ground truth and prediction, the cached predictions, and the scores.

Widgets observe its events; the window and the editing controller change it through its methods; tests drive a
whole workflow (open, show, edit, save, evaluate, recover) without a window. The rule it keeps: an image's
scores are always computed from that image's own prediction (``results_of(stem)``), never from whatever is on
screen, and a saved or restored label updates that image's scores and the dataset totals at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.events import Event
from app.score_book import ScoreBook, row_from_confusion
from app.stride_cache import StrideCache
from fcn_core.data.task_view import dataset_tasks, task_dataset
from fcn_core.metrics import stride_confusions


def mean_confidence(models, results: dict | None) -> dict[int, float] | None:
    """Mean top softmax probability per stride, or None when the prediction source stores no confidence
    (``has_confidence`` False: stored predictions without confidence maps)."""
    if not results or not getattr(models, "has_confidence", True):
        return None
    return {s: float(np.mean(r.confidence)) for s, r in results.items()}


def classes_present(gt: np.ndarray | None) -> list[int]:
    if gt is None:
        return []
    return [int(c) for c in np.flatnonzero(np.bincount(gt.ravel(), minlength=256)[:255])]


def image_confusions(dataset, stem: str, gt: np.ndarray | None, results: dict | None,
                     num_classes: int) -> dict[int, np.ndarray] | None:
    """``stem``'s ground truth against its own prediction, per stride (``fcn_core.metrics.stride_confusions``,
    the same ``confusion_matrix`` as ``fcn evaluate``); None when there is nothing to score. A label of
    another size than the image (its prediction) or with values beyond the classes raises ValueError naming
    the label file."""
    if gt is None or not results:
        return None
    find = getattr(dataset, "sample", None)
    sample = find(stem) if find is not None and stem in getattr(dataset, "stems", ()) else None
    label_file = getattr(sample, "label_path", None) or stem
    h, w = next(iter(results.values())).labels.shape
    if gt.shape != (h, w):
        raise ValueError(f"{label_file}: label is {gt.shape[1]}x{gt.shape[0]} but the image is {w}x{h}")
    try:
        return stride_confusions(gt, results, num_classes)
    except ValueError as exc:
        raise ValueError(f"{label_file}: {exc}") from None


@dataclass(frozen=True)
class ShownImage:
    """The image on screen: its pixels, its labels (void 255, None without) and its own prediction."""

    stem: str | None = None
    image: np.ndarray | None = None
    gt: np.ndarray | None = None
    results: dict[int, Any] | None = None  # {stride: StrideResult} of THIS image, None without a model
    model_id: str | None = None


class Workspace:
    """State of the open workspace and its change events."""

    def __init__(self) -> None:
        self.dataset = None
        self.split: str | None = None
        self.models = None  # app.model_set.ModelSet
        self.cache = StrideCache()
        self.shown = ShownImage()
        self.stride = 8
        self.class_names: list[str] = []
        self.palette = np.zeros((256, 3), np.uint8)
        self.classes_differ = False  # model and dataset class names differ: nothing is scored
        self.pred_class_names: list[str] = []
        self.score_by_index: tuple | None = None
        self.book = ScoreBook()
        # Two-headed nets (SIFT Flow): the task shown ("sem" / "geo"). ``dataset`` and ``models`` are that
        # task's views (labels, classes, corrections, head); ``base_*`` what was opened; a book per task.
        self.task = "sem"
        self.base_dataset = None
        self.base_models = None
        self._books: dict[str, ScoreBook] = {}
        self.task_changed = Event("task_changed")
        self.dataset_opened = Event("dataset_opened")
        self.models_loaded = Event("models_loaded")
        self.image_shown = Event("image_shown")
        self.book_replaced = Event("book_replaced")  # new (dataset, model) pair: every score is new

    # -- what is open ----------------------------------------------------------------------------------------
    @property
    def model_id(self) -> str | None:
        return None if self.models is None else self.models.model_id

    @property
    def num_classes(self) -> int:
        if self.models is not None:
            return int(self.models.num_classes)
        return int(getattr(self.dataset, "num_classes", 0) or 0)

    def open_dataset(self, dataset) -> None:
        self.dataset = self.base_dataset = dataset
        if self.task != "sem":  # a new dataset opens on the semantic task
            self.task, self.models = "sem", self.base_models
        self.cache.clear()
        self.shown = ShownImage()
        self.new_book()
        self.dataset_opened.emit(dataset)

    def set_models(self, models) -> None:
        self.models = self.base_models = models
        if self.task != "sem":  # a new model opens on the semantic task
            self.task, self.dataset = "sem", self.base_dataset
        self.cache.clear()
        self.new_book()
        self.models_loaded.emit(models)

    def new_book(self) -> None:
        """Forget every score (another dataset, model, or class policy)."""
        strides = self.models.strides if self.models is not None else ()
        names = list(self.models.class_names) if self.models is not None else list(self.class_names)
        self._books = {}
        self.book = ScoreBook(names, strides)
        self.book_replaced.emit(self.book)

    # -- tasks (two-headed nets) -----------------------------------------------------------------------------
    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks that can be shown: the model's heads the dataset has labels for (("sem",) mostly)."""
        if self.base_models is None:
            return ("sem",)
        heads = tuple(getattr(self.base_models, "tasks", ("sem",)))
        if self.base_dataset is None:
            return heads
        have = dataset_tasks(self.base_dataset)
        return tuple(t for t in heads if t in have)

    def set_task(self, task: str) -> None:
        """Show another head: the dataset's labels, classes and corrections folder of that task, the model's
        head, and that task's scores (each task keeps its own ScoreBook). Predictions stay cached per task."""
        if task == self.task:
            return
        if task not in self.tasks:
            raise ValueError(f"task {task!r} is not available (the model and dataset have {self.tasks})")
        self._books[self.task] = self.book
        self.task = task
        self.dataset = task_dataset(self.base_dataset, task)
        self.models = self.base_models.for_task(task)
        s = self.shown
        self.shown = ShownImage(s.stem, s.image, None, None, None)  # its task labels and prediction follow
        book = self._books.pop(task, None)
        if book is None:
            book = ScoreBook(list(self.models.class_names), self.models.strides)
        self.book = book
        self.book_replaced.emit(book)
        self.task_changed.emit(task)

    @property
    def scoring(self) -> bool:
        """Scores mean something: a model is open and its classes are the dataset's (or scored by index)."""
        return self.models is not None and not self.classes_differ

    # -- images and predictions ------------------------------------------------------------------------------
    def show(self, stem: str, image: np.ndarray, gt: np.ndarray | None,
             results: dict[int, Any] | None = None, model_id: str | None = None) -> None:
        """Put an image on screen; its prediction (when given) must be its own."""
        if results is not None and model_id == self.model_id:
            self.cache.put_all(stem, model_id, results)
        elif results is None and self.models is not None:
            results = self.results_of(stem)
            model_id = self.model_id if results is not None else None
        self.shown = ShownImage(stem, image, gt, results, model_id)
        self.image_shown.emit(stem)

    def set_shown_gt(self, labels: np.ndarray | None) -> None:
        """The labels on screen are now this array (e.g. the editor's document)."""
        s = self.shown
        self.shown = ShownImage(s.stem, s.image, labels, s.results, s.model_id)

    def store_results(self, stem: str, model_id: str | None, results: dict[int, Any]) -> None:
        """A prediction arrived for ``stem`` (kept only when it is the open model's)."""
        if results and model_id is not None and model_id == self.model_id:
            self.cache.put_all(stem, model_id, results)
            s = self.shown
            if s.stem == stem:
                self.shown = ShownImage(s.stem, s.image, s.gt, results, model_id)

    def results_of(self, stem: str) -> dict[int, Any] | None:
        """``stem``'s own prediction at every stride of the open model, or None when not at hand."""
        if self.models is None:
            return None
        s = self.shown
        if s.stem == stem and s.results is not None and s.model_id == self.model_id:
            return s.results
        return self.cache.get_all(stem, self.model_id, self.models.strides)

    # -- scores ----------------------------------------------------------------------------------------------
    def confusions(self, stem: str, labels: np.ndarray) -> dict[int, np.ndarray] | None:
        """``labels`` (stem's ground truth) against stem's OWN prediction; None without one or without scores.
        A label of another size or with classes beyond the model's raises ValueError (naming the problem)."""
        results = self.results_of(stem) if self.scoring else None
        if results is None or labels is None:
            return None
        return image_confusions(self.dataset, stem, labels, results, self.num_classes)

    def preview_scores(self, stem: str, labels: np.ndarray) -> dict[int, dict] | None:
        """Scores of unsaved labels (every stroke): the browser row shows them; the totals do not change."""
        try:
            cms = self.confusions(stem, labels)
        except ValueError:
            return None
        if cms is None:
            return None
        conf = mean_confidence(self.models, self.results_of(stem)) or {}
        return {s: row_from_confusion(m, conf.get(s)) for s, m in cms.items()}

    def commit_labels(self, stem: str, labels: np.ndarray) -> bool:
        """``stem``'s labels were saved or restored: its scores and the dataset totals change at once.

        False when stem's own prediction is not at hand (the caller asks the worker to score it)."""
        try:
            cms = self.confusions(stem, labels)
        except ValueError as exc:
            self.book.set_failed(stem, str(exc))
            return True
        if cms is None:
            return not self.scoring  # nothing to score without a model
        self.book.set_image(stem, cms, mean_confidence(self.models, self.results_of(stem)))
        return True

    def record_scored(self, stem: str, cms: dict[int, np.ndarray], mean_conf: dict[int, float] | None = None,
                      *, member: bool | None = None) -> None:
        """Matrices computed elsewhere (the worker) from ``stem``'s own prediction."""
        if self.scoring:
            self.book.set_image(stem, cms, mean_conf, member=member)
