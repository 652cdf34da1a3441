"""The inference worker: one QObject on its own QThread owns the model set and the dataset reader.

Requests come in by signal with an id; results go out by signal with the same id. Only the newest pending
request is computed (older ones are dropped), the next images are prefetched when idle, and every error
(bad file, out of memory) is reported by signal so the window keeps running.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import OrderedDict, deque

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from app.error_log import log_exception
from app.input_channels import read_channels
from app.model_set import ModelSet
from app.work_items import (  # noqa: F401 - re-exported: callers import them from here
    ImageResult,
    ScoredImage,
    describe_error,
    evaluation_regions,
    predict_stem,
)
from app.workspace import classes_present, image_confusions, mean_confidence

#: Niceness of the inference thread relative to the GUI thread (0 = same priority).
WORKER_NICE = 5
#: GIL switch interval while the app runs: the GUI thread gets the interpreter back within 1 ms.
GIL_SWITCH_INTERVAL_S = 0.001


class InferenceWorker(QObject):
    """Lives on the inference thread and is the ONLY code that runs the model. Call its slots only through
    queued signals (see InferenceClient).

    Work is taken in priority order, one item per event-loop turn (so a new request always gets in next): the
    image the user asked for; re-scores of saved labels; the running evaluation, image by image; prefetching
    the neighbours of the image on screen. Models are read and built on a loader thread (no forward pass
    there) and handed over with ``adopt_models``, so a model being loaded never delays the first photo.

    With an int8 fast preview adopted (``adopt_preview``, app/fast_preview.py) a request whose exact result is
    not at hand is answered twice, as two work items: ``preview_ready`` (int8, shown only) and then, unless a
    newer request came in meanwhile, ``result_ready`` (exact, the only one cached and scored). Evaluations,
    re-scores and prefetching always run the exact models.
    """

    image_ready = Signal(object)  # ImageResult without predictions, before they are computed (shown at once)
    result_ready = Signal(object)  # ImageResult
    failed = Signal(int, str, str)  # req_id, stem, message
    models_loaded = Signal(object)  # PredictionSet (stored predictions are read here, on the worker)
    models_failed = Signal(str)
    computed = Signal(int)  # req_id of every request actually computed (tests, benchmarks)
    tile_progress = Signal(int, str, int, int)  # req_id, stem, tiles done, tiles (a large image)
    scored = Signal(object)  # ScoredImage
    evaluation_done = Signal(int, bool)  # run id, cancelled
    preview_ready = Signal(object)  # ImageResult with preview=True: the int8 result, before the exact one
    preview_failed = Signal(str)  # the int8 preview failed on an image and was dropped (why)

    def __init__(self) -> None:
        super().__init__()
        self.dataset = None
        self.models: ModelSet | None = None
        self.preview = None  # app.fast_preview.PreviewModels, or None
        # (req_id, stem, need_predictions, photo already sent by the preview pass or None)
        self._pending: tuple[int, str, bool, ImageResult | None] | None = None
        self._prefetch: list[str] = []
        self._prefetched: OrderedDict[str, ImageResult] = OrderedDict()
        self._rescore: OrderedDict[str, np.ndarray] = OrderedDict()
        self._eval_run = 0
        self._eval_queue: deque[str] = deque()
        self._eval_cancel = threading.Event()
        self.computed_count = 0
        self.dropped_count = 0
        self._timer = QTimer(self)  # moves with this object; fires in the worker thread
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)

    @Slot()
    def lower_priority(self) -> None:
        """Runs first in the worker thread: let the GUI thread win the CPU (and the GIL) when both want it.

        The nice value is per thread on Linux and inherited by threads started from here (torch's OpenMP
        team for this thread), so the event loop stays responsive while a forward pass saturates the cores.
        """
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
        except (AttributeError, OSError):  # not Linux/macOS, or not permitted: run at normal priority
            pass

    @Slot()
    def stop(self) -> None:
        """Runs in the worker thread: stop the timer, go back to the GUI thread, end this thread."""
        self._timer.stop()
        self._pending, self._prefetch = None, []
        self.preview = None
        self._eval_queue.clear()
        self._rescore.clear()
        thread = QThread.currentThread()
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())  # so the timer is destroyed in the thread that owns it
        thread.quit()

    @Slot(object)
    def set_dataset(self, dataset) -> None:
        """Read images from this dataset from now on (an evaluation of the old one ends)."""
        self.dataset = dataset
        self._prefetched.clear()
        self._rescore.clear()
        self._pending = None
        self._end_evaluation(cancelled=True)

    @Slot(object)
    def adopt_models(self, models: ModelSet) -> None:
        """From now on this thread runs ``models`` (read and built on the client's loader thread)."""
        self.models = models
        self._prefetched.clear()
        self._rescore.clear()
        self._end_evaluation(cancelled=True)

    @Slot(object)
    def adopt_preview(self, preview) -> None:
        """Answer requests with this int8 preview first (built on the client's loader thread), as long as the
        exact models and dataset it belongs to are this thread's."""
        self.preview = preview

    @Slot()
    def drop_preview(self) -> None:
        """No more int8 previews: requests get the exact result only."""
        self.preview = None

    def _previews(self, req_id: int, stem: str, need_predictions: bool) -> bool:
        """Whether this request is answered with a preview first: a user's request for a prediction that is
        not at hand (prefetched), with a preview of the exact models and dataset in use."""
        p, models = self.preview, self.models
        if p is None or req_id <= 0 or not need_predictions or models is None:
            return False
        if p.model_id != models.model_id or p.dataset is not self.dataset:
            return False
        cached = self._prefetched.get(stem)
        return cached is None or cached.results is None or cached.model_id != models.model_id

    def _preview_pass(self, req_id: int, stem: str) -> ImageResult:
        """Send the photo (``image_ready``) and the int8 prediction (``preview_ready``); returns the photo's
        item for the exact pass that follows. A failing preview is dropped (``preview_failed``), never the
        image."""
        t0 = time.perf_counter()
        image, gt = self._read(stem)
        inputs, input_errors = read_channels(self.dataset, stem)
        photo = ImageResult(req_id, stem, image, gt, None, self.models.model_id,
                            classes_present=classes_present(gt), inputs=inputs, input_errors=input_errors)
        self.image_ready.emit(photo)
        try:
            results = predict_stem(self.preview.models, stem, image, dataset=self.dataset)
        except Exception as exc:  # noqa: BLE001 - the exact result still comes
            if not isinstance(exc, ValueError | OSError):
                log_exception(f"int8 preview of {stem}", exc)
            self.preview = None
            self.preview_failed.emit(describe_error(exc))
            return photo
        self.preview_ready.emit(dataclasses.replace(photo, results=results, preview=True,
                                                    seconds=time.perf_counter() - t0))
        return photo

    @Slot(str)
    def load_predictions(self, folder: str) -> None:
        """Read a folder of stored predictions for the open dataset (``app.prediction_set``) and report it
        like a model set (``models_loaded`` / ``models_failed``)."""
        from app.prediction_set import load_prediction_set

        try:
            models = load_prediction_set(folder, self.dataset)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the worker keeps running
            if not isinstance(exc, ValueError | OSError):
                log_exception(f"loading predictions {folder}", exc)
            self.models_failed.emit(describe_error(exc))
            return
        self.models = models
        self._prefetched.clear()
        self._rescore.clear()
        self._end_evaluation(cancelled=True)
        self.models_loaded.emit(models)

    @Slot(str)
    def forget(self, stem: str) -> None:
        """Drop a prefetched image (its label file changed)."""
        self._prefetched.pop(stem, None)

    @Slot(int, str, bool, object)
    def request(self, req_id: int, stem: str, need_predictions: bool, prefetch: list) -> None:
        """Queue one image; a newer request replaces an older one still waiting."""
        if self._pending is not None:
            self.dropped_count += 1
        self._pending = (req_id, stem, need_predictions, None)
        self._prefetch = [s for s in prefetch if s != stem]
        self._timer.start()

    @Slot(str, object)
    def rescore(self, stem: str, labels: np.ndarray) -> None:
        """Score ``labels`` (stem's saved labels) against stem's own prediction; answers with ``scored``."""
        self._rescore[stem] = labels
        self._rescore.move_to_end(stem)
        self._timer.start()

    @Slot(int, object)
    def evaluate(self, run_id: int, stems: list) -> None:
        """Score ``stems`` one by one at every stride (after the user's own requests); ends with
        ``evaluation_done(run_id, cancelled)``. A new run replaces one in progress."""
        self._end_evaluation(cancelled=True)
        self._eval_cancel.clear()
        self._eval_run = run_id
        self._eval_queue = deque(stems)
        if not stems:
            self._end_evaluation(cancelled=False)
        self._timer.start()

    def cancel_evaluation(self) -> None:
        """Thread-safe: the running evaluation stops after the image in flight."""
        self._eval_cancel.set()
        QTimer.singleShot(0, self, self._timer.start)

    def _end_evaluation(self, *, cancelled: bool) -> None:
        if self._eval_run:
            run, self._eval_run = self._eval_run, 0
            self._eval_queue.clear()
            self.evaluation_done.emit(run, cancelled)

    def _read(self, stem: str) -> tuple[np.ndarray, np.ndarray | None]:
        return self.dataset.image(stem), self.dataset.label(stem)

    def _load(self, req_id: int, stem: str, need_predictions: bool,
              photo: ImageResult | None = None) -> ImageResult:
        """``stem`` with its exact prediction (``photo``: already read and sent by the preview pass)."""
        t0 = time.perf_counter()
        cached = self._prefetched.pop(stem, None)
        models = self.models
        if cached is not None and (cached.model_id == (models.model_id if models else None)
                                   or not need_predictions):
            cached.req_id = req_id
            return cached
        if photo is not None:
            image, gt, inputs, input_errors = photo.image, photo.gt, photo.inputs, photo.input_errors
        else:
            image, gt = self._read(stem)
            inputs, input_errors = read_channels(self.dataset, stem)
        model_id = models.model_id if models else None
        if req_id > 0 and models is not None and need_predictions and photo is None:  # photo first
            self.image_ready.emit(ImageResult(req_id, stem, image, gt, None, model_id,
                                              classes_present=classes_present(gt), inputs=inputs,
                                              input_errors=input_errors))
        results, problem = None, ""
        if models is not None and need_predictions:
            try:
                def tiles(done: int, total: int) -> None:
                    self.tile_progress.emit(req_id, stem, done, total)

                results = predict_stem(models, stem, image, progress=tiles if req_id > 0 else None,
                                       dataset=self.dataset)
            except (ValueError, OSError) as exc:
                if getattr(models, "predictors", True):  # a live model's failure is reported as before
                    raise
                problem = describe_error(exc)  # a stored prediction missing or bad: this image only
        out = ImageResult(req_id, stem, image, gt, results, model_id, classes_present=classes_present(gt),
                          prediction_error=problem, note=getattr(models, "last_note", "") if results else "",
                          inputs=inputs, input_errors=input_errors)
        if results is not None:
            try:
                out.confusions = image_confusions(self.dataset, stem, gt, results, models.num_classes)
            except ValueError as exc:  # shown, and why it is not scored
                out.score_error = str(exc)
        out.seconds = time.perf_counter() - t0
        return out

    def _score(self, run_id: int, stem: str, labels: np.ndarray | None = None) -> ScoredImage:
        """Predict ``stem`` and score it against its labels (given, or the dataset's)."""
        t0 = time.perf_counter()
        models = self.models
        out = ScoredImage(run_id, stem, models.model_id if models else None, None)
        try:
            image = self.dataset.image(stem)
            gt = self.dataset.label(stem) if labels is None else labels
            if gt is None:
                raise ValueError(f"{stem}: no ground-truth label to evaluate against")
            if models is None:
                raise ValueError("no model is loaded")
            results = predict_stem(models, stem, image, dataset=self.dataset)
            out.confusions = image_confusions(self.dataset, stem, gt, results, models.num_classes)
            out.mean_conf = mean_confidence(models, results) or {}
            out.classes_present = classes_present(gt)
            if run_id > 0:  # the dataset-wide error regions come with the evaluation (issue 13)
                out.regions = evaluation_regions(image, gt, results)
        except Exception as exc:  # noqa: BLE001 - one bad image must not stop an evaluation
            if not isinstance(exc, ValueError | OSError):
                log_exception(f"scoring {stem}", exc)
            out.confusions, out.error = None, describe_error(exc)
        out.seconds = time.perf_counter() - t0
        return out

    @Slot()
    def _drain(self) -> None:
        """Do the most urgent piece of work; reschedule while work remains."""
        if self.dataset is None:
            self._pending, self._prefetch = None, []
            self._end_evaluation(cancelled=True)
            return
        if self._eval_run and self._eval_cancel.is_set():
            self._end_evaluation(cancelled=True)
        if self._pending is not None:
            req_id, stem, need, photo = self._pending
            self._pending = None
            try:
                if photo is None and self._previews(req_id, stem, need):
                    # the exact pass is the next item: a newer request coming in meanwhile replaces it
                    self._pending = (req_id, stem, need, self._preview_pass(req_id, stem))
                    result = None
                else:
                    result = self._load(req_id, stem, need, photo)
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                log_exception(f"loading {stem}", exc)
                self.failed.emit(req_id, stem, describe_error(exc))
            else:
                if result is not None:
                    self.computed_count += 1
                    self.computed.emit(req_id)
                    self.result_ready.emit(result)
        elif self._rescore:
            stem, labels = self._rescore.popitem(last=False)
            self.scored.emit(self._score(0, stem, labels))
        elif self._eval_run and self._eval_queue:
            run = self._eval_run
            self.scored.emit(self._score(run, self._eval_queue.popleft()))
            if not self._eval_queue:
                self._end_evaluation(cancelled=False)
        elif self._prefetch:
            stem = self._prefetch.pop(0)
            if stem not in self._prefetched:
                try:
                    self._prefetched[stem] = self._load(-1, stem, self.models is not None)
                    while len(self._prefetched) > 3:
                        self._prefetched.popitem(last=False)
                except Exception:  # noqa: BLE001 - a bad file is reported when the user opens it
                    pass
        evaluating = bool(self._eval_run and self._eval_queue)
        if self._pending is not None or self._prefetch or self._rescore or evaluating:
            self._timer.start()
