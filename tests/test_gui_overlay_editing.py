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
