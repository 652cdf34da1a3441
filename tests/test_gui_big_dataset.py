"""A very large dataset shows its first photo before the browser's table is built (100,000 rows take about
a second on the GUI thread); the table then fills, keeps the image on screen selected, and the class scan
runs."""

from __future__ import annotations

from app import settings, window_opening
from tests.gui_helpers import make_tiny_dataset, open_test_window

TIMEOUT = 60_000


def test_big_dataset_photo_first_then_the_table(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(window_opening, "BIG_DATASET", 3)  # this 6-image dataset counts as big
    ds = make_tiny_dataset(tmp_path / "ds", count=6)
    w = open_test_window(qtbot, tmp_path, split="all")
    rows_when_shown = []
    w.current_image_changed.connect(lambda _s: rows_when_shown.append(w.browser.model.rowCount()))
    try:
        with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
            w.open_dataset(ds)
        assert rows_when_shown == [0] and w.current_stem == w.dataset.stems[0]  # the photo came first
        qtbot.waitUntil(lambda: w.browser.model.rowCount() == 6, timeout=TIMEOUT)
        assert w.browser.current_stem() == w.current_stem
        qtbot.waitUntil(lambda: all(r.classes is not None for r in w.browser.model.rows), timeout=TIMEOUT)
        w.browser.step(1)  # and the table drives the window as usual
        qtbot.waitUntil(lambda: w.current_stem == w.dataset.stems[1], timeout=TIMEOUT)
    finally:
        settings.use_ini_file(None)
