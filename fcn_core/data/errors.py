"""The one error type for bad data files: its message always names the file and the problem."""

from __future__ import annotations

import os


class DataError(ValueError):
    """A dataset, image or label file cannot be used. ``path`` is the offending file (or folder)."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)
