"""Shared fixtures. Qt runs offscreen; real data comes from ../shared/data next to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data_path(*parts: str) -> Path:
    """Path under ../shared/data; skip when absent on a laptop, but fail under CI (CI=true)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data missing under CI: {path}")
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture
def shared_data():
    """Callable fixture: ``shared_data("voc2012-sample")`` -> Path."""
    return shared_data_path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """Close every main window a test showed, and let a close that waits for a background save finish,
    before pytest-qt closes the widgets and schedules their deletion.

    A window closed with unsaved edits answers "not yet", saves off the GUI thread and closes itself when the
    labels are on disk; its ``closeEvent`` then joins the window's jobs, processing events. Had pytest-qt's
    ``deleteLater`` been posted meanwhile, that deletion could run inside the window's own ``closeEvent``
    (a segmentation fault seen once in a full run, in the next test's set-up)."""
    _close_main_windows(item)
    return (yield)


def _close_main_windows(item, timeout_s: float = 60.0) -> None:
    import sys
    import time

    module = sys.modules.get("app.main_window")
    refs = getattr(item, "qt_widgets", None)
    if module is None or not refs:
        return
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QThread

    for ref, _ in refs:
        w = ref()
        if not isinstance(w, module.MainWindow) or not shiboken6.isValid(w) or not w.isVisible():
            continue
        w.close()
        deadline = time.monotonic() + timeout_s
        while shiboken6.isValid(w) and w.isVisible() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            QThread.msleep(5)
