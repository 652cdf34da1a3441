"""The inference worker: one QObject on its own QThread owns the model set and the dataset reader.

Requests come in by signal with an id; results go out by signal with the same id. Only the newest pending
request is computed (older ones are dropped), the next images are prefetched when idle, and every error
(bad file, out of memory) is reported by signal so the window keeps running.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from app.model_set import ModelSet, load_model_set

#: Niceness of the inference thread relative to the GUI thread (0 = same priority).
WORKER_NICE = 5
#: GIL switch interval while the app runs: the GUI thread gets the interpreter back within 1 ms.
GIL_SWITCH_INTERVAL_S = 0.001


@dataclass
class ImageResult:
    """Everything the window needs to show one image: pixels, ground truth, per-stride predictions, scores."""

    req_id: int
    stem: str
    image: np.ndarray
    gt: np.ndarray | None
    results: dict[int, Any] | None  # {stride: StrideResult}, None without a model
    model_id: str | None
    scores: dict[int, dict] = field(default_factory=dict)  # {stride: {mean_iu, pixel_acc, error_frac, ...}}
    classes_present: list[int] = field(default_factory=list)
    seconds: float = 0.0


def describe_error(exc: BaseException) -> str:
    """Plain words for an exception raised while reading or predicting."""
    name = type(exc).__name__
    if "OutOfMemory" in name:
        return f"out of GPU memory ({exc}); try --device cpu or a smaller image"
    text = str(exc) or name
    return text if isinstance(exc, ValueError | OSError) else f"{name}: {text}"


def score_image(gt: np.ndarray | None, results: dict[int, Any] | None,
                num_classes: int) -> dict[int, dict]:
    """Per-stride image scores (mean IU, pixel accuracy, error fraction, mean confidence, per-class IU)."""
    if not results:
        return {}
    from fcn_core.metrics import confusion_matrix, scores_from_confusion

    out: dict[int, dict] = {}
    for stride, res in results.items():
        row: dict = {"mean_conf": float(np.mean(res.confidence))}
        if gt is not None and gt.shape == res.labels.shape:
            try:
                cm = confusion_matrix(gt, res.labels, num_classes)
            except ValueError as exc:  # e.g. GT classes beyond the model's: show it, say why unscored
                row["score_error"] = str(exc)
                out[stride] = row
                continue
            s = scores_from_confusion(cm)
            total = int(cm.sum())
            row.update(mean_iu=s["mean_iu"], pixel_acc=s["pixel_acc"],
                       error_frac=(1.0 - s["pixel_acc"]) if total else float("nan"),
                       per_class_iu=[v["iu"] for v in s["per_class"].values()])
        out[stride] = row
    return out


class InferenceWorker(QObject):
    """Lives on the inference thread. Call its slots only through queued signals (see InferenceClient)."""

    result_ready = Signal(object)  # ImageResult
    failed = Signal(int, str, str)  # req_id, stem, message
    models_loaded = Signal(object)  # ModelSet
    models_failed = Signal(str)
    computed = Signal(int)  # req_id of every request actually computed (tests, benchmarks)

    def __init__(self) -> None:
        super().__init__()
        self.dataset = None
        self.models: ModelSet | None = None
        self._pending: tuple[int, str, bool] | None = None
        self._prefetch: list[str] = []
        self._prefetched: OrderedDict[str, ImageResult] = OrderedDict()
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
        thread = QThread.currentThread()
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())  # so the timer is destroyed in the thread that owns it
        thread.quit()

    @Slot(object)
    def set_dataset(self, dataset) -> None:
        """Read images from this dataset from now on."""
        self.dataset = dataset
        self._prefetched.clear()
        self._pending = None

    @Slot(object, object, str)
    def load_models(self, paths: list, device: object, precision: str) -> None:
        """Load a model set here (the thread that will run it) and report it."""
        try:
            models = load_model_set(paths, device=device or None, precision=precision)
        except Exception as exc:  # noqa: BLE001 - any failure is shown to the user, the worker keeps running
            self.models_failed.emit(describe_error(exc))
            return
        self.models = models
        self._prefetched.clear()
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
        self._pending = (req_id, stem, need_predictions)
        self._prefetch = [s for s in prefetch if s != stem]
        self._timer.start()

    def _load(self, req_id: int, stem: str, need_predictions: bool) -> ImageResult:
        t0 = time.perf_counter()
        cached = self._prefetched.pop(stem, None)
        models = self.models
        if cached is not None and (cached.model_id == (models.model_id if models else None)
                                   or not need_predictions):
            cached.req_id = req_id
            return cached
        image = self.dataset.image(stem)
        gt = self.dataset.label(stem)
        results = models.predict(image) if (models is not None and need_predictions) else None
        num_classes = models.num_classes if models else int(getattr(self.dataset, "num_classes", 0) or 0)
        present = [int(c) for c in np.flatnonzero(np.bincount(gt.ravel(), minlength=256)[:255])] \
            if gt is not None else []
        return ImageResult(req_id, stem, image, gt, results, models.model_id if models else None,
                           score_image(gt, results, num_classes), present, time.perf_counter() - t0)

    @Slot()
    def _drain(self) -> None:
        """Compute the newest request, else prefetch one image; reschedule while work remains."""
        if self.dataset is None:
            self._pending, self._prefetch = None, []
            return
        if self._pending is not None:
            req_id, stem, need = self._pending
            self._pending = None
            try:
                result = self._load(req_id, stem, need)
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                traceback.print_exc()
                self.failed.emit(req_id, stem, describe_error(exc))
            else:
                self.computed_count += 1
                self.computed.emit(req_id)
                self.result_ready.emit(result)
        elif self._prefetch:
            stem = self._prefetch.pop(0)
            if stem not in self._prefetched:
                try:
                    self._prefetched[stem] = self._load(-1, stem, self.models is not None)
                    while len(self._prefetched) > 3:
                        self._prefetched.popitem(last=False)
                except Exception:  # noqa: BLE001 - a bad file is reported when the user opens it
                    pass
        if self._pending is not None or self._prefetch:
            self._timer.start()


class InferenceClient(QObject):
    """GUI-thread handle: starts the worker thread, numbers requests, forwards results."""

    result_ready = Signal(object)  # ImageResult
    failed = Signal(int, str, str)  # req_id, stem, message
    models_loaded = Signal(object)  # ModelSet
    models_failed = Signal(str)
    _request = Signal(int, str, bool, object)
    _set_dataset = Signal(object)
    _load_models = Signal(object, object, str)
    _forget = Signal(str)
    _stop = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("inference")
        self.worker = InferenceWorker()
        self.worker.moveToThread(self.thread)
        self._request.connect(self.worker.request)
        self._set_dataset.connect(self.worker.set_dataset)
        self._load_models.connect(self.worker.load_models)
        self._forget.connect(self.worker.forget)
        self._stop.connect(self.worker.stop)
        # relayed through this GUI-thread object, so even plain callables connected here run in the GUI thread
        self.worker.result_ready.connect(self.result_ready)
        self.worker.failed.connect(self.failed)
        self.worker.models_loaded.connect(self.models_loaded)
        self.worker.models_failed.connect(self.models_failed)
        self._next_id = 0
        self.latest_id = -1
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self.thread.started.connect(self.worker.lower_priority)
        self.thread.start()

    def request(self, stem: str, *, need_predictions: bool = True, prefetch: list[str] | None = None) -> int:
        """Ask for one image; returns the request id carried by the answer."""
        self._next_id += 1
        self.latest_id = self._next_id
        self._request.emit(self._next_id, stem, need_predictions, list(prefetch or []))
        return self._next_id

    def set_dataset(self, dataset) -> None:
        """Point the worker at a dataset."""
        self._set_dataset.emit(dataset)

    def load_models(self, paths: list, device: str | None = None, precision: str = "fp32") -> None:
        """Load model file(s) on the worker thread; answers with models_loaded or models_failed."""
        self._load_models.emit([str(p) for p in paths], device, precision)

    def forget(self, stem: str) -> None:
        """Invalidate the worker's prefetched copy of an image."""
        self._forget.emit(stem)

    @property
    def stats(self) -> dict[str, int]:
        """How many requests were computed and dropped as stale."""
        return {"computed": self.worker.computed_count, "dropped": self.worker.dropped_count}

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop the thread (waits for the forward pass in flight)."""
        if self.thread.isRunning():
            self._stop.emit()
            if not self.thread.wait(timeout_ms):
                self.thread.quit()
                self.thread.wait(timeout_ms)


class _TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(object)


class BackgroundTask(QRunnable):
    """Run ``fn(report)`` on the global thread pool (dataset scans, file listing): the GUI never waits.

    ``report(obj)`` sends partial results to ``signals.progress`` in the GUI thread; the return value goes to
    ``signals.done`` and an exception's plain-words message to ``signals.failed``. ``cancel()`` sets
    ``cancelled`` for ``fn`` to poll.
    """

    def __init__(self, fn: Callable[[Callable[[object], None]], object]):
        super().__init__()
        self.fn = fn
        self.signals = _TaskSignals()
        self.cancelled = False
        self.setAutoDelete(False)  # the owner keeps a reference until done

    def cancel(self) -> None:
        self.cancelled = True

    def run(self) -> None:  # noqa: D102 - QRunnable API
        try:
            out = self.fn(self.signals.progress.emit)
        except Exception as exc:  # noqa: BLE001 - reported to the window
            self.signals.failed.emit(describe_error(exc))
        else:
            self.signals.done.emit(out)

    def start(self) -> BackgroundTask:
        """Queue on the global pool; returns self."""
        QThreadPool.globalInstance().start(self)
        return self
