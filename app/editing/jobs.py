"""Editor work off the GUI thread: short jobs (saves, autosaves) on a one-thread QThreadPool, long jobs
(export, fine-tuning) on their own QThread with progress and cancel."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal


class _JobSignals(QObject):
    # Created on the GUI thread, so receivers run there (queued connections from the pool thread).
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _JobSignals):
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the GUI, never lost in a pool thread
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


_live: set[_JobSignals] = set()  # keep signal objects alive until their job reports
_pool: QThreadPool | None = None


def editor_pool() -> QThreadPool:
    """The editor's own pool with ONE thread: saves and autosaves run in the order they were asked for,
    and waiting for them never waits for other parts of the app."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(1)
    return _pool


def run_job(fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception], None] | None = None) -> None:
    """Run ``fn()`` on the editor's pool; ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread.

    ``fn`` must only touch data it owns (e.g. a copy of the labels taken before calling this).
    """
    signals = _JobSignals()
    _live.add(signals)

    def finish(_=None) -> None:
        _live.discard(signals)

    if on_done is not None:
        signals.done.connect(on_done)
    if on_error is not None:
        signals.failed.connect(on_error)
    signals.done.connect(finish)
    signals.failed.connect(finish)
    editor_pool().start(_Job(fn, signals))


def wait_for_jobs(timeout_ms: int = 10_000) -> bool:
    """Block until the editor's jobs finish (a synchronous save waits for a background one in flight)."""
    return editor_pool().waitForDone(timeout_ms)


TaskFn = Callable[[Callable[..., None], Callable[[], bool]], Any]


class TaskThread(QThread):
    """A long job on its own thread: ``fn(progress, should_stop)``; reports progress, result or error.

    ``progress`` accepts anything (a dict from training, ``(done, total)`` from export) and is forwarded as
    ``progressed(object)``. ``cancel()`` makes ``should_stop()`` return True; the job ends at its next check.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: TaskFn, parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next ``should_stop()`` check."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        def progress(*args: Any) -> None:
            self.progressed.emit(args[0] if len(args) == 1 else args)

        try:
            result = self._fn(progress, self._stop.is_set)
        except Exception as exc:
            self.failed.emit(f"{exc}\n\n{traceback.format_exc(limit=3)}")
        else:
            self.succeeded.emit(result)
