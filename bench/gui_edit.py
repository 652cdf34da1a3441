"""Editing benchmarks: one brush move on a 2048² label map with its repaint, flood fill on 4 megapixels, and
undo-history memory after 100 strokes. ``run() -> dict``; ``python3 bench/gui_edit.py`` prints the JSON.

Repaint is measured on real pyqtgraph views (offscreen platform unless a display is set): the time runs
from the mouse event to the end of the GT ImageItem's ``paint`` that shows it (counted by wrapping ``paint``).
- ``brush_event_ms_2048``: the real MainWindow with the EditingController on a 2048×2048 image: a mouse-move
  event with the left button held is sent to the GT panel's viewport (event filter → brush tool →
  LabelDocument.paint → live preview of the dirty rect) until the panel has painted it.
- ``stroke_release_ms_2048``: the button release that ends such a stroke (the window's full
  ``gt_labels_changed`` repaint of the stroke's rectangle + rescoring), once per stroke.
- ``brush_event_ms_2048_gt_changed``: on a bare ``PanelGrid``, paint + ``PanelGrid.gt_changed(rect)`` per move
  (what each move would cost if every move went through the window's repaint).
- ``brush_event_ms_2048_partial``: on a bare ``PanelGrid``, paint + recolour the rect +
  ``app.views.partial_repaint.repaint_rect``.
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


def _paint_counter_class():
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        """Counts paint events of a view's viewport; the paint is finished when processEvents returns."""

        def __init__(self, viewport):
            super().__init__()
            self.count = 0
            viewport.installEventFilter(self)

        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    return PaintCounter


def _PaintCounter(viewport):  # noqa: N802 - reads like the class it builds
    return _paint_counter_class()(viewport)


def _brush_events(app, grid, doc, strokes, *, partial: bool) -> list[float]:
    from app.views import colorize
    from app.views.partial_repaint import repaint_rect

    item = grid.panels["gt"].image_item
    viewport = grid.panels["gt"].graphics_view.viewport()
    painted = _PaintCounter(viewport)
    times = []
    try:
        for pts in strokes:
            doc.begin_stroke()
            for a, b in zip(pts, pts[1:]):
                before = painted.count
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
                while painted.count == before and time.perf_counter() < deadline:
                    app.processEvents()
                times.append((time.perf_counter() - t0) * 1000)
            doc.end_stroke()
    finally:
        viewport.removeEventFilter(painted)
    return times


def _big_dataset(folder: Path, labels: np.ndarray) -> Path:
    """A one-image VOC-layout dataset with a 2048² photo and its label."""
    from PIL import Image

    from fcn_core.data.labels import write_palette_png

    root = folder / "big"
    (root / "JPEGImages").mkdir(parents=True, exist_ok=True)
    photo = np.random.default_rng(2).integers(60, 200, (SIZE, SIZE, 3), dtype=np.uint8)
    Image.fromarray(photo).save(root / "JPEGImages" / "big.jpg", quality=80)
    write_palette_png(root / "SegmentationClass" / "big.png", labels)
    return root


def _window_brush(app, labels: np.ndarray, strokes, folder: Path) -> tuple[list[float], list[float]]:
    """Brush moves and stroke releases through the real window and editing controller."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from app import settings
    from app.main_window import MainWindow
    from app.tools import Mode

    os.environ["FCN_STUDIO_RECOVERY_DIR"] = str(folder / "recovery")
    settings.use_ini_file(str(folder / "settings.ini"))
    window = MainWindow()
    window.resize(1400, 1000)
    window.show()
    window.open_dataset(_big_dataset(folder, labels))
    deadline = time.time() + 120
    while window.editing.document is None and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    ed, panel = window.editing, window.panels["gt"]
    ed.set_mode(Mode.BRUSH)
    ed.set_brush_size(BRUSH)
    viewport = panel.graphics_view.viewport()
    for _ in range(5):
        app.processEvents()
    viewport.repaint()
    painted = _PaintCounter(viewport)

    def send(kind, x, y, button, buttons) -> float:
        pos = panel.graphics_view.mapFromScene(panel.view_box.mapViewToScene(QPointF(x + 0.5, y + 0.5)))
        local, glob = QPointF(pos), QPointF(viewport.mapToGlobal(pos))
        event = QMouseEvent(kind, local, local, glob, button, buttons, Qt.KeyboardModifier.NoModifier)
        before, t0 = painted.count, time.perf_counter()
        QApplication.sendEvent(viewport, event)
        limit = t0 + 2.0
        while painted.count == before and time.perf_counter() < limit:
            app.processEvents()
        return (time.perf_counter() - t0) * 1000

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    moves, releases = [], []
    try:
        for pts in strokes:
            send(QEvent.Type.MouseButtonPress, *pts[0], left, left)
            for p in pts[1:]:
                moves.append(send(QEvent.Type.MouseMove, *p, none, left))
            releases.append(send(QEvent.Type.MouseButtonRelease, *pts[-1], left, none))
    finally:
        viewport.removeEventFilter(painted)
        ed.document.mark_saved()  # nothing to save on close
        window.close()
        settings.use_ini_file(None)
    return moves, releases


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
    grid.close()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fcn-bench-edit-") as tmp:
        win_moves, win_releases = _window_brush(app, labels, _strokes(rng, strokes, moves), Path(tmp))

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
    return {
        "brush_event_ms_2048": round(statistics.median(win_moves), 3),
        "brush_event_ms_2048_p90": round(float(np.percentile(win_moves, 90)), 3),
        "stroke_release_ms_2048": round(statistics.median(win_releases), 3),
        "brush_event_ms_2048_gt_changed": round(statistics.median(full), 3),
        "brush_event_ms_2048_partial": round(statistics.median(partial), 3),
        "brush_event_ms_2048_partial_p90": round(float(np.percentile(partial, 90)), 3),
        "fill_ms_4mp": round(statistics.median(fills), 3),
        "undo_mb_100_strokes": round(hist_doc.history_nbytes() / 1e6, 3),
        "details": {
            "brush_events": {"window": len(win_moves), "gt_changed": len(full), "partial": len(partial)},
            "brush_size": BRUSH,
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
