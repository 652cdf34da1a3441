"""The photo and its labels are on screen before the prediction; the title names the model; a crash in
background work is logged with its traceback to the user data folder, not printed, and the window says what
happened."""

from __future__ import annotations

import threading

import numpy as np

from app import error_log, settings
from tests.gui_helpers import make_tiny_dataset, make_tiny_model, open_test_window

TIMEOUT = 60_000


def test_photo_first_then_prediction_and_the_title_names_the_model(qtbot, tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=3)
    names = (ds / "class_names.txt").read_text().split()
    model = make_tiny_model(tmp_path / "tiny-model.safetensors", names)
    w = open_test_window(qtbot, tmp_path, split="all")
    try:
        with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
            w.open_models([model])
            w.open_dataset(ds)
        assert "tiny-model.safetensors" in w.windowTitle() and w.current_stem in w.windowTitle()
        gate = threading.Event()
        predict = w.model_set.predict
        w.model_set.predict = lambda image, **kw: (gate.wait(30), predict(image, **kw))[1]
        other = next(s for s in w.dataset.stems if s != w.current_stem)
        w.cache.clear()
        w.client.forget(other)  # not prefetched: it must be predicted now
        with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
            w.show_stem(other)  # the worker is held inside predict: only the photo can have arrived
        assert w.current_stem == other and w.current_results is None and w.current_image is not None
        assert w.panels["image"].image_item.image is not None and "computing" in w.panels["pred"].title.text()
        gate.set()
        qtbot.waitUntil(lambda: w.current_results is not None, timeout=TIMEOUT)
    finally:
        gate_ = locals().get("gate")
        if gate_ is not None:
            gate_.set()
        settings.use_ini_file(None)


def test_background_crash_is_logged_not_printed(qtbot, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("FCN_STUDIO_DATA_DIR", str(tmp_path / "user"))
    ds = make_tiny_dataset(tmp_path / "ds", count=2)
    names = (ds / "class_names.txt").read_text().split()
    model = make_tiny_model(tmp_path / "m.safetensors", names)
    w = open_test_window(qtbot, tmp_path, split="all")
    try:
        with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
            w.open_models([model])
            w.open_dataset(ds)

        def broken(image, **kw):
            raise ZeroDivisionError("a bug deep in the model code")

        w.model_set.predict = broken
        w.cache.clear()
        other = next(s for s in w.dataset.stems if s != w.current_stem)
        w.client.forget(other)
        with qtbot.waitSignal(w.error_reported, timeout=TIMEOUT) as reported:
            w.show_stem(other)
        assert "ZeroDivisionError: a bug deep in the model code" in reported.args[0]
        log = error_log.log_path()
        assert log.parent == tmp_path / "user" / "logs"
        text = log.read_text()
        assert "Traceback" in text and "a bug deep in the model code" in text and other in text
        assert "Traceback" not in capfd.readouterr().err
        assert np.isfinite(len(text))
    finally:
        settings.use_ini_file(None)
