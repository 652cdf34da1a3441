"""Evaluate the whole dataset on open, when affordable: the browser fills with scores, worst first.

After a dataset and a model are open, the first prediction's time × the number of labelled images of the
split the browser shows (``app.split_filter``: "val" by default) estimates the run. Up to
``AUTO_LIMIT_S`` it starts in the background (the evaluation dock stays closed; a status-bar label shows
progress); above it a status-bar button offers "Evaluate val (~N min)".
The first prediction includes the model's warm-up (often several times a steady forward pass), so an
estimate up to ``PROBE_FACTOR`` × the limit starts a probe: after ``PROBE_IMAGES`` images the evaluation's
own rate decides whether it goes on or stops (keeping those rows' scores) and offers the button.
The inference worker evaluates between the user's own requests (they always come first), so browsing
stays as fast as without it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QPushButton

from app import settings, split_filter

#: Longest estimated whole-dataset evaluation started without asking, in seconds.
AUTO_LIMIT_S = 90.0
#: First-prediction estimates up to this many times the limit are checked by a short probe run.
PROBE_FACTOR = 6.0
PROBE_IMAGES = 4


def describe_seconds(seconds: float) -> str:
    """"~40 s", "~3 min" for an estimate."""
    return f"~{seconds:.0f} s" if seconds < 100 else f"~{seconds / 60:.0f} min"


class AutoEvaluation(QObject):
    """Decides once per (dataset, model) whether to evaluate automatically; shows progress and the hint."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.action = window.actions.evaluate_auto
        self.action.setChecked(settings.auto_evaluate())
        self.action.toggled.connect(self._toggled)
        self._decided: tuple | None = None  # (dataset id, model id) already decided
        self.estimate_s: float | None = None
        self.started_automatically = False
        self.probing = False  # started on a doubtful estimate: the first images' rate decides
        self.probe_stopped = False  # the probe was cancelled (no worst-first sort, no dataset IU)
        self._started_at = 0.0
        self._image_s = 0.0  # first prediction's time (estimates a run over another split)
        self.progress_label = QLabel()
        self.progress_label.setToolTip("Whole-dataset evaluation (Tools → Cancel evaluation stops it)")
        self.hint_button = QPushButton("Evaluate")  # named by _offer
        self.hint_button.clicked.connect(self._hint_clicked)
        window.status_bar.addPermanentWidget(self.progress_label)
        window.status_bar.addPermanentWidget(self.hint_button)
        self.progress_label.hide()
        self.hint_button.hide()
        worker = window.evaluation.worker
        worker.progress.connect(self._progress)
        worker.finished.connect(lambda _r: self.progress_label.hide())
        window.dataset_opened.connect(lambda _d: self.reset())
        window.models_opened.connect(lambda _m: self.reset())
        window.browser.split_changed.connect(self._split_changed)

    def reset(self) -> None:
        """A new dataset or model: decide again on its first prediction."""
        self._decided = None
        self.hint_button.hide()

    def _labelled(self) -> int:
        """Labelled images of the split the browser shows (what the evaluation scores)."""
        ds = self.window.dataset
        return len(split_filter.labelled_stems(ds, self._split())) if ds is not None else 0

    def _split(self) -> str:
        return self.window.browser.split_name()

    def on_prediction(self, seconds: float) -> None:
        """A freshly computed prediction took ``seconds``: start, offer, or skip the evaluation."""
        w = self.window
        if w.dataset is None or w.model_set is None or w.classes_differ:
            return
        key = (id(w.dataset), w.model_set.model_id)
        if self._decided == key or w.evaluation.running:
            return
        self._decided = key
        count = self._labelled()
        if count == 0:
            return
        self._image_s = seconds
        self.estimate_s = seconds * count
        if self.action.isChecked() and self.estimate_s <= AUTO_LIMIT_S * PROBE_FACTOR:
            self.started_automatically = True
            self.probing = self.estimate_s > AUTO_LIMIT_S and count > PROBE_IMAGES
            self.probe_stopped = False
            self._started_at = time.perf_counter()
            w.evaluate_dataset(show_panel=False)
            scope = split_filter.describe(self._split(), count)
            w.status_bar.showMessage(f"Evaluating {scope} in the background "
                                     f"({describe_seconds(self.estimate_s)}); worst first when done", 6000)
        else:
            self._offer(self.estimate_s, count)

    def _offer(self, estimate_s: float, count: int) -> None:
        split = self._split()
        self.hint_button.setText(f"Evaluate {'all images' if split == split_filter.ALL else split} "
                                 f"({describe_seconds(estimate_s)})")
        self.hint_button.setToolTip(f"Score {split_filter.describe(split, count)} at every stride in the "
                                    "background, "
                                    "then sort the browser worst first (Tools → Evaluate automatically "
                                    "on open starts it by itself when it takes at most "
                                    f"{AUTO_LIMIT_S:.0f} s)")
        self.hint_button.show()

    def finished(self, result) -> bool:
        """The evaluation ended; False when it was a probe stopped here (the window then neither sorts
        nor shows dataset scores of those few images)."""
        if self.probe_stopped:
            self.probe_stopped = False
            self.window.evaluation.clear_result(
                f"Stopped after {result.images} images: the whole split takes longer than "
                f"{AUTO_LIMIT_S:.0f} s. The status-bar button (or Tools) evaluates it.")
            return False
        return True

    def _split_changed(self, _split: str) -> None:
        if not self.hint_button.isHidden():  # offered: re-offer for the new split
            count = self._labelled()
            self._offer(self._image_s * count, count)

    def _hint_clicked(self) -> None:
        self.hint_button.hide()
        self.window.evaluate_dataset(show_panel=False)

    def _progress(self, done: int, total: int) -> None:
        self.hint_button.hide()
        self.progress_label.setText(f"Evaluating {done}/{total}")
        self.progress_label.setVisible(done < total)
        if self.probing and done >= PROBE_IMAGES:
            self.probing = False
            # median compute time per image: robust to the first image's warm-up, and the pauses for the
            # user's own requests do not count as slowness
            times = sorted(self.window.evaluation.worker.image_seconds[:done]) or [
                (time.perf_counter() - self._started_at) / done]
            projected = times[len(times) // 2] * total
            if projected > AUTO_LIMIT_S:  # too slow after all: stop, keep the scores, offer the button
                self.probe_stopped = True
                self.window.evaluation.cancel()
                self.progress_label.hide()
                self._offer(projected * (total - done) / total, total)

    def _toggled(self, on: bool) -> None:
        settings.set_auto_evaluate(on)
        if on and self.window.model_set is not None and self.estimate_s is not None:
            self._decided = None  # switched on after opening: decide with the known timing
            self.on_prediction(self.estimate_s / max(self._labelled(), 1))
