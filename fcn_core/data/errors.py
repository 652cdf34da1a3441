"""The one error type for bad data files: its message always names the file and the problem."""

from __future__ import annotations

import os


class DataError(ValueError):
    """A dataset, image or label file cannot be used. ``path`` is the offending file (or folder)."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


def failure(stem: str, exc: BaseException,
            file: str | os.PathLike[str] | None = None) -> dict[str, str | None]:
    """One image that a batch job (evaluation, export) skipped: ``{"stem", "file", "error"}``, JSON-ready.

    ``file`` is the DataError's file, else ``file``; ``error`` is the problem without the file name.
    """
    if isinstance(exc, DataError) and exc.path is not None:
        return {"stem": stem, "file": exc.path, "error": exc.problem}
    return {"stem": stem, "file": None if file is None else os.fspath(file),
            "error": str(exc) or type(exc).__name__}


def describe_failures(failed: list[dict[str, str | None]], limit: int | None = None) -> list[str]:
    """``"FILE: ERROR"`` lines for failures (``limit`` lines at most, then ``"... and N more"``)."""
    lines = [f"{f['file']}: {f['error']}" if f.get("file") else f"{f['stem']}: {f['error']}"
             for f in failed[:limit]]
    if limit is not None and len(failed) > limit:
        lines.append(f"... and {len(failed) - limit} more")
    return lines
