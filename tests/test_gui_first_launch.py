"""First launch: the window shows at once while the demo data is generated in the background."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QLabel

from app import launch, settings
from fcn_core import resources


def test_first_launch_shows_window_before_demo_data_exists(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)
    gate = threading.Event()
    real = resources.make_demo_dataset

    def slow_generator(out, count, seed, **_kw):  # held until the test has looked at the window
        assert gate.wait(60), "the test never released the generator"
        return real(out, count=5, seed=seed, size=(64, 48))

    monkeypatch.setattr(resources, "make_demo_dataset", slow_generator)
    try:
        started = launch.start(["--size", "900x600", "--device", "cpu"])
        assert not isinstance(started, int)
        _app, window, _status = started
        qtbot.addWidget(window)
        qtbot.wait(50)
        assert window.isVisible() and not resources.demo_dataset_ready()
        assert "Preparing the demo data" in window.status_bar.currentMessage()
        note = window.findChild(QLabel, "busy_note")
        assert note is not None and note.isVisible() and "first start" in note.text()
        opened_models: list = []  # loading the demo model is the worker's business, not this test's
        monkeypatch.setattr(window, "open_models", opened_models.append)
        gate.set()
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=60000)
        assert resources.demo_dataset_ready() and len(window.dataset.stems) == 5
        assert opened_models == [[resources.DEMO_MODEL]]
        assert window.findChild(QLabel, "busy_note") is None or not note.isVisible()
    finally:
        gate.set()
        settings.use_ini_file(None)
