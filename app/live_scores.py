"""The window's side of live scores: answers from the inference worker go into the workspace's ScoreBook
(every score from that image's own prediction), and the book's changes go to the browser row, the evaluation
panel and the legend. Edits are previewed in the row; saved or restored labels change the dataset totals."""

from __future__ import annotations

import numpy as np

from app.workspace import mean_confidence


class LiveScores:
    """Connects a MainWindow's worker answers and workspace book to what the window shows."""

    def __init__(self, window) -> None:
        self.w = window
        window.client.scored.connect(self.on_rescored)
        window.workspace.book_replaced.connect(self.book_replaced)
        self.book_replaced(window.workspace.book)

    def record_result(self, r) -> None:
        """Cache an answer's prediction and record its scores (computed by the worker from ITS prediction)."""
        ms = self.w.model_set
        if r.prediction_error and ms is not None and r.model_id == ms.model_id:
            self.w.browser.model.update_row(r.stem, error=r.prediction_error)
        if not (r.results and ms is not None and r.model_id == ms.model_id):
            return
        self.w.workspace.store_results(r.stem, r.model_id, r.results)
        if self.w.classes_differ:  # indices mean different classes: only the confidence is meaningful
            conf = mean_confidence(ms, r.results) or {}
            self.w.browser.model.update_row(r.stem, scores={s: {"mean_conf": v} for s, v in conf.items()})
        elif r.score_error:
            self.w.browser.model.update_row(r.stem, error=r.score_error)
        elif r.confusions is not None and not (r.stem == self.w.current_stem and self.edited(r.stem)):
            self.w.workspace.record_scored(r.stem, r.confusions, mean_confidence(ms, r.results))
        if r.classes_present:
            self.w.browser.model.update_row(r.stem, classes=r.classes_present)

    def edited(self, stem: str) -> bool:
        doc = getattr(getattr(self.w, "editing", None), "document", None)
        return doc is not None and getattr(self.w.editing, "stem", None) == stem and doc.is_modified

    def rescore_current(self) -> None:
        """Recompute the shown image's scores from ITS prediction after an edit (the browser row shows them;
        the dataset totals change when the labels are saved: ``labels_committed``)."""
        stem, gt = self.w.current_stem, self.w.current_gt
        if stem is None or gt is None or self.w.classes_differ:
            return
        scores = self.w.workspace.preview_scores(stem, gt)
        if scores is None:
            return
        self.w.current_scores = scores
        self.w.browser.model.update_row(stem, scores=scores)
        self.w._show_stride()

    def labels_committed(self, stem: str, labels: np.ndarray) -> None:
        """``stem``'s labels were saved or restored: its scores, the dataset totals and the sorted browser
        follow at once, from stem's own prediction (re-predicted on the worker when not at hand)."""
        if not self.w.workspace.commit_labels(stem, labels):
            self.w.client.rescore(stem, np.array(labels, copy=True))
        self.w.browser.model.resort(stem)

    def on_rescored(self, item) -> None:
        """The worker scored saved labels (run 0) against the image's own prediction."""
        if item.run_id != 0 or item.model_id != self.w.workspace.model_id:
            return
        if item.confusions is None:
            self.w.workspace.book.set_failed(item.stem, item.error)
        else:
            self.w.workspace.record_scored(item.stem, item.confusions, item.mean_conf)
        self.w.browser.model.resort(item.stem)

    def book_replaced(self, book) -> None:
        """New (dataset, model) pair: no score of the old pair stays on screen."""
        book.image_changed.connect(self.book_image_changed)
        book.totals_changed.connect(self.book_totals_changed)
        self.w.browser.model.clear_scores()
        self.w.current_scores = {}

    def book_image_changed(self, stem: str) -> None:
        book = self.w.workspace.book
        if stem in book.failed:
            self.w.browser.model.update_row(stem, error=book.failed[stem])
        elif stem in book.rows:
            self.w.browser.model.update_row(stem, scores=book.rows[stem], error="")
            if stem == self.w.current_stem and not self.edited(stem):
                self.w.current_scores = dict(book.rows[stem])

    def book_totals_changed(self) -> None:
        if self.w.evaluation.running:
            return  # the panel shows the totals when the run ends
        self.w.evaluation.totals_changed()
        self.w._show_stride()
