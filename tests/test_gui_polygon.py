"""The polygon tool on the real window with real mouse events: click vertices, close, cancel; drags stay the
lasso (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt

from app import settings
from app.document import LabelDocument
from app.tools import Mode
from fcn_core.demo_data import make_demo_dataset
from tests import gui_helpers as gh

SQUARE = [(10, 10), (60, 10), (60, 50), (10, 50)]
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "ds", count=2, size=(96, 72))


@pytest.fixture
def window(qtbot, demo_root, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(demo_root, tmp_path / "ds")
    w = gh.open_editing_window(qtbot, tmp_path, monkeypatch, tmp_path / "ds")
    w.editing.set_mode(Mode.POLYGON)
    w.editing.label = 5
    yield w
    settings.use_ini_file(None)


def _key(qtbot, w, key):
    qtbot.keyClick(w, key)


def _double_click(panel, x, y):
    vp, pos = panel.graphics_view.viewport(), gh.image_to_widget(panel, x, y)
    for kind, buttons in ((QEvent.Type.MouseButtonPress, LEFT), (QEvent.Type.MouseButtonRelease, NONE),
                          (QEvent.Type.MouseButtonDblClick, LEFT), (QEvent.Type.MouseButtonRelease, NONE)):
        gh._send(vp, kind, pos, LEFT, buttons)


def _expected(before, points, label=5):
    """What the document's polygon rasterisation (the lasso's) gives for ``points``."""
    doc = LabelDocument(before.copy())
    doc.polygon(points, label)
    return doc.labels


def _place(window, points):
    for p in points:
        gh.click(window.panels["gt"], *p)
    return list(window.editing.polygon.polygon.points)


def test_click_vertices_then_enter_fills_one_undo_step(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = doc.labels.copy()
    placed = _place(window, SQUARE)
    assert len(placed) == 4 and placed[1] == pytest.approx(SQUARE[1], abs=0.5)
    assert (doc.labels == before).all() and not doc.can_undo  # clicks only place vertices
    overlay = ed.polygon.overlay
    assert overlay.visible and all(item.isVisible() for item in overlay.items[1])  # the overlay panel too
    gh.mouse_move(window.panels["gt"], 30, 60)  # the rubber band follows the mouse
    band = overlay.items[0][2].path().boundingRect()
    assert band.bottom() == pytest.approx(60.5, abs=0.5) and band.left() == pytest.approx(10.5, abs=0.5)
    _key(qtbot, window, Qt.Key.Key_Return)
    assert (doc.labels == _expected(before, placed)).all()
    assert (doc.labels[12:48, 12:58] == 5).all() and (doc.labels[:8] == before[:8]).all()
    assert not overlay.visible and not ed.polygon.in_progress
    assert (window.panels["gt"].image_item.image[30, 30, :3] == window.palette[5]).all()  # repainted
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (doc.labels == before).all() and not doc.can_undo  # one undo step


def test_double_click_closes(qtbot, window):
    doc = window.editing.document
    before = doc.labels.copy()
    _place(window, SQUARE[:3])
    _double_click(window.panels["gt"], *SQUARE[3])  # its first click places the last vertex
    assert not window.editing.polygon.in_progress
    assert (doc.labels[12:48, 12:58] == 5).all() and (doc.labels[52:] == before[52:]).all()


def test_click_on_first_vertex_closes(qtbot, window):
    doc = window.editing.document
    placed = _place(window, SQUARE)
    before = doc.labels.copy()
    gh.click(window.panels["gt"], SQUARE[0][0] + 0.5, SQUARE[0][1])  # ~2 screen px from the first vertex
    assert not window.editing.polygon.in_progress
    assert (doc.labels != before).any() and (doc.labels == _expected(before, placed)).all()


def test_esc_cancels_and_backspace_removes_a_vertex(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = doc.labels.copy()
    placed = _place(window, SQUARE)
    _key(qtbot, window, Qt.Key.Key_Backspace)
    assert ed.polygon.polygon.points == placed[:3] and ed.polygon.overlay.visible
    _key(qtbot, window, Qt.Key.Key_Escape)
    assert not ed.polygon.in_progress and not ed.polygon.overlay.visible
    _key(qtbot, window, Qt.Key.Key_Return)  # nothing left to close
    assert (doc.labels == before).all() and not doc.can_undo
    _place(window, SQUARE)
    _key(qtbot, window, Qt.Key.Key_Backspace)
    _key(qtbot, window, Qt.Key.Key_Return)  # the triangle that is left
    assert (doc.labels == _expected(before, placed[:3])).all()
    assert doc.labels[45, 15] == before[45, 15] and doc.labels[15, 55] == 5


def test_fewer_than_three_vertices_do_not_close(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = doc.labels.copy()
    _place(window, SQUARE[:2])
    _key(qtbot, window, Qt.Key.Key_Return)
    assert "at least 3" in window.status_bar.currentMessage()
    assert len(ed.polygon.polygon) == 2 and (doc.labels == before).all()


def test_lasso_drag_still_fills_and_keeps_no_vertices(qtbot, window):
    doc = window.editing.document
    before = doc.labels.copy()
    gh.drag(window.panels["gt"], SQUARE)
    assert not window.editing.polygon.in_progress
    assert (doc.labels[12:48, 12:58] == 5).all() and (doc.labels[:8] == before[:8]).all()
    assert doc.undo() is not None and not doc.can_undo


def test_shaky_drag_while_placing_vertices_is_a_click(qtbot, window):
    doc = window.editing.document
    before = doc.labels.copy()
    _place(window, SQUARE[:2])
    gh.drag(window.panels["gt"], [(60, 45), (60, 50)])  # 5 image px: a lasso when nothing is in progress
    assert len(window.editing.polygon.polygon) == 3 and (doc.labels == before).all()


def test_tool_image_change_and_undo_discard_the_polygon(qtbot, window):
    ed = window.editing
    _place(window, SQUARE[:2])
    ed.set_mode(Mode.BRUSH)
    assert not ed.polygon.in_progress and not ed.polygon.overlay.visible
    ed.set_mode(Mode.POLYGON)
    before = ed.document.labels.copy()
    _place(window, SQUARE)
    _key(qtbot, window, Qt.Key.Key_Return)
    _place(window, SQUARE[:3])
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undoes the fill, drops these
    assert not ed.polygon.in_progress and not ed.polygon.overlay.visible
    assert (ed.document.labels == before).all()
    _place(window, SQUARE[:3])
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # redo
    assert not ed.polygon.in_progress and ed.document.labels[30, 30] == 5
    _place(window, SQUARE[:3])
    other = [s for s in window.dataset.stems if s != ed.stem][0]
    window.show_stem(other)
    qtbot.waitUntil(lambda: ed.stem == other, timeout=20000)
    assert not ed.polygon.in_progress and not ed.polygon.overlay.visible
    _place(window, SQUARE[:3])
    window.close()  # no crash with a polygon in progress
    assert not ed.polygon.in_progress


def test_tip_and_shortcut_sheet_describe_clicks_and_drag(qtbot, window):
    from app.editing.shortcuts import sheet_html

    tip = window.editing.tool_actions[Mode.POLYGON].toolTip()
    assert "Click the vertices" in tip and "drag around" in tip and "(P)" in tip
    html = sheet_html()
    for key in ("Enter, double-click", "Backspace", "Esc"):
        assert f"<b>{key}</b>" in html
    assert not window.editing.polygon.actions["cancel"].isEnabled()  # Esc is free while nothing is placed
    _place(window, SQUARE[:1])
    assert window.editing.polygon.actions["cancel"].isEnabled()
