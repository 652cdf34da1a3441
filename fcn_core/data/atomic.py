"""Atomic file writes: temporary file in the same folder, fsync, ``os.replace``.

A failed or interrupted write leaves the previous file untouched and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _current_umask() -> int:
    # Read without os.umask(), which sets the process-wide mask and would race with other threads.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def default_mode(folder: bool = False) -> int:
    """Permissions a plain ``open()`` (0666) or ``mkdir()`` (0777) gives under the current umask.

    For files and folders made by ``tempfile`` (always 0600 / 0700) that end up as user-visible results.
    """
    return (0o777 if folder else 0o666) & ~_current_umask()


def _final_mode(target: Path) -> int:
    """Permissions the finished file gets: the old file's, else what ``open()`` would give (0666 & ~umask).

    ``mkstemp`` creates its file 0600; without this every label, export and checkpoint written through
    here would be unreadable to other users (unlike a file written with plain ``open``).
    """
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return default_mode()


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not supported on every platform/filesystem.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success fsync it and move it over ``path``.

    Use for writers that want a file name (``cv2.imwrite``, ``PIL.Image.save``, ``safetensors``).
    On any exception the temporary file is removed and ``path`` is unchanged.
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=suffix if suffix is not None else (target.suffix + ".tmp"),
        dir=folder,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _final_mode(target))
        with open(tmp, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))
