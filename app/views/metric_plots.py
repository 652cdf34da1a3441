"""Whole-dataset plots: an interactive confusion-matrix heatmap and a per-class IU bar chart (pyqtgraph).

Before a result both say in words what will appear (no empty axes); with one, the ranges fit the classes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor, QFontMetrics, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QStackedLayout, QToolTip, QWidget

from app.views.colorize import CONFIDENCE_LUT

BACKGROUND = (30, 30, 30)
#: Fractions marked on the confusion colour scale (the colour is drawn on a square-root scale).
SCALE_TICKS = (0.0, 0.05, 0.2, 0.5, 1.0)


class PlotWithMessage(QWidget):
    """A fixed-range plot (no pan/zoom) that shows a sentence instead of empty axes while it has no data."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        r, g, b = BACKGROUND
        self.message.setStyleSheet(f"background: rgb({r}, {g}, {b}); color: #b0b0b0; padding: 12px;")
        self.stack = QStackedLayout(self)
        self.stack.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.plot)

    def show_message(self, text: str) -> None:
        """Hide the plot and say ``text`` (why it is empty / what is running)."""
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def showing_plot(self) -> bool:
        return self.stack.currentWidget() is self.plot

    def _show_plot(self) -> None:
        self.stack.setCurrentWidget(self.plot)

    def _hover_tip(self, text: str) -> None:
        """Show ``text`` at the cursor at once (a widget tooltip would wait and then not follow the cell)."""
        self.plot.setToolTip(text)
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot)
        else:
            QToolTip.hideText()


def _names(class_names: list[str], n: int) -> list[str]:
    return [class_names[i] if i < len(class_names) else str(i) for i in range(n)]


def _set_row_labels(plot: pg.PlotWidget, ticks: list[tuple[float, str]]) -> None:
    """Left-axis labels; the axis as wide as the widest (pyqtgraph's own guess can clip the first letter)."""
    axis = plot.getAxis("left")
    axis.setTicks([ticks])
    widest = max((QFontMetrics(plot.font()).horizontalAdvance(text) for _p, text in ticks), default=0)
    axis.setWidth(widest + 34)  # tick text + tick marks + the rotated axis title


class ConfusionView(PlotWithMessage):
    """Row-normalised confusion matrix (rows = ground truth, columns = prediction).

    Clicking a cell emits ``cell_clicked(gt_class, pred_class)`` and outlines it.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot.invertY(True)
        self.plot.setLabel("left", "ground truth")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(CONFIDENCE_LUT)
        self.plot.addItem(self.image)
        cmap = pg.ColorMap(np.linspace(0.0, 1.0, len(CONFIDENCE_LUT)), CONFIDENCE_LUT)
        self.scale = pg.ColorBarItem(values=(0.0, 1.0), width=12, colorMap=cmap, interactive=False,
                                     label="share of the GT class's pixels")
        self.scale.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.scale.axis.setTicks([[(math.sqrt(v), f"{v:g}") for v in SCALE_TICKS]])
        self.scale.axis.setWidth(34)
        self.selection = QGraphicsRectItem(0, 0, 1, 1)
        pen = QPen(Qt.GlobalColor.white, 2)
        pen.setCosmetic(True)
        self.selection.setPen(pen)
        self.selection.setZValue(10)
        self.selection.hide()
        self.plot.addItem(self.selection)
        self.selected: tuple[int, int] | None = None
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        self.show_message("The confusion matrix appears when an evaluation finishes.")
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.getPlotItem().vb.sigResized.connect(lambda _vb: self._bottom_ticks())

    def set_matrix(self, matrix: np.ndarray, class_names: list[str]) -> None:
        """Show ``matrix`` (n, n) counts; colour = fraction of each GT row (so small classes stay visible)."""
        self.matrix = np.asarray(matrix, dtype=np.int64)
        n = len(self.matrix)
        self.class_names = _names(list(class_names), n)
        rows = self.matrix.sum(axis=1, keepdims=True).astype(np.float64)
        norm = np.divide(self.matrix, rows, out=np.zeros(self.matrix.shape), where=rows > 0)
        self.image.setImage(np.sqrt(norm).astype(np.float32), levels=(0.0, 1.0))  # sqrt: small ones show
        _set_row_labels(self.plot, [(i + 0.5, f"{i} {name}") for i, name in enumerate(self.class_names)])
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0)
        if self.selected is not None and max(self.selected) >= n:
            self.select_cell(None)
        self._show_plot()
        self._bottom_ticks()

    def _bottom_ticks(self) -> None:
        """Full class names under the columns when they fit, else the class numbers of the left axis."""
        if self.matrix is None:
            return
        n = len(self.matrix)
        cell_px = self.plot.getPlotItem().vb.width() / max(n, 1)
        metrics = QFontMetrics(self.plot.font())
        widest = max((metrics.horizontalAdvance(s) for s in self.class_names), default=0)
        if widest + 6 <= cell_px:
            ticks, label = [(i + 0.5, name) for i, name in enumerate(self.class_names)], "prediction"
        else:
            ticks, label = [(i + 0.5, str(i)) for i in range(n)], "prediction (class number, as on the left)"
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setLabel("bottom", label)

    def bottom_tick_labels(self) -> list[str]:
        """The column labels now drawn (tests, and what a screenshot should show)."""
        ticks = self.plot.getAxis("bottom")._tickLevels
        return [text for _pos, text in ticks[0]] if ticks else []

    def select_cell(self, cell: tuple[int, int] | None) -> None:
        """Outline the (gt, pred) cell whose images are listed (None: no outline)."""
        self.selected = cell
        if cell is None:
            self.selection.hide()
            return
        g, p = cell
        self.selection.setRect(p, g, 1, 1)
        self.selection.show()

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(gt, pred) under a scene position, or None outside the matrix."""
        if self.matrix is None or not self.showing_plot():
            return None
        pt = self.plot.getPlotItem().vb.mapSceneToView(scene_pos)
        col, row = int(math.floor(pt.x())), int(math.floor(pt.y()))
        n = len(self.matrix)
        return (row, col) if 0 <= row < n and 0 <= col < n else None

    def _clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select_cell(cell)
            self.cell_clicked.emit(*cell)

    def cell_text(self, g: int, p: int) -> str:
        """Hover text of a cell: classes, pixels, share of the GT class."""
        names = self.class_names
        count, total = int(self.matrix[g, p]), int(self.matrix[g].sum())
        share = f"{100 * count / total:.1f}% of {names[g]}'s pixels" if total else "class not in the GT"
        verb = "predicted correctly" if g == p else f"predicted as {p} {names[p]}"
        return f"GT {g} {names[g]} {verb}\n{count:,} px = {share}\nClick to list its images"

    def _hover(self, pos) -> None:
        cell = self.cell_at(pos)
        self._hover_tip(self.cell_text(*cell) if cell is not None else "")


class IUBarChart(PlotWithMessage):
    """Per-class IU as horizontal bars in the class colours, full class names on the left (class 0 on top)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "IU (%) over the evaluated images")
        self.bars: pg.BarGraphItem | None = None
        self.value_labels: list[pg.TextItem] = []
        self.values: list[float] = []
        self.class_names: list[str] = []
        self.show_message("Per-class IU appears when an evaluation finishes.")
        self.plot.scene().sigMouseMoved.connect(self._hover)

    def set_values(self, iu: list[float], class_names: list[str], palette: np.ndarray) -> None:
        """``iu`` per class in 0–1 (NaN for classes absent from GT and prediction: drawn as no bar)."""
        n = len(iu)
        if (self.bars is not None and self.showing_plot() and n == len(self.values)
                and _names(list(class_names), n) == self.class_names):
            self._update_values(iu)  # a saved label moved the numbers: no new items (4x faster)
            return
        for item in [self.bars, *self.value_labels]:
            if item is not None:
                self.plot.removeItem(item)
        self.values = [float(v) for v in iu]
        n = len(self.values)
        self.class_names = _names(list(class_names), n)
        widths = np.nan_to_num(np.asarray(self.values, dtype=np.float64) * 100.0, nan=0.0)
        brushes = [pg.mkBrush(*[int(c) for c in palette[i]]) for i in range(n)]
        self.bars = pg.BarGraphItem(x0=0, y=np.arange(n), width=widths, height=0.75, brushes=brushes)
        self.plot.addItem(self.bars)
        # the number at each bar's end: a 0 IU and a class never seen (–) both have no bar otherwise
        self.value_labels = [pg.TextItem("–" if math.isnan(v) else f"{100 * v:.1f}", color=(200, 200, 200),
                                         anchor=(0, 0.5)) for v in self.values]
        for i, (label, width) in enumerate(zip(self.value_labels, widths)):
            label.setPos(float(width), i)
            self.plot.addItem(label)
        _set_row_labels(self.plot, [(i, f"{i} {name}") for i, name in enumerate(self.class_names)])
        self.plot.setRange(xRange=(0, 112), yRange=(-0.5, n - 0.5), padding=0)  # room for "100.0"
        self._show_plot()

    def _update_values(self, iu: list[float]) -> None:
        self.values = [float(v) for v in iu]
        widths = np.nan_to_num(np.asarray(self.values, dtype=np.float64) * 100.0, nan=0.0)
        self.bars.setOpts(width=widths)
        for i, (label, v, width) in enumerate(zip(self.value_labels, self.values, widths)):
            label.setText("–" if math.isnan(v) else f"{100 * v:.1f}")
            label.setPos(float(width), i)

    def _hover(self, pos) -> None:
        if not self.values or not self.showing_plot():
            return
        pt = self.plot.getPlotItem().vb.mapSceneToView(pos)
        i = int(math.floor(pt.y() + 0.5))
        inside = self.plot.getPlotItem().vb.sceneBoundingRect().contains(pos)
        if not (0 <= i < len(self.values)) or not inside:
            self._hover_tip("")
            return
        v = self.values[i]
        self._hover_tip(f"{i} {self.class_names[i]}: IU " + ("– (not in the GT nor predicted)"
                                                              if math.isnan(v) else f"{100 * v:.1f}%"))
