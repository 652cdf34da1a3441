"""Every tool through the dispatch table, on a LabelDocument without a window."""

from __future__ import annotations

import numpy as np

from app.document import VOID, LabelDocument
from app.tools import (
    BRUSH_MODES,
    CLICK_ONLY_MODES,
    DRAG_HANDLERS,
    Mode,
    ToolContext,
    error_region,
    start_drag,
)


def _drag(mode: Mode, ctx: ToolContext, points) -> None:
    drag = start_drag(mode, ctx, points[0])
    assert drag is not None
    for p in points[1:]:
        drag.send(p)
    drag.close()


def _ctx(h: int = 30, w: int = 40, **kw) -> ToolContext:
    return ToolContext(LabelDocument(np.zeros((h, w), np.uint8)), **kw)


def test_every_editing_mode_has_a_handler():
    assert set(DRAG_HANDLERS) == set(Mode) - {Mode.PAN} - CLICK_ONLY_MODES
    assert start_drag(Mode.PAN, _ctx(), (1, 1)) is None
    assert BRUSH_MODES <= set(DRAG_HANDLERS)


def test_brush_drag_is_one_undo_step():
    ctx = _ctx(label=4, brush_size=3)
    _drag(Mode.BRUSH, ctx, [(5, 10), (15, 10), (25, 10)])
    doc = ctx.document
    assert (doc.labels[9:12, 5:26] == 4).all() and (doc.labels == 4).sum() == 3 * 21 + 2 * 3  # rows + caps
    doc.undo()
    assert (doc.labels == 0).all() and not doc.can_undo


def test_eraser_paints_void():
    ctx = _ctx(label=4, brush_size=5)
    ctx.document.labels[:] = 2
    _drag(Mode.ERASER, ctx, [(10, 10), (12, 10)])
    assert ctx.document.labels[10, 11] == VOID and ctx.document.labels[0, 0] == 2


def test_fill_tool():
    ctx = _ctx(label=6)
    ctx.document.labels[:, 20] = 1
    _drag(Mode.FILL, ctx, [(3, 3), (30, 3)])  # the move is ignored: only the left part fills
    assert (ctx.document.labels[:, :20] == 6).all() and (ctx.document.labels[:, 21:] == 0).all()


def test_polygon_lasso_fills_on_release():
    ctx = _ctx(label=2)
    drag = start_drag(Mode.POLYGON, ctx, (5, 5))
    for p in [(25, 5), (25, 20)]:
        drag.send(p)
    assert (ctx.document.labels == 0).all()  # nothing until release
    drag.send((5, 20))
    drag.close()
    assert (ctx.document.labels[5:21, 5:26] == 2).all()
    assert ctx.document.can_undo and ctx.document.undo() is not None and not ctx.document.can_undo


def test_picker_selects_class_and_ignores_void():
    picked = []
    ctx = _ctx(on_pick=picked.append)
    ctx.document.labels[2, 3] = 7
    ctx.document.labels[4, 4] = VOID
    _drag(Mode.PICKER, ctx, [(3, 2), (4, 4)])
    assert ctx.label == 7 and picked == [7]  # the move onto void picks nothing
    assert not ctx.document.can_undo


def test_accept_prediction_brush_copies_prediction():
    pred = np.full((30, 40), 9, np.uint8)
    ctx = _ctx(label=1, brush_size=5, prediction=pred)
    _drag(Mode.ACCEPT_BRUSH, ctx, [(10, 10), (20, 10)])
    labels = ctx.document.labels
    assert labels[10, 15] == 9 and labels[0, 0] == 0 and set(np.unique(labels)) == {0, 9}
    no_pred = _ctx(prediction=None)
    _drag(Mode.ACCEPT_BRUSH, no_pred, [(10, 10), (20, 10)])
    assert not no_pred.document.can_undo


def test_accept_region_takes_prediction_in_one_error_component():
    pred = np.zeros((30, 40), np.uint8)
    pred[2:6, 2:6] = 3  # error blob A
    pred[20:25, 20:30] = 5  # error blob B
    ctx = _ctx(prediction=pred)
    _drag(Mode.ACCEPT_REGION, ctx, [(3, 3)])
    labels = ctx.document.labels
    assert (labels[2:6, 2:6] == 3).all() and (labels[20:25, 20:30] == 0).all()
    _drag(Mode.ACCEPT_REGION, ctx, [(0, 0)])  # prediction agrees there: nothing to take
    assert len(ctx.document._undo) == 1


def test_error_region_connectivity():
    gt = np.zeros((5, 5), np.uint8)
    pred = np.zeros((5, 5), np.uint8)
    pred[0, 0] = pred[1, 1] = 1  # only diagonal neighbours: separate regions
    region = error_region(gt, pred, 0, 0)
    assert region.sum() == 1 and region[0, 0]
    assert error_region(gt, pred, 4, 4) is None


def test_replace_class_tool():
    ctx = _ctx(label=8)
    ctx.document.labels[1:3, 1:3] = 2
    ctx.document.labels[20:22, 30:33] = 2
    _drag(Mode.REPLACE, ctx, [(1, 1)])
    assert (ctx.document.labels == 8).sum() == 10 and not (ctx.document.labels == 2).any()
