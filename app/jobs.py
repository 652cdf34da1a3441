"""One mechanism for every one-shot background job: saves, autosaves, the recovery scan, dataset opening and
class scans, export, fine-tuning (the model itself belongs to the inference worker, app/workers.py).

A job is ``fn(progress, should_stop) -> result`` run on a thread of Qt's pool through superqt's
``create_worker``. One convention for all of them: ``progress(x)`` reaches ``Job.progressed`` on the GUI
thread; ``cancel()`` makes ``should_stop()`` True and the job ends at its next check; the result goes to
``succeeded``, an exception's plain-words message to ``failed`` (its traceback to the log file,
``app.error_log``); ``finished`` always comes last. Jobs of one *lane* run one after another in the order
they were started (saves and autosaves of the labels: an older snapshot never lands after a newer one).
``JobRunner.shutdown()`` cancels and joins every job when the window closes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal
from superqt.utils import create_worker

from app.error_log import log_exception

JobFn = Callable[[Callable[..., None], Callable[[], bool]], Any]


def describe_error(exc: BaseException) -> str:
    """Plain words for an exception (file errors and ValueErrors already name the file)."""
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ValueError | OSError) else f"{type(exc).__name__}: {text}"


class Job(QObject):
    """One background job (see the module docstring); ``start()`` once."""

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, fn: JobFn, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._fn = fn
        self._stop = threading.Event()
        self.running = False
        self.done = False
        self.result: Any = None
        self.error: str | None = None
        # errors are ours to report (to the log and the window), never re-raised in the event loop
        self._worker = create_worker(self._body, _start_thread=False, _ignore_errors=True)
        self._worker.returned.connect(self._returned)
        self._worker.errored.connect(self._errored)
        self._worker.finished.connect(self._finished)

    def _body(self) -> Any:
        return self._fn(self._progress, self._stop.is_set)

    def _progress(self, *args: Any) -> None:
        try:
            self.progressed.emit(args[0] if len(args) == 1 else args)
        except RuntimeError:  # the window (and this job's Qt object) is gone: stop the work quietly
            self._stop.set()

    def start(self) -> Job:
        self.running = True
        self._worker.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next ``should_stop()`` check."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def isRunning(self) -> bool:  # noqa: N802 - the QThread spelling the callers used
        return self.running

    def _alive(self) -> bool:
        # A job can outlive its window (deleted while a save was still being written): its answer then has
        # nobody to go to, and calling back into deleted widgets would crash the process.
        parent = self.parent()
        return shiboken6.isValid(self) and (parent is None or shiboken6.isValid(parent))

    def _returned(self, result: Any) -> None:
        self.result = result
        if self._alive():
            self.succeeded.emit(result)

    def _errored(self, exc: BaseException) -> None:
        if not isinstance(exc, ValueError | OSError):  # a bug, not a bad file: keep the traceback
            log_exception(self.name, exc)
        self.error = describe_error(exc)
        if self._alive():
            self.failed.emit(self.error)

    def _finished(self) -> None:
        self.running, self.done = False, True
        if self._alive():
            self.finished.emit()


class JobRunner(QObject):
    """Starts jobs, keeps them alive until they end, runs each lane in order, cancels and joins them all."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: set[Job] = set()
        self._lanes: dict[str, deque[Job]] = {}

    def start(self, fn: JobFn, *, name: str, lane: str | None = None,
              on_done: Callable[[Any], None] | None = None, on_error: Callable[[str], None] | None = None,
              on_progress: Callable[[Any], None] | None = None) -> Job:
        """Run ``fn(progress, should_stop)`` in the background; the callbacks run on the GUI thread."""
        job = Job(fn, name, self)
        if on_done is not None:
            job.succeeded.connect(on_done)
        if on_error is not None:
            job.failed.connect(on_error)
        if on_progress is not None:
            job.progressed.connect(on_progress)
        job.finished.connect(lambda: self._ended(job, lane))
        self.jobs.add(job)
        if lane is None:
            return job.start()
        queue = self._lanes.setdefault(lane, deque())
        queue.append(job)
        if len(queue) == 1:
            job.start()
        return job

    def adopt(self, job: Job) -> Job:
        """Start a job made by the caller (who connected its signals first) and keep it until it ends."""
        job.setParent(self)
        job.finished.connect(lambda: self._ended(job, None))
        self.jobs.add(job)
        return job.start()

    def _ended(self, job: Job, lane: str | None) -> None:
        self.jobs.discard(job)
        queue = self._lanes.get(lane) if lane is not None else None
        if queue and queue[0] is job:
            queue.popleft()
            if queue:
                queue[0].start()

    def busy(self, lane: str | None = None) -> bool:
        """Any job running or waiting (in ``lane`` only, when given)."""
        if lane is not None:
            return bool(self._lanes.get(lane))
        return bool(self.jobs)

    def running(self, *names: str) -> list[Job]:
        """Jobs not ended yet, optionally only those with one of ``names``."""
        return [j for j in self.jobs if not names or j.name in names]

    def join(self, timeout_s: float = 10.0, lane: str | None = None) -> bool:
        """Wait for the jobs (of ``lane``) to end, delivering their signals meanwhile; False on time-out.
        Used when the window closes and before a synchronous overwrite of the original labels."""
        deadline = time.monotonic() + timeout_s
        while self.busy(lane) and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            QThread.msleep(5)
        return not self.busy(lane)

    def shutdown(self, timeout_s: float = 30.0) -> bool:
        """Cancel every job and wait for all of them (window closing)."""
        for job in list(self.jobs):
            job.cancel()
        return self.join(timeout_s)
