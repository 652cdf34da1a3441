"""Errors caught in background work go to a log file in the user data folder, not to the terminal.

The window shows the plain-words message; the traceback, for a bug report, is in ``log_path()``
(``<user data>/logs/fcn-studio.log``, rotated at 1 MB, 3 old files kept).
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
from pathlib import Path

_lock = threading.Lock()
_logger: logging.Logger | None = None
_path: Path | None = None


def log_path() -> Path:
    from app.corrections import user_data_dir

    return user_data_dir() / "logs" / "fcn-studio.log"


def _get_logger() -> logging.Logger:
    global _logger, _path
    path = log_path()
    with _lock:
        if _logger is None or _path != path:  # the data folder can change (tests set FCN_STUDIO_DATA_DIR)
            logger = logging.getLogger("fcn_studio.background")
            logger.propagate = False  # never to the terminal
            for h in list(logger.handlers):
                logger.removeHandler(h)
                h.close()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handler: logging.Handler = logging.handlers.RotatingFileHandler(
                    path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
            except OSError:  # unwritable data folder: drop the traceback rather than crash the worker
                handler = logging.NullHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            _logger, _path = logger, path
        return _logger


def log_exception(context: str, exc: BaseException) -> None:
    """Write ``exc`` with its traceback under ``context`` (e.g. "predicting 2007_000033")."""
    logger = _get_logger()
    logger.error("%s: %s", context, exc, exc_info=(type(exc), exc, exc.__traceback__))
    for h in logger.handlers:
        h.flush()
