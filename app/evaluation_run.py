"""A whole-split evaluation, run by the inference worker (the one owner of the model) image by image after
the user's own requests, and its result: a view over the workspace's ScoreBook, so numbers shown after the
run stay live (a saved label updates them without re-evaluating)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from app.score_book import ScoreBook


@dataclass
class EvaluationResult:
    """One evaluation of a split: its totals are the ScoreBook's (live), plus what the run itself saw."""

    book: ScoreBook
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    split: str = "all"  # the dataset split scored (app.split_filter.ALL = every image)
    split_size: int = 0  # labelled images of that split asked for

    @property
    def strides(self) -> tuple[int, ...]:
        return self.book.strides

    @property
    def class_names(self) -> list[str]:
        return self.book.class_names

    @property
    def matrices(self):
        """``{stride: dataset confusion matrix}`` (the sum over the counted images, kept up to date)."""
        return self.book.totals

    @property
    def scores(self) -> dict[int, dict]:
        return {s: self.book.scores(s) for s in self.book.strides}

    @property
    def images(self) -> int:
        return self.book.counted

    def images_with(self, stride: int, gt: int, pred: int) -> list[tuple[str, int]]:
        """Images with pixels of class ``gt`` predicted as ``pred``, most pixels first."""
        return self.book.images_with(stride, gt, pred)


class EvaluationRun(QObject):
    """GUI-thread side of an evaluation: sends the stems to the inference worker, records every
    scored image in the workspace (``member=True``: counted in the totals), reports progress, failures,
    and the end."""

    progress = Signal(int, int)  # done, total
    image_scored = Signal(str, object, object)  # stem, {stride: scores}, classes present
    image_failed = Signal(str, str)
    finished = Signal(object)  # EvaluationResult

    def __init__(self, client, workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client, self.workspace = client, workspace
        self.run_id = 0
        self.running = False
        self.image_seconds: list[float] = []  # compute time per image of the current run (waits excluded)
        self._total = self._done = 0
        self._failed: list[tuple[str, str]] = []
        self._t0 = 0.0
        self._model_id: str | None = None
        client.scored.connect(self._scored)
        client.evaluation_done.connect(self._ended)

    def start(self, stems: list[str]) -> None:
        """Score ``stems`` at every stride; the workspace's totals count exactly these images."""
        self.running = True  # first: emptying the totals below must not repaint the last result as NaN
        self.workspace.book.start_set()
        self.image_seconds, self._failed = [], []
        self._total, self._done = len(stems), 0
        self._t0 = time.perf_counter()
        self._model_id = self.workspace.model_id
        self.run_id = self.client.evaluate(stems)

    def cancel(self) -> None:
        """Stop after the image in flight (what is scored so far stays)."""
        if self.running:
            self.client.cancel_evaluation()

    def _scored(self, item) -> None:
        if item.run_id != self.run_id or not self.running or item.model_id != self._model_id:
            return  # another run's, a re-score (the window's), or a model replaced meanwhile
        self._done += 1
        self.image_seconds.append(item.seconds)
        book = self.workspace.book
        if item.confusions is None:
            self._failed.append((item.stem, item.error))
            book.set_failed(item.stem, item.error)
            self.image_failed.emit(item.stem, item.error)
        else:
            self.workspace.record_scored(item.stem, item.confusions, item.mean_conf, member=True)
            self.image_scored.emit(item.stem, book.rows.get(item.stem, {}), item.classes_present)
        self.progress.emit(self._done, self._total)

    def _ended(self, run_id: int, cancelled: bool) -> None:
        if run_id != self.run_id or not self.running:
            return
        self.running = False
        stopped = cancelled or self._done < self._total
        result = EvaluationResult(self.workspace.book, list(self._failed), stopped,
                                  time.perf_counter() - self._t0)
        self.finished.emit(result)
