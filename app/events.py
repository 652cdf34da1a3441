"""A minimal, Qt-free event: ``connect(callback)``, ``emit(*args)`` (as napari's EventEmitter, much smaller).

The workspace model (``app.workspace``) announces its changes with these so widgets can observe it and
tests can drive it without a window. Callbacks run synchronously, in the order they were connected, on
the thread that emits (always the GUI thread in the app).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A list of callbacks called with the emitted arguments."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every ``emit``; returns it (usable as a decorator). Connecting the same
        callback again does nothing (a ScoreBook shown again after a task switch is not wired twice)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (no error when it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)
