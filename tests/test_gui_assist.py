"""The assisted tools as editing modes on the real window, driven by real mouse events: gesture → pixels →
undo → redo for GrabCut (box), intelligent scissors (clicks + Enter / double-click), the superpixel brush,
cut hole (lasso) and fill holes (click); Segment Anything disabled with a tooltip saying what it needs; undo
kept per image across image switches within a memory budget (offscreen)."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt

from app import settings
from app.editing.history_store import document_nbytes, undo_steps
from app.editing.shortcuts import sheet_html
from app.tools import Mode
from fcn_core.demo_data import make_demo_dataset
from tests import gui_helpers as gh

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
WAIT = 30000


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("assist") / "ds", count=3, size=(96, 72))


@pytest.fixture
def window(qtbot, demo_root, tmp_path, monkeypatch):
    shutil.copytree(demo_root, tmp_path / "ds")
    w = gh.open_editing_window(qtbot, tmp_path, monkeypatch, tmp_path / "ds")
    yield w
    settings.use_ini_file(None)


def _undo_redo(w, before, after):
    """Exactly one undo step between ``before`` and ``after``."""
    doc = w.editing.document
    w.editing.undo()
    assert (doc.labels == before).all() and not doc.can_undo
    w.editing.redo()
    assert (doc.labels == after).all()


def _object(doc):
    """The largest non-background class of the labels and its pixels."""
    lab = doc.labels
    classes, counts = np.unique(lab[(lab != 0) & (lab != 255)], return_counts=True)
    c = int(classes[np.argmax(counts)])
    return c, lab == c


def test_tools_are_in_the_tool_bar_and_on_the_shortcut_sheet(window):
    button = window.editing.assist_button  # one drop-down on the editing tool bar
    assert window.edit_tool_bar.widgetForAction(window.editing.tool_actions[Mode.GRABCUT]) is button
    for mode in (Mode.GRABCUT, Mode.SCISSORS, Mode.SUPERPIXEL, Mode.SUBTRACT, Mode.FILL_HOLES, Mode.SAM):
        action = window.editing.tool_actions[mode]
        assert action in button.menu().actions() and len(action.iconText()) <= 12
        assert action.text().replace("&", "") in sheet_html()
        if action.isEnabled():
            window.editing.set_mode(mode)  # the button shows the tool in use
            assert button.defaultAction() is action and button.text() == action.iconText()


def test_grabcut_box_refits_the_class_inside_the_box_only(qtbot, window):
    ed = window.editing
    doc = ed.document
    h, w = doc.shape
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - 48) ** 2 + (yy - 36) ** 2 <= 18**2
    photo = np.empty((h, w, 3), np.uint8)
    photo[:] = (60, 120, 60)  # a clean photo: a red disc on green (what the tools read)
    photo[disc] = (200, 40, 40)
    window.workspace.shown = dataclasses.replace(window.workspace.shown, image=photo)
    lab = np.zeros((h, w), np.uint8)
    lab[disc & (xx < 48)] = 1  # the label has lost the disc's right half
    doc.replace_all(lab)
    doc._undo.clear()  # noqa: SLF001 - start the gesture from an empty history
    before = doc.labels.copy()
    ed.set_mode(Mode.GRABCUT)
    ed.label = 1
    gh.drag(window.panels["gt"], [(27, 15), (69, 57)])  # a box around the disc
    qtbot.waitUntil(lambda: ed.assist.pending == 0 and doc.can_undo, timeout=WAIT)
    after = doc.labels.copy()
    outside = np.ones(doc.shape, bool)
    outside[15:58, 27:70] = False
    assert (after[outside] == before[outside]).all()  # nothing outside the box changes
    assert (after[disc] == 1).mean() > 0.9  # the lost half is back
    assert (after[~disc] == 1).sum() < 0.1 * disc.sum()
    _undo_redo(window, before, after)


def _undo_redo_last(w, before, after):
    doc = w.editing.document
    w.editing.undo()
    assert (doc.labels == before).all()
    w.editing.redo()
    assert (doc.labels == after).all()


def _square_doc(w, value=5, hole=False):
    doc = w.editing.document
    lab = np.zeros(doc.shape, np.uint8)
    lab[10:50, 20:70] = value
    if hole:
        lab[25:35, 40:50] = 0
    doc.replace_all(lab)
    doc._undo.clear()  # noqa: SLF001 - start the gesture from an empty history
    return lab


def _traced(w, labels, cls, anchors=((20, 10), (69, 10), (69, 49), (20, 49))):
    """What the Qt-free trace fills for the same anchors (the path follows the photo's edges)."""
    from app.tools.scissors import ScissorsTrace

    trace = ScissorsTrace(w.current_image)
    for x, y in anchors:
        trace.click(x, y)
    out = labels.copy()
    trace.fill(labels, cls).apply_to(out)
    return out


def test_scissors_clicks_then_enter_fill_one_undo_step(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = _square_doc(window)
    ed.set_mode(Mode.SCISSORS)
    ed.label = 3
    panel = window.panels["gt"]
    for x, y in ((20, 10), (69, 10), (69, 49), (20, 49)):  # the square's corners
        gh.click(panel, x, y)
    assert len(ed.assist.scissors.trace.anchors) == 4 and (doc.labels == before).all()
    assert ed.polygon.actions["close"].isEnabled()  # Enter closes the outline in progress
    gh.mouse_move(panel, 30, 30)
    assert ed.assist.scissors.overlay.visible
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    assert len(ed.assist.scissors.trace.anchors) == 3
    gh.click(panel, 20, 49)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    after = doc.labels.copy()
    assert (after == _traced(window, before, 3)).all() and not ed.assist.scissors.in_progress
    assert (after == 3).sum() > 500  # the outline encloses a real area
    _undo_redo(window, before, after)


def test_scissors_double_click_closes(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = _square_doc(window)
    ed.set_mode(Mode.SCISSORS)
    ed.label = 4
    panel = window.panels["gt"]
    for x, y in ((20, 10), (69, 10), (69, 49)):
        gh.click(panel, x, y)
    vp, pos = panel.graphics_view.viewport(), gh.image_to_widget(panel, 20, 49)
    for kind, buttons in ((QEvent.Type.MouseButtonPress, LEFT), (QEvent.Type.MouseButtonRelease, NONE),
                          (QEvent.Type.MouseButtonDblClick, LEFT), (QEvent.Type.MouseButtonRelease, NONE)):
        gh._send(vp, kind, pos, LEFT, buttons)
    expected = _traced(window, before, 4, ((20, 10), (69, 10), (69, 49), (20, 49)))
    assert (doc.labels == expected).all() and undo_steps(doc) == 1


def test_superpixel_brush_paints_whole_superpixels(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = doc.labels.copy()
    ed.set_mode(Mode.SUPERPIXEL)
    qtbot.waitUntil(lambda: ed.assist.superpixels is not None, timeout=WAIT)
    assert all(item.isVisible() for item in ed.assist.outlines)  # the outlines show while it is the tool
    ed.label = 9
    ed.set_brush_size(3)
    gh.drag(window.panels["gt"], [(20, 30), (50, 30)])
    after = doc.labels.copy()
    sp = ed.assist.superpixels
    touched = sp.select([(20, 30), (50, 30)], 3)
    whole = np.isin(sp.segments, touched)
    assert 0 < whole.mean() < 0.5
    assert (after[whole] == 9).all()  # every touched superpixel, whole
    assert (after[~whole] == before[~whole]).all()  # nothing else
    assert undo_steps(doc) == 1
    _undo_redo(window, before, after)
    ed.set_mode(Mode.BRUSH)
    assert not any(item.isVisible() for item in ed.assist.outlines)


def test_cut_hole_lasso_voids_the_selected_class_inside(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = _square_doc(window)
    before[0:5, 0:5] = 7
    doc.replace_all(before)
    doc._undo.clear()  # noqa: SLF001
    ed.set_mode(Mode.SUBTRACT)
    ed.label = 5
    gh.drag(window.panels["gt"], [(30, 20), (60, 20), (60, 40), (30, 40), (30, 20)])
    after = doc.labels.copy()
    assert (after[22:38, 32:58] == 255).all()  # a hole inside the square
    assert (after[12, :] == before[12, :]).all() and (after[:5, :5] == 7).all()
    assert undo_steps(doc) == 1
    _undo_redo(window, before, after)


def test_fill_holes_click(qtbot, window):
    ed, doc = window.editing, window.editing.document
    before = _square_doc(window, hole=True)
    ed.set_mode(Mode.FILL_HOLES)
    gh.click(window.panels["gt"], 22, 12)  # on the square (class 5)
    after = doc.labels.copy()
    assert (after[25:35, 40:50] == 5).all() and (after[60:, :] == 0).all()
    _undo_redo(window, before, after)
    ed.undo()
    gh.click(window.panels["gt"], 44, 30)  # in the hole: it encloses nothing
    assert (doc.labels == before).all()


def test_segment_anything_disabled_with_what_it_needs(window, tmp_path):
    if importlib.util.find_spec("segment_anything") is not None:
        pytest.skip("segment-anything is installed here")
    action = window.editing.tool_actions[Mode.SAM]
    menu = window.editing.assist_button.menu()
    assert action in menu.actions() and not action.isEnabled() and menu.toolTipsVisible()
    assert "segment-anything" in action.toolTip() and "checkpoint" in action.toolTip()
    ckpt = tmp_path / "sam_vit_b.pth"
    ckpt.write_bytes(b"x")
    settings.set_sam_checkpoint(str(ckpt))
    window.editing.assist.refresh_sam()
    assert not action.isEnabled() and "segment-anything" in action.toolTip()
    assert "checkpoint" not in action.toolTip().replace("SAM checkpoint", "")


def _paint(w, y):
    ed = w.editing
    ed.set_mode(Mode.BRUSH)
    ed.label = 6
    gh.drag(w.panels["gt"], [(10, y), (40, y)])


def _go(qtbot, w, stem):
    w.show_stem(stem)
    qtbot.waitUntil(lambda: w.editing.stem == stem and w.editing.document is not None, timeout=WAIT)


def test_undo_survives_switching_images(qtbot, window):
    w = window
    stems = w.dataset.stems
    first = w.editing.stem
    original = w.editing.document.labels.copy()
    _paint(w, 20)
    _paint(w, 30)
    other = next(s for s in stems if s != first)
    _go(qtbot, w, other)
    assert "1 other image keep" in w.editing.undo_action.toolTip()
    assert f"{first}: 2" in w.editing.histories.info_action.text()
    _go(qtbot, w, first)
    doc = w.editing.document
    assert undo_steps(doc) == 2 and w.editing.undo_action.isEnabled()
    w.editing.undo()
    w.editing.undo()
    assert (doc.labels == original).all()


def test_tiny_undo_budget_drops_the_oldest_image(qtbot, window):
    w = window
    a, b, c = w.dataset.stems[:3]
    _go(qtbot, w, a)
    _paint(w, 20)
    one = document_nbytes(w.editing.document)
    w.editing.histories.store.set_budget(one + one // 2)  # room for one image
    _go(qtbot, w, b)
    _paint(w, 20)
    _go(qtbot, w, c)
    assert list(w.editing.histories.store.steps()) == [f"{w.dataset.root}\n{b}"]  # a dropped, b kept
    _go(qtbot, w, a)
    assert not w.editing.document.can_undo  # its history was dropped (its edit is saved)
    _go(qtbot, w, b)
    assert undo_steps(w.editing.document) == 1


def test_undo_budget_setting(window):
    window.editing.histories.set_budget_mb(3)
    assert settings.undo_budget_mb() == 3 and window.editing.histories.store.budget_bytes == 3 << 20
