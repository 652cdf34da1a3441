"""Assisted-correction tools (app/tools/grabcut, scissors, superpixels, holes): gesture inputs on constructed
images -> expected pixels, and one undo step each through apply_edit. No Qt."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import VOID, LabelDocument
from app.tools.assist_edit import apply_edit
from app.tools.grabcut import grabcut_refine
from app.tools.holes import fill_holes, polygon_mask, polygon_subtract
from app.tools.scissors import ScissorsTrace, fill_contour
from app.tools.superpixels import Superpixels, stroke_footprint

H, W = 80, 100
SQ = (slice(20, 60), slice(30, 70))  # the bright square: rows 20..59, columns 30..69


def _image(seed: int = 0, noise: float = 4.0) -> np.ndarray:
    img = np.full((H, W, 3), (40, 50, 60), np.float32)
    img[SQ] = (220, 200, 60)
    img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _truth(cls: int = 1) -> np.ndarray:
    lab = np.zeros((H, W), np.uint8)
    lab[SQ] = cls
    return lab


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# -- GrabCut ------------------------------------------------------------------------------------------------
def test_grabcut_in_a_box_snaps_a_sloppy_label_to_the_square():
    image = _image()
    labels = np.zeros((H, W), np.uint8)
    labels[26:54, 36:64] = 1  # drawn too small
    prediction = np.zeros((H, W), np.uint8)
    prediction[16:64, 26:74] = 1  # too big
    labels[2, 2] = 1  # a stray pixel of the class far outside the box stays as it is
    edit = grabcut_refine(image, labels, 1, prediction=prediction, box=(10, 10, 80, 70))
    assert edit is not None
    y0, y1, x0, x1 = edit.rect
    assert 10 <= x0 and x1 <= 80 and 10 <= y0 and y1 <= 70  # only inside the box
    out = labels.copy()
    edit.apply_to(out)
    assert _iou(out == 1, _truth() == 1) > 0.97
    assert out[2, 2] == 1
    # pixels dropped from the class take the prediction's class, void where the prediction says the class
    assert set(np.unique(out[(labels == 1) & (out != 1)])) <= {0, VOID}


def test_grabcut_in_a_brushed_area_changes_nothing_outside_it():
    image = _image(1)
    labels = _truth()
    labels[20:60, 70:76] = 1  # the right border 6 px too far out
    area = np.zeros((H, W), bool)
    area[15:40, 60:85] = True  # brushed over the top half of the right border only
    edit = grabcut_refine(image, labels, 1, prediction=None, area=area)
    out = labels.copy()
    edit.apply_to(out)
    assert (out[20:40, 70:76] == VOID).all()  # no prediction: dropped pixels become void
    assert (out[40:60, 70:76] == 1).all()  # outside the brushed area: untouched
    assert (out[20:40, 30:70] == 1).all()


def test_grabcut_without_any_seed_of_the_class_does_nothing():
    image = _image()
    assert grabcut_refine(image, np.zeros((H, W), np.uint8), 3, box=(10, 10, 80, 70)) is None
    with pytest.raises(ValueError, match="box or a brushed area"):
        grabcut_refine(image, _truth(), 1)


# -- intelligent scissors -----------------------------------------------------------------------------------
def test_scissors_clicks_near_the_corners_trace_the_square():
    trace = ScissorsTrace(_image(noise=2.0))
    labels = np.zeros((H, W), np.uint8)
    assert trace.fill(labels, 4) is None  # nothing clicked yet
    # clicks 1-2 px off the corners: the path between them follows the square's edges
    for x, y in [(31, 21), (68, 19), (70, 58), (28, 60)]:
        trace.click(x, y)
    assert trace.preview(40, 40) is not None and trace.can_close
    edit = trace.fill(labels, 4)
    out = labels.copy()
    edit.apply_to(out)
    assert _iou(out == 4, _truth() == 1) > 0.9
    assert (out[25:55, 35:65] == 4).all() and (out[:10] == 0).all()
    trace.undo_click()
    assert len(trace.anchors) == 3 and len(trace.segments) == 2


def test_fill_contour_fills_inside_and_border():
    contour = np.array([[10, 10], [19, 10], [19, 19], [10, 19]])
    edit = fill_contour(np.zeros((H, W), np.uint8), contour, 2)
    assert edit.rect == (10, 20, 10, 20) and edit.mask.all() and (edit.values == 2).all()


# -- superpixels --------------------------------------------------------------------------------------------
def test_superpixel_stroke_selects_whole_superpixels_inside_the_square():
    image = _image(noise=2.0)
    sp = Superpixels(image, region_px=100)
    assert sp.segments.shape == (H, W) and sp.count > 20
    ids = sp.select([(40, 30), (60, 30)], 3)  # a short stroke inside the square
    edit = sp.paint(np.zeros((H, W), np.uint8), ids, 5)
    out = np.zeros((H, W), np.uint8)
    edit.apply_to(out)
    painted = out == 5
    assert painted[30, 40:61].all()
    assert not painted[~(_truth() == 1)].any()  # superpixels do not leak over the square's edge
    assert np.isin(sp.segments[painted], ids).all() and painted.sum() == np.isin(sp.segments, ids).sum()


def test_stroke_footprint_is_the_document_brush():
    doc = LabelDocument(np.zeros((H, W), np.uint8))
    rect, mask = doc.brush_mask((10.0, 12.0), (30.5, 20.0), 7)
    rect2, mask2 = stroke_footprint((H, W), [(10.0, 12.0), (30.5, 20.0)], 7)
    assert rect == rect2 and (mask == mask2).all()


# -- polygon subtract / fill holes -------------------------------------------------------------------------
def test_polygon_subtract_cuts_only_the_class():
    labels = _truth()
    labels[30:40, 10:80] = 2  # a band of another class across the square
    edit = polygon_subtract(labels, [(20, 25), (50, 25), (50, 45), (20, 45)], 1)
    out = labels.copy()
    edit.apply_to(out)
    assert (out[25:30, 30:51] == VOID).all() and (out[40:46, 30:51] == VOID).all()
    assert (out[30:40, 10:80] == 2).all()  # the other class inside the polygon stays
    assert (out[25:30, 20:30] == 0).all() and (out[40:46, 20:30] == 0).all()  # not the class: stays
    assert (out[25:30, 51:70] == 1).all() and (out[40:46, 51:70] == 1).all()  # outside the polygon
    edit = polygon_subtract(labels, [(20, 25), (50, 25), (50, 45)], 1, replacement=3)
    assert set(np.unique(edit.values[edit.mask])) == {3}


def test_polygon_mask_is_the_lasso():
    points = [(12.3, 5.0), (40.0, 8.5), (33.2, 30.1), (9.0, 22.0)]
    doc = LabelDocument(np.zeros((H, W), np.uint8))
    doc.polygon(points, 1)
    rect, mask = polygon_mask((H, W), points)
    y0, y1, x0, x1 = rect
    assert (doc.labels[y0:y1, x0:x1].astype(bool) == mask).all() and doc.labels.sum() == mask.sum()


def test_fill_holes_of_one_class_and_of_the_clicked_object():
    labels = _truth()
    labels[30:33, 40:43] = 0  # small hole
    labels[40:50, 45:60] = VOID  # big hole (void)
    labels[5:15, 80:95] = 1  # a second object of the class with its own hole
    labels[8:10, 85:88] = 2
    labels[0:10, 0:10] = 1  # a corner object: the background around it touches the border, no hole
    edit = fill_holes(labels, 1)
    out = labels.copy()
    edit.apply_to(out)
    assert (out[SQ] == 1).all() and (out[8:10, 85:88] == 1).all() and (out[10:20, 0:30] == 0).all()
    assert edit.count == 9 + 150 + 6
    small = fill_holes(labels, 1, max_hole_area=10)
    assert small.count == 9 + 6
    clicked = fill_holes(labels, 1, at=(35, 25))  # the square only
    assert clicked.count == 9 + 150 and clicked.rect == (30, 50, 40, 60)
    assert fill_holes(labels, 1, at=(0, 79)) is None  # not the class there
    labels.flags.writeable = False  # cv2.floodFill refuses read-only arrays: the tool copies them
    assert fill_holes(labels, 1, at=(35, 25)).count == 9 + 150


def test_each_tool_is_one_undo_step():
    image = _image()
    labels = _truth()
    labels[20:60, 70:76] = 1
    labels[30:33, 40:43] = 0
    doc = LabelDocument(labels.copy())
    edits = [
        fill_holes(doc.labels, 1),
        polygon_subtract(doc.labels, [(72, 15), (80, 15), (80, 65), (72, 65)], 1),
        grabcut_refine(image, doc.labels, 1, box=(20, 10, 90, 70)),
    ]
    states = [doc.labels.copy()]
    for edit in edits:
        if edit is None:
            continue
        expected = doc.labels.copy()
        edit.apply_to(expected)
        rect = apply_edit(doc, edit)
        assert rect is not None and (doc.labels == expected).all()
        states.append(doc.labels.copy())
    assert len(states) >= 3
    for state in reversed(states[:-1]):
        doc.undo()
        assert (doc.labels == state).all()
    assert apply_edit(doc, None) is None


def test_assisted_tools_import_without_qt():
    import subprocess
    import sys
    import textwrap

    from tests.conftest import REPO

    script = textwrap.dedent("""
        import importlib.abc, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "superqt", "qtpy"):
                    raise ImportError(f"blocked Qt module imported: {name}")

        sys.meta_path.insert(0, Blocker())
        import app.tools.assist_edit, app.tools.grabcut, app.tools.holes, app.tools.scissors
        import app.tools.superpixels
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_scissors_windows_far_from_the_origin_trace_the_right_pixels():
    h, w = 300, 420
    img = np.full((h, w, 3), 40, np.uint8)
    img[150:260, 200:400] = 210  # far from (0, 0) and larger than the window margin
    trace = ScissorsTrace(img)
    for x, y in [(201, 151), (398, 152), (399, 258), (202, 259)]:
        trace.click(x, y)
    assert trace._window[0] > 0 and trace._window[1] > 0  # the last map covers a window, not the image
    labels = np.zeros((h, w), np.uint8)
    edit = trace.fill(labels, 3)
    edit.apply_to(labels)
    truth = np.zeros((h, w), bool)
    truth[150:260, 200:400] = True
    assert _iou(labels == 3, truth) > 0.95
    far = trace.preview(10, 10)  # the cursor left the window: a new one is built around both
    assert tuple(far[-1]) == (10, 10) and tuple(far[0]) == (202, 259)
