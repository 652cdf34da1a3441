"""Panels keep the image fitted through layout changes, compare mode is marked, the error map's title
and placement, and the evaluation dock leaves the panels their room in small windows (offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app import settings
from app.main_window import MainWindow
from app.tools import Mode
from app.views.bottom_dock import PANEL_SHARE
from app.views.panels import PanelGrid
from fcn_core.data.palette import VOC_CLASSES, voc_palette
from fcn_core.demo_data import make_demo_dataset
from tests import gui_helpers as gh

FOUR = ("image", "gt", "pred", "overlay")
WAIT = 15_000  # ms; the machine may be busy


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "ds", count=2, size=(160, 120))


@pytest.fixture
def window(qtbot, demo_root, tmp_path, monkeypatch):
    w = gh.open_editing_window(qtbot, tmp_path, monkeypatch, demo_root, size=(1280, 800), device="cpu")
    yield w
    settings.use_ini_file(None)


def _image_size(window) -> tuple[int, int]:
    h, w = window.current_image.shape[:2]
    return w, h


def _fitted(panel, w: int, h: int, tol: float = 1.5, *, tight: bool = True) -> bool:
    """The whole image is in view, centred, and (``tight``) touches the view's edges in one direction."""
    r = panel.view_box.viewRect()
    inside = r.left() <= tol and r.top() <= tol and r.right() >= w - tol and r.bottom() >= h - tol
    centred = abs(r.center().x() - w / 2) < tol and abs(r.center().y() - h / 2) < tol
    touches = abs(r.width() - w) < 2 * tol or abs(r.height() - h) < 2 * tol
    return inside and centred and (touches or not tight)


def _all_fitted(window, w: int, h: int, keys=("image", "gt", "pred", "overlay")) -> bool:
    """Every panel shows the whole image centred at one zoom, the largest at which it fits in all of them
    (the narrowest panel touches its edges; columns can differ by a few pixels)."""
    return (all(_fitted(window.panels[k], w, h, tight=False) for k in keys)
            and any(_fitted(window.panels[k], w, h) for k in keys))


def _scale(panel) -> float:
    """Image pixels per screen pixel."""
    return panel.view_box.viewRect().width() / panel.view_box.width()


def _wheel(panel, steps: int = 3) -> None:
    """Real wheel events over the middle of the panel (zoom in)."""
    vp = panel.graphics_view.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    for _ in range(steps):
        event = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(vp, event)


def test_panels_refit_after_dock_and_extra_panels_change(qtbot, window):
    """The reviewer's sequence: evaluation dock open with both maps, then dock closed and maps off — every
    panel shows the whole image again (it used to stay a speck until Shift+F)."""
    w, h = _image_size(window)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    window.docks["evaluation"].show()
    window.actions.show_error.setChecked(True)
    window.actions.show_confidence.setChecked(True)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    window.docks["evaluation"].hide()
    window.actions.show_error.setChecked(False)
    window.actions.show_confidence.setChecked(False)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    window.resize(900, 600)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    # the same zoom everywhere (linked), and the image fills a good part of each panel
    scales = [_scale(window.panels[k]) for k in FOUR]
    assert max(scales) / min(scales) < 1.02
    vb = window.panels["image"].view_box
    assert w / scales[0] > 0.8 * vb.width() or h / scales[0] > 0.8 * vb.height()


def test_user_zoom_is_kept_through_resizes_and_linked(qtbot, window):
    w, h = _image_size(window)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    gt = window.panels["gt"]
    before = _scale(gt)
    _wheel(gt)
    qtbot.waitUntil(lambda: _scale(gt) < 0.9 * before)
    zoom, centre = _scale(gt), gt.view_box.viewRect().center()
    for key in FOUR:  # linked: the other panels followed
        assert _scale(window.panels[key]) == pytest.approx(zoom, rel=0.02), key
        c = window.panels[key].view_box.viewRect().center()
        assert (c.x(), c.y()) == pytest.approx((centre.x(), centre.y()), abs=1.0), key
    window.actions.show_error.setChecked(True)  # the panels get narrower: the user's zoom stays
    qtbot.waitUntil(lambda: window.panels["error"].view_box.width() > 10)
    qtbot.waitUntil(lambda: _scale(window.panels["error"]) == pytest.approx(zoom, rel=0.02))
    for key in (*FOUR, "error"):
        assert _scale(window.panels[key]) == pytest.approx(zoom, rel=0.02), key
        assert not _fitted(window.panels[key], w, h, tight=False), key
    window.actions.reset_view.trigger()  # Fit image: fitted again, and stays so through the next change
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    window.actions.show_error.setChecked(False)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)


def test_error_panel_spanning_two_rows_is_centred(qtbot, window):
    w, h = _image_size(window)
    window.actions.show_error.setChecked(True)
    error = window.panels["error"]
    qtbot.waitUntil(lambda: error.view_box.height() > window.panels["image"].view_box.height() * 1.5)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    qtbot.waitUntil(lambda: abs(error.view_box.viewRect().center().y() - h / 2) < 1.0)  # not at the top
    r = error.view_box.viewRect()
    assert r.top() < -h / 4 and r.bottom() > h + h / 4
    assert _scale(error) == pytest.approx(_scale(window.panels["image"]), rel=0.02)


@pytest.fixture
def every_mouse_move():
    """pyqtgraph drops moves closer than 10 ms apart; synthetic drags need them all to pan."""
    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=0)
    yield
    pg.setConfigOptions(mouseRateLimit=old)


def test_compare_mode_is_marked_and_refuses_paint(qtbot, window, every_mouse_move):
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    gt = window.panels["gt"]
    assert gt.title.text() == "Ground truth"
    ed.compare_action.trigger()
    assert gt.title.text().startswith("Original ground truth (read-only")
    assert "O to edit" in gt.title.text()
    labels_before = ed.document.labels.copy()
    view_before = gt.view_box.viewRect()
    window.status_bar.clearMessage()
    gh.drag(gt, [(20, 20), (60, 50), (100, 80)])
    assert "read-only" in window.status_bar.currentMessage()
    assert "press O" in window.status_bar.currentMessage()
    assert gt.view_box.viewRect() == view_before  # a paint gesture does not pan the view
    assert np.array_equal(ed.document.labels, labels_before)
    ed.set_mode(Mode.PAN)  # the Navigate tool pans as always, without the message
    window.status_bar.clearMessage()
    gh.drag(gt, [(20, 20), (60, 50)])
    assert gt.view_box.viewRect() != view_before
    assert "read-only" not in window.status_bar.currentMessage()
    ed.compare_action.trigger()
    assert gt.title.text() == "Ground truth"
    ed.set_mode(Mode.BRUSH)
    gh.drag(gt, [(20, 20), (60, 50)])  # editing again
    assert not np.array_equal(ed.document.labels, labels_before)


def test_error_title_names_only_classes_drawn_white(qtbot):
    grid = PanelGrid()
    qtbot.addWidget(grid)
    grid.set_extra_panels(error=True, confidence=False)
    grid.set_palette(voc_palette(), list(VOC_CLASSES))  # VOC: background is black, drawn white
    assert grid.panels["error"].title.text() == "Errors (true class; background in white)"
    palette = np.zeros((256, 3), np.uint8)
    palette[:3] = [(128, 128, 128), (128, 0, 0), (192, 192, 128)]  # CamVid-like: no dark class
    grid.set_palette(palette, ["Sky", "Building", "Pole"])
    assert grid.panels["error"].title.text() == "Errors (true class)"
    assert "background" not in grid.panels["error"].title.text()


@pytest.mark.parametrize("size", [(1024, 640), (900, 600)])
def test_evaluation_dock_leaves_the_panels_their_height(qtbot, window, size):
    window.resize(*size)
    window.docks["evaluation"].show()
    dock = window.docks["evaluation"]

    def laid_out() -> bool:  # the dock has its place under the panels, the panels their share
        grid, top = window.grid, dock.mapTo(window, QPoint(0, 0)).y()
        return (dock.isVisible() and dock.height() >= 120  # still usable: it scrolls
                and top >= grid.mapTo(window, QPoint(0, grid.height())).y()
                and grid.height() >= PANEL_SHARE * window.height())

    qtbot.waitUntil(laid_out, timeout=WAIT)
    assert dock.windowTitle().startswith("Evaluation")
    w, h = _image_size(window)
    qtbot.waitUntil(lambda: _all_fitted(window, w, h), timeout=WAIT)
    dock.setWindowTitle("Evaluation")
    window.evaluation.show_split("all", 2, window.dataset)  # the panel still titles its dock
    assert dock.windowTitle().startswith("Evaluation — ")
    window.resize(1600, 1000)  # a tall window: the dock gets its natural height back (no scrolling)
    qtbot.waitUntil(lambda: dock.height() >= window.panel_room.natural_height() - 2, timeout=WAIT)
    assert window.grid.height() >= PANEL_SHARE * window.height()


def test_nothing_essential_unreachable_at_1024x640(qtbot, window):
    """The view controls and the class selector stay on screen; tool-bar buttons that overflow behind »
    are also in a menu."""
    window.resize(1024, 640)
    window.docks["evaluation"].show()
    qtbot.waitUntil(lambda: window.grid.height() >= PANEL_SHARE * window.height(), timeout=WAIT)
    assert window.controls.isVisible()  # stride, overlay opacity, error and confidence modes
    assert window.editing.class_selector.isVisible() and window.editing.size_box.isVisible()
    in_menus = {a for menu in window.menus.values() for a in menu.actions()}
    for bar in (window.tool_bar, window.edit_tool_bar):
        for action in bar.actions():
            button = bar.widgetForAction(action)  # a tool button; None for separators
            if button is None or button.isVisible() or button in (window.controls,):
                continue
            assert action in in_menus, f"{action.text()!r} only behind the tool bar's »"


@pytest.mark.parametrize(("size", "browser"), [((900, 600), None), ((1024, 640), 314), ((1400, 900), 400)])
def test_side_docks_leave_the_panels_room_on_small_windows(qtbot, tmp_path, size, browser):
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    try:
        w = MainWindow(device="cpu")
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        if browser is not None:
            qtbot.waitUntil(lambda: abs(w.docks["browser"].width() - browser) <= 12, timeout=5000)
        assert w.grid.width() >= 0.5 * size[0]  # was about 0.28 at 900 px (docks at 400 + 230 px)
        if size[0] >= 1024:  # each of the four panels keeps a usable width (was ~220 px at 1024x640)
            qtbot.waitUntil(lambda: min(w.panels[k].width() for k in FOUR) >= 250, timeout=5000)
        mode = w.browser.table.textElideMode()
        assert mode == Qt.TextElideMode.ElideMiddle  # names keep their distinguishing end
    finally:
        settings.use_ini_file(None)


def test_evaluation_dock_is_shown_by_default(qtbot, tmp_path):
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    try:
        w = MainWindow(device="cpu")
        qtbot.addWidget(w)
        w.resize(1024, 640)
        w.show()
        qtbot.waitExposed(w)
        dock = w.docks["evaluation"]
        assert dock.isVisible() and dock.toggleViewAction().isChecked()
        assert w.evaluation.run_button.isVisible()  # the way to score the dataset is in sight
        qtbot.waitUntil(lambda: w.grid.height() >= PANEL_SHARE * w.height(), timeout=WAIT)
    finally:
        settings.use_ini_file(None)
