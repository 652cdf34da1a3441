"""Editing benchmarks: one brush move on a 2048² label map with its repaint, flood fill on 4 megapixels, and
undo-history memory after 100 strokes. ``run() -> dict``; ``python3 bench/gui_edit.py`` prints the JSON.

Repaint is measured on a real pyqtgraph view (offscreen platform unless a display is set): the time runs
from the brush event to the end of the ImageItem's ``paint`` that shows it (counted by wrapping ``paint``).
Two repaint paths are timed on the window's own ``PanelGrid``:
- ``brush_event_ms_2048``: ``PanelGrid.gt_changed(rect)``, i.e. exactly what the app does on an edit today;
- ``brush_event_ms_2048_partial``: the same recolouring of the rect, then
  ``app.editing.partial_repaint.repaint_rect`` (copy the rect into the rendered QImage, repaint that rect).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZE = 2048
BRUSH = 20


def _labels(rng: np.random.Generator) -> np.ndarray:
    """A 2048² map with rectangles of a few classes on background (large connected regions, like real GT)."""
    labels = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(60):
        y, x = rng.integers(0, SIZE - 200, 2)
        h, w = rng.integers(20, 200, 2)
        labels[y : y + h, x : x + w] = rng.integers(1, 21)
    return labels


def _strokes(rng: np.random.Generator, count: int, moves: int, step: float = 8.0):
    """Random-walk strokes: ``count`` lists of ``moves + 1`` points, ``step`` px apart."""
    out = []
    for _ in range(count):
        p = rng.uniform(BRUSH, SIZE - BRUSH, 2)
        pts = [tuple(p)]
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(moves):
            angle += rng.normal(0, 0.3)
            p = np.clip(p + step * np.array([np.cos(angle), np.sin(angle)]), 0, SIZE - 1)
            pts.append(tuple(p))
        out.append(pts)
    return out


def _brush_events(app, grid, doc, strokes, *, partial: bool) -> list[float]:
    from app.editing.partial_repaint import repaint_rect
    from app.views import colorize

    item = grid.panels["gt"].image_item
    painted = [0]
    original_paint = item.paint

    def counting_paint(*args):
        original_paint(*args)
        painted[0] += 1

    item.paint = counting_paint
    viewport = grid.panels["gt"].graphics_view.viewport()
    times = []
    try:
        for pts in strokes:
            doc.begin_stroke()
            for a, b in zip(pts, pts[1:]):
                before = painted[0]
                t0 = time.perf_counter()
                rect = doc.paint(a, b, BRUSH, int(doc.labels[int(b[1]), int(b[0])] + 1) % 20)
                if rect is None:
                    continue
                if partial:
                    y0, y1, x0, x1 = rect
                    lut = colorize.label_lut(grid.palette, grid.only_class)
                    grid._gt_rgba[y0:y1, x0:x1] = lut[grid._gt[y0:y1, x0:x1]]
                    repaint_rect(item, rect)
                else:
                    grid.gt_changed(rect)
                deadline = t0 + 2.0
                while painted[0] == before and time.perf_counter() < deadline:
                    app.processEvents()
                    if painted[0] == before:
                        viewport.repaint()  # some platforms coalesce updates until asked
                times.append((time.perf_counter() - t0) * 1000)
            doc.end_stroke()
    finally:
        item.paint = original_paint
    return times


def run(quick: bool = False) -> dict:
    """Measure and return the editing numbers (ms / MB); ``quick`` uses fewer repetitions."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.document import LabelDocument
    from app.views.panels import PanelGrid
    from fcn_core.data.palette import voc_palette

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    labels = _labels(rng)
    image = np.full((SIZE, SIZE, 3), 90, np.uint8)

    grid = PanelGrid()
    grid.resize(1400, 1000)
    grid.show()
    grid.set_palette(voc_palette())
    doc = LabelDocument(labels.copy())
    grid.set_image(image, doc.labels)
    for _ in range(5):
        app.processEvents()
    grid.panels["gt"].graphics_view.viewport().repaint()
    moves = 6 if quick else 15
    strokes = 3 if quick else 8
    full = _brush_events(app, grid, doc, _strokes(rng, strokes, moves), partial=False)
    partial = _brush_events(app, grid, doc, _strokes(rng, strokes, moves), partial=True)
    view_px = grid.panels["gt"].graphics_view.viewport().size()

    # flood fill on 4 MP: the background region (most of the image) takes another class, history included
    fill_doc = LabelDocument(labels.copy())
    fills = []
    for i in range(3 if quick else 8):
        t0 = time.perf_counter()
        rect = fill_doc.fill(0, 0, 21 + i % 2)
        fills.append((time.perf_counter() - t0) * 1000)
        assert rect is not None
    filled_fraction = float((fill_doc.labels == fill_doc.labels[0, 0]).mean())

    # history memory: 100 strokes of a size-20 brush (each 20 moves of 8 px) on 2048²
    hist_doc = LabelDocument(labels.copy())
    for pts in _strokes(np.random.default_rng(1), 100, 20):
        hist_doc.begin_stroke()
        for a, b in zip(pts, pts[1:]):
            hist_doc.paint(a, b, BRUSH, 7)
        hist_doc.end_stroke()
    changed = int((hist_doc.labels != labels).sum())
    grid.close()
    return {
        "brush_event_ms_2048": round(statistics.median(full), 3),
        "brush_event_ms_2048_p90": round(float(np.percentile(full, 90)), 3),
        "brush_event_ms_2048_partial": round(statistics.median(partial), 3),
        "brush_event_ms_2048_partial_p90": round(float(np.percentile(partial, 90)), 3),
        "fill_ms_4mp": round(statistics.median(fills), 3),
        "undo_mb_100_strokes": round(hist_doc.history_nbytes() / 1e6, 3),
        "details": {
            "brush_events": [len(full), len(partial)],
            "brush_size": BRUSH,
            "viewport_px": [view_px.width(), view_px.height()],
            "fill_region_fraction": round(filled_fraction, 3),
            "strokes_changed_pixels": changed,
            "undo_steps": len(hist_doc._undo),
            "platform": os.environ.get("QT_QPA_PLATFORM", ""),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "aims": {"brush_event_ms_2048": 8, "fill_ms_4mp": 30, "undo_mb_100_strokes": 20},
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
