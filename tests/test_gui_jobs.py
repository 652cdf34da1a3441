"""Background jobs in the window: saving on image switch and the recovery scan never run on the GUI thread;
closing asks before stopping an export or fine-tune, then cancels and joins every job."""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from app import settings
from app.editing import storage
from app.editing.saving import Saver
from tests.gui_helpers import isolate_user_state, make_tiny_dataset, open_test_window

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp("jobs") / "ds", count=4)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, data):
    ds = tmp_path / "ds"
    shutil.copytree(data, ds)
    isolate_user_state(monkeypatch, tmp_path)
    w = open_test_window(qtbot, tmp_path, split="all")
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_dataset(ds)
    qtbot.waitUntil(lambda: w.editing.document is not None, timeout=TIMEOUT)
    w.test_dataset = ds
    yield w
    settings.use_ini_file(None)


def test_switching_image_saves_off_the_gui_thread_then_switches(qtbot, window, monkeypatch):
    w = window
    first, second = w.dataset.stems[0], w.dataset.stems[1]
    assert w.current_stem == first
    gate = threading.Event()
    real_save = storage.save_correction
    threads = []

    def slow_save(*args, **kwargs):  # a slow disk
        threads.append(threading.get_ident())
        gate.wait(10)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(storage, "save_correction", slow_save)
    doc = w.editing.document
    doc.replace_all(np.zeros_like(doc.labels))
    w.editing.after_edit()
    assert doc.is_modified
    w.show_stem(second)  # returns at once: the save runs in the background, the switch waits for it
    target = w.test_dataset / "corrections" / f"{first}.png"
    assert not target.exists() and w.current_stem == first
    qtbot.waitUntil(lambda: bool(threads), timeout=TIMEOUT)
    assert threads[0] != threading.get_ident()
    gate.set()
    qtbot.waitUntil(lambda: w.current_stem == second and w.editing.stem == second, timeout=TIMEOUT)
    assert target.exists() and not doc.is_modified


def test_recovery_scan_runs_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    gate = threading.Event()
    real_list = storage.list_recoveries
    scan = {}

    def slow_list(folder):
        scan["thread"] = threading.get_ident()
        gate.wait(5)
        scan["done"] = time.monotonic()
        return real_list(folder)

    monkeypatch.setattr(storage, "list_recoveries", slow_list)
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    asked = []
    monkeypatch.setattr(Saver, "ask_restore", lambda self, found: asked.append(found) or "later")
    ticks = []
    QTimer.singleShot(100, lambda: ticks.append(time.monotonic()))
    w = open_test_window(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: bool(ticks), timeout=TIMEOUT)  # the event loop runs while the scan waits
        assert "done" not in scan and scan.get("thread") not in (None, threading.get_ident())
        gate.set()
        qtbot.waitUntil(lambda: "done" in scan and not w.jobs.busy(), timeout=TIMEOUT)
        assert ticks[0] < scan["done"]
    finally:
        gate.set()
        settings.use_ini_file(None)


def test_closing_asks_before_stopping_an_export_then_joins_every_job(qtbot, window, monkeypatch):
    w = window
    stopped = []

    def export(progress, should_stop):
        while not should_stop():
            progress(0, 1)
            time.sleep(0.01)
        stopped.append(True)
        return {"stopped": True}

    job = w.jobs.start(export, name="export")
    qtbot.waitUntil(job.isRunning, timeout=TIMEOUT)
    answers = iter([False, True])
    asked = []
    monkeypatch.setattr(w, "ask_stop_jobs", lambda names: asked.append(names) or next(answers))
    w.close()
    assert asked == [["export"]] and w.isVisible() and job.isRunning()  # "no": keeps working
    w.close()
    assert not w.isVisible() and stopped == [True] and not w.jobs.busy()
