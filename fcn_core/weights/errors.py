"""The error raised for any weights file that cannot be used."""

from __future__ import annotations

import os


class WeightsError(ValueError):
    """A weights file is missing, unreadable or does not fit the model; the message names the file."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


def list_keys(keys: list[str] | set[str], limit: int = 12) -> str:
    """``a, b, c (+5 more)`` for messages."""
    ordered = sorted(keys)
    shown = ", ".join(ordered[:limit])
    return shown + (f" (+{len(ordered) - limit} more)" if len(ordered) > limit else "")
