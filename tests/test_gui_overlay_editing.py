"""Painting on the Overlay panel shows the labels being painted there (not the prediction)."""

from __future__ import annotations

import numpy as np

from app import settings
from app.editing.saving import Saver
from app.tools import Mode
from fcn_core.predictor import StrideResult
from tests import gui_helpers as gh


def test_overlay_shows_the_label_being_painted(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    root = gh.make_tiny_dataset(tmp_path / "ds", count=2, size=(64, 48))
    w = gh.open_test_window(qtbot, tmp_path, size=(1100, 760))
    try:
        w.open_dataset(root)
        qtbot.waitUntil(lambda: w.editing.document is not None, timeout=30000)
        grid, overlay = w.grid, w.panels["overlay"]
        # a prediction of class 2 everywhere is what the overlay shows while navigating
        shape = w.current_image.shape[:2]
        ones = np.ones(shape, np.float32)
        pred = StrideResult(np.full(shape, 2, np.uint8), ones, ones)
        grid.set_prediction(pred)
        assert (overlay.layer_item.image[10, 10, :3] == w.palette[2]).all()
        ed = w.editing
        ed.set_mode(Mode.BRUSH)
        ed.label = 5
        ed.set_brush_size(5)
        assert not (overlay.layer_item.image[20, 12:50, :3] == w.palette[5]).all()
        gh.drag(overlay, [(10, 20), (50, 20)])  # real mouse events on the overlay panel
        assert (ed.document.labels[20, 12:49] == 5).all()
        layer = overlay.layer_item.image
        assert (layer[20, 12:49, :3] == w.palette[5]).all(), "the overlay does not show the painted class"
        assert (layer[20, 12:49, 3] == 255).all()
        assert "labels" in overlay.title.text()  # and the panel says what it shows
        # undo repaints the overlay too; Navigate shows the prediction again
        ed.undo()
        assert not (overlay.layer_item.image[20, 12:49, :3] == w.palette[5]).all()
        ed.set_mode(Mode.PAN)
        assert (overlay.layer_item.image[20, 30, :3] == w.palette[2]).all()
        assert "prediction" in overlay.title.text()
    finally:
        w.editing.document.mark_saved()
        settings.use_ini_file(None)


def test_brush_moves_repaint_only_their_rectangle_of_the_overlay(qtbot, tmp_path, monkeypatch):
    """Every brush move re-rendered the whole overlay layer (pyqtgraph held its own copy of it): ~10 ms per
    move on 2048² instead of ~1 ms (bench/gui_edit.py). Moves must only copy their rectangle."""
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    root = gh.make_tiny_dataset(tmp_path / "ds", count=2, size=(64, 48))
    w = gh.open_test_window(qtbot, tmp_path, size=(1100, 760))
    try:
        w.open_dataset(root)
        qtbot.waitUntil(lambda: w.editing.document is not None, timeout=30000)
        ed, overlay = w.editing, w.panels["overlay"]
        ed.set_mode(Mode.BRUSH)
        ed.label = 5
        ed.set_brush_size(5)
        gh.drag(w.panels["gt"], [(5, 5), (8, 5)])  # the first stroke may set the layer up
        qtbot.wait(50)
        layer = overlay.layer_item
        full = []
        monkeypatch.setattr(layer, "setImage", lambda *a, **k: full.append("setImage"))
        monkeypatch.setattr(layer, "updateImage", lambda *a, **k: full.append("updateImage"))
        vp = w.panels["gt"].graphics_view.viewport()
        gh._send(vp, gh.QEvent.Type.MouseButtonPress, gh.image_to_widget(w.panels["gt"], 10, 30),
                 gh.Qt.MouseButton.LeftButton, gh.Qt.MouseButton.LeftButton)
        for x in range(12, 50, 4):  # moves of a stroke (the release repaints the stroke's rectangle once)
            gh._send(vp, gh.QEvent.Type.MouseMove, gh.image_to_widget(w.panels["gt"], x, 30),
                     gh.Qt.MouseButton.NoButton, gh.Qt.MouseButton.LeftButton)
        assert full == []
        assert (layer.image[30, 14:48, :3] == w.palette[5]).all()  # and the overlay shows the stroke
        gh._send(vp, gh.QEvent.Type.MouseButtonRelease, gh.image_to_widget(w.panels["gt"], 48, 30),
                 gh.Qt.MouseButton.LeftButton, gh.Qt.MouseButton.NoButton)
    finally:
        w.editing.document.mark_saved()
        settings.use_ini_file(None)
