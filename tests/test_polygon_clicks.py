"""The click-by-click polygon's state (app.tools.polygon_clicks), without Qt."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from app.document import LabelDocument
from app.tools import Mode, ToolContext, start_drag
from app.tools.polygon_clicks import CLOSE_PX, ClickPolygon, moved_beyond_slop
from tests.conftest import REPO

SQUARE = [(5.0, 4.0), (25.0, 4.0), (25.0, 20.0), (5.0, 20.0)]


def _ctx(label: int = 3) -> ToolContext:
    return ToolContext(LabelDocument(np.zeros((30, 40), np.uint8)), label=label)


def test_add_and_remove_last_vertex():
    poly = ClickPolygon()
    assert poly.remove_last() is None and len(poly) == 0
    for p in SQUARE[:3]:
        poly.add_vertex(p)
    assert poly.points == SQUARE[:3] and poly.can_close
    assert poly.remove_last() == SQUARE[2]
    assert poly.points == SQUARE[:2] and not poly.can_close
    poly.clear()
    assert poly.points == []


def test_close_to_first_is_measured_in_screen_pixels():
    poly = ClickPolygon()
    assert not poly.close_to_first((0, 0), 1.0)  # no first vertex yet
    poly.add_vertex((10, 10))
    assert poly.close_to_first((10 + CLOSE_PX, 10), 1.0)
    assert not poly.close_to_first((10 + CLOSE_PX + 0.5, 10), 1.0)
    assert not poly.close_to_first((13, 10), 4.0)  # 3 image px at 4 screen px each = 12 screen px
    assert poly.close_to_first((13, 10), 2.0)  # zoomed out: the same 3 px are 6 screen px


def test_clicks_add_vertices_until_one_lands_on_the_first():
    poly = ClickPolygon()
    for p in SQUARE:
        assert poly.click(p, 1.0) is False
    assert len(poly) == 4
    assert poly.click((6.0, 5.0), 1.0) is True  # within 8 px of (5, 4): a request to close, not a vertex
    assert len(poly) == 4


def test_fill_needs_three_vertices_and_keeps_them_otherwise():
    ctx = _ctx()
    poly = ClickPolygon()
    for p in SQUARE[:2]:
        poly.add_vertex(p)
    assert poly.fill(ctx) is None
    assert poly.points == SQUARE[:2]  # nothing lost: the user can go on placing vertices
    assert (ctx.document.labels == 0).all() and not ctx.document.can_undo


def test_fill_is_the_lasso_fill_and_one_undo_step():
    clicked, lasso = _ctx(label=7), _ctx(label=7)
    poly = ClickPolygon()
    for p in SQUARE:
        poly.add_vertex(p)
    assert poly.fill(clicked) == (4, 21, 5, 26)
    assert len(poly) == 0  # closed
    drag = start_drag(Mode.POLYGON, lasso, SQUARE[0])
    for p in SQUARE[1:]:
        drag.send(p)
    drag.close()
    assert (clicked.document.labels == lasso.document.labels).all()
    assert (clicked.document.labels[4:21, 5:26] == 7).all() and clicked.document.labels.sum() == 7 * 17 * 21
    assert clicked.document.undo() is not None and not clicked.document.can_undo
    assert (clicked.document.labels == 0).all()


def test_click_slop():
    assert not moved_beyond_slop((100, 100), (103, 102))
    assert moved_beyond_slop((100, 100), (105, 100))


def test_tool_modules_import_without_qt():
    script = textwrap.dedent("""
        import importlib.abc, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "superqt"):
                    raise ImportError(name)

        sys.meta_path.insert(0, Blocker())
        import app.document, app.tools, app.tools.polygon_clicks
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]
