"""The click polygon in progress, drawn on the edited panels: the line through the vertices, a rubber band
to the mouse, and a marker on every vertex (the first one bigger: clicking it closes the polygon).

White over a dark outline so it shows on any image; cosmetic pens and pixel-sized markers keep the same
width at any zoom."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from app.document import Point

Z = 101  # above the image layers and the brush / lasso outlines (100)
CLOSE_COLOR = (255, 220, 0)  # the first vertex when a click there would close the polygon


def _pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    return pen


class PolygonOverlay:
    """One set of items per view box; ``show`` takes image coordinates (pixel centres on integers)."""

    def __init__(self, view_boxes: Sequence[pg.ViewBox]):
        self.items: list[list] = []
        for box in view_boxes:
            shadow, line, band = QGraphicsPathItem(), QGraphicsPathItem(), QGraphicsPathItem()
            shadow.setPen(_pen(QColor(0, 0, 0, 200), 3.5))
            line.setPen(_pen(QColor(255, 255, 255), 1.5))
            band.setPen(_pen(QColor(255, 255, 255), 1.5, Qt.PenStyle.DashLine))
            marks = pg.ScatterPlotItem(pxMode=True, symbol="s", pen=pg.mkPen(0, 0, 0, width=1.5),
                                       brush=pg.mkBrush(255, 255, 255))
            for z, item in enumerate((shadow, line, band, marks)):
                item.setZValue(Z + z)
                item.setVisible(False)
                box.addItem(item, ignoreBounds=True)
            self.items.append([shadow, line, band, marks])

    @property
    def visible(self) -> bool:
        return any(item.isVisible() for group in self.items for item in group)

    def show(self, points: Sequence[Point], hover: Point | None, *, closing: bool = False) -> None:
        """Draw ``points`` and the rubber band to ``hover``; ``closing`` highlights the first vertex."""
        if not points:
            self.hide()
            return
        view = [QPointF(x + 0.5, y + 0.5) for x, y in points]
        fixed = QPainterPath(view[0])
        for pt in view[1:]:
            fixed.lineTo(pt)
        band = QPainterPath(view[-1])
        if hover is not None:
            band.lineTo(view[0] if closing else QPointF(hover[0] + 0.5, hover[1] + 0.5))
        both = QPainterPath(fixed)
        both.addPath(band)
        sizes = [12] + [8] * (len(view) - 1)
        brushes = [pg.mkBrush(*CLOSE_COLOR) if closing else pg.mkBrush(255, 255, 255)]
        brushes += [pg.mkBrush(255, 255, 255)] * (len(view) - 1)
        for shadow, line, band_item, marks in self.items:
            shadow.setPath(both)
            line.setPath(fixed)
            band_item.setPath(band)
            marks.setData(x=[p.x() for p in view], y=[p.y() for p in view], size=sizes, brush=brushes)
            for item in (shadow, line, band_item, marks):
                item.setVisible(True)

    def hide(self) -> None:
        for group in self.items:
            for item in group:
                item.setVisible(False)
