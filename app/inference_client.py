"""The GUI thread's handle on the inference worker (``app.workers.InferenceWorker``): starts its thread,
numbers the requests, loads models on a loader thread and forwards every answer as a signal."""

from __future__ import annotations

import atexit
import sys
import threading

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from app.error_log import log_exception
from app.model_set import load_model_set
from app.work_items import describe_error
from app.workers import GIL_SWITCH_INTERVAL_S, InferenceWorker

_threads: list[QThread] = []  # every inference thread started, kept until exit


@atexit.register
def _stop_all_threads() -> None:
    """A window destroyed without being closed (a script, a test) must not leave its inference thread running
    when Python exits: Qt aborts the process ("QThread: Destroyed while thread is still running")."""
    for thread in _threads:
        try:
            if thread.isRunning():
                thread.quit()  # ends its event loop after the item in hand
                if not thread.wait(10_000):
                    thread.terminate()
                    thread.wait(2_000)
        except RuntimeError:  # its Qt object is already gone
            pass


class InferenceClient(QObject):
    """GUI-thread handle: starts the worker thread, numbers requests, forwards results."""

    image_ready = Signal(object)  # ImageResult without predictions
    result_ready = Signal(object)  # ImageResult
    failed = Signal(int, str, str)  # req_id, stem, message
    models_loaded = Signal(object)  # ModelSet
    models_failed = Signal(str)
    scored = Signal(object)  # ScoredImage
    evaluation_done = Signal(int, bool)
    tile_progress = Signal(int, str, int, int)  # req_id, stem, tiles done, tiles
    preview_ready = Signal(object)  # ImageResult with preview=True (int8: show it, never cache or score it)
    preview_failed = Signal(str)  # the worker dropped the preview (an image failed in int8)
    _request = Signal(int, str, bool, object)
    _set_dataset = Signal(object)
    _adopt_models = Signal(object)
    _models_failed = Signal(int, str)
    _models_ready = Signal(int, object)
    _load_predictions = Signal(str)
    _forget = Signal(str)
    _rescore = Signal(str, object)
    _evaluate = Signal(int, object)
    _stop = Signal()
    _adopt_preview = Signal(object)
    _drop_preview = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("inference")
        self.worker = InferenceWorker()
        self.worker.moveToThread(self.thread)
        self._request.connect(self.worker.request)
        self._set_dataset.connect(self.worker.set_dataset)
        self._adopt_models.connect(self.worker.adopt_models)
        self._models_ready.connect(self._hand_over)  # loader thread -> GUI thread (queued)
        self._models_failed.connect(self._load_failed)
        self._load_serial = 0
        self._loader: threading.Thread | None = None
        self._load_predictions.connect(self.worker.load_predictions)
        self.worker.models_loaded.connect(self.models_loaded)
        self.worker.models_failed.connect(self.models_failed)
        self._forget.connect(self.worker.forget)
        self._rescore.connect(self.worker.rescore)
        self._evaluate.connect(self.worker.evaluate)
        self._stop.connect(self.worker.stop)
        # relayed through this GUI-thread object, so even plain callables connected here run in the GUI thread
        self.worker.image_ready.connect(self.image_ready)
        self.worker.result_ready.connect(self.result_ready)
        self.worker.failed.connect(self.failed)
        self.worker.scored.connect(self.scored)
        self.worker.tile_progress.connect(self.tile_progress)
        self.worker.evaluation_done.connect(self.evaluation_done)
        self.worker.preview_ready.connect(self.preview_ready)
        self.worker.preview_failed.connect(self.preview_failed)
        self._adopt_preview.connect(self.worker.adopt_preview)
        self._drop_preview.connect(self.worker.drop_preview)
        self._next_id = 0
        self._next_run = 0
        self.latest_id = -1
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self.thread.started.connect(self.worker.lower_priority)
        self.thread.start()
        _threads.append(self.thread)

    def request(self, stem: str, *, need_predictions: bool = True, prefetch: list[str] | None = None) -> int:
        """Ask for one image; returns the request id carried by the answer."""
        self._next_id += 1
        self.latest_id = self._next_id
        self._request.emit(self._next_id, stem, need_predictions, list(prefetch or []))
        return self._next_id

    def set_dataset(self, dataset) -> None:
        """Point the worker at a dataset."""
        self._set_dataset.emit(dataset)

    def load_models(self, paths: list, device: str | None = None, precision: str = "fp32",
                    memory_mb: float | None = None, backend: str = "torch") -> None:
        """Read and build model file(s) on a loader thread, then hand them to the worker (the one thread that
        runs them); answers with models_loaded or models_failed. A newer load supersedes an older one."""
        self._load_serial += 1
        serial, paths = self._load_serial, [str(p) for p in paths]

        def load() -> None:
            try:
                models = load_model_set(paths, device=device or None, precision=precision,
                                        memory_mb=memory_mb, backend=backend)
            except Exception as exc:  # noqa: BLE001 - any failure is shown to the user
                if not isinstance(exc, ValueError | OSError):
                    log_exception(f"loading {paths}", exc)
                self._models_failed.emit(serial, describe_error(exc))
                return
            self._models_ready.emit(serial, models)

        self._loader = threading.Thread(target=load, name="model loader", daemon=True)
        self._loader.start()

    def _hand_over(self, serial: int, models) -> None:
        if serial != self._load_serial:
            return  # superseded by a newer load
        # queued to the worker before models_loaded reaches the window, so every request the window sends
        # in reply is answered with these models
        self._adopt_models.emit(models)
        self.models_loaded.emit(models)

    def _load_failed(self, serial: int, message: str) -> None:
        if serial == self._load_serial:
            self.models_failed.emit(message)

    def adopt(self, models) -> None:
        """Hand an already loaded model set to the worker (e.g. another head of the same net)."""
        self._adopt_models.emit(models)

    def adopt_preview(self, preview) -> None:
        """Hand an int8 preview (``app.fast_preview.PreviewModels``, built off this thread) to the worker: it
        answers requests with it first while its exact models and dataset are the worker's."""
        self._adopt_preview.emit(preview)

    def drop_preview(self) -> None:
        """The worker stops previewing (requests get the exact result only)."""
        self._drop_preview.emit()

    def load_predictions(self, folder) -> None:
        """Read stored predictions for the worker's dataset (set it first); answers with models_loaded (a
        PredictionSet) or models_failed. Supersedes a model load still in flight."""
        self._load_serial += 1
        self._load_predictions.emit(str(folder))

    def forget(self, stem: str) -> None:
        """Invalidate the worker's prefetched copy of an image."""
        self._forget.emit(stem)

    def rescore(self, stem: str, labels: np.ndarray) -> None:
        """Score saved labels against stem's own prediction on the worker (answer: ``scored`` with run 0)."""
        self._rescore.emit(stem, labels)

    def evaluate(self, stems: list[str]) -> int:
        """Start scoring ``stems`` on the worker; returns the run id that ``scored`` and
        ``evaluation_done`` carry."""
        self._next_run += 1
        self._evaluate.emit(self._next_run, list(stems))
        return self._next_run

    def cancel_evaluation(self) -> None:
        self.worker.cancel_evaluation()

    @property
    def stats(self) -> dict[str, int]:
        """How many requests were computed and dropped as stale."""
        return {"computed": self.worker.computed_count, "dropped": self.worker.dropped_count}

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop the thread (waits for the forward pass in flight)."""
        if self._loader is not None:
            self._loader.join(timeout_ms / 1000)
        if self.thread.isRunning():
            self.worker.cancel_evaluation()
            self._stop.emit()
            if not self.thread.wait(timeout_ms):
                self.thread.quit()
                self.thread.wait(timeout_ms)
