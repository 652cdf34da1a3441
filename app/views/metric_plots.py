"""Whole-dataset plots: an interactive confusion-matrix heatmap and a per-class IU bar chart (pyqtgraph)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.views.colorize import CONFIDENCE_LUT


def _short(name: str, n: int = 6) -> str:
    return name if len(name) <= n else name[:n]


class ConfusionView(QWidget):
    """Row-normalised confusion matrix (rows = ground truth, columns = prediction).

    Clicking a cell emits ``cell_clicked(gt_class, pred_class)``.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=(30, 30, 30))
        self.plot.setMenuEnabled(False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("left", "ground truth")
        self.plot.setLabel("bottom", "prediction")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(CONFIDENCE_LUT)
        self.plot.addItem(self.image)
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hover)

    def set_matrix(self, matrix: np.ndarray, class_names: list[str]) -> None:
        """Show ``matrix`` (n, n) counts; colour = fraction of each GT row (so small classes stay visible)."""
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.class_names = list(class_names)
        rows = self.matrix.sum(axis=1, keepdims=True).astype(np.float64)
        norm = np.divide(self.matrix, rows, out=np.zeros(self.matrix.shape), where=rows > 0)
        self.image.setImage(np.sqrt(norm).astype(np.float32), levels=(0.0, 1.0))  # sqrt: small ones show
        n = len(self.matrix)
        names = [class_names[i] if i < len(class_names) else str(i) for i in range(n)]
        # bottom axis: short names for few classes, indices for many (names overlap); left axis has room
        bottom = [(i + 0.5, _short(names[i], 4) if n <= 10 else str(i)) for i in range(n)]
        self.plot.getAxis("bottom").setTicks([bottom])
        self.plot.getAxis("left").setTicks([[(i + 0.5, f"{i} {_short(names[i], 8)}") for i in range(n)]])
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(gt, pred) under a scene position, or None outside the matrix."""
        if self.matrix is None:
            return None
        pt = self.plot.getPlotItem().vb.mapSceneToView(scene_pos)
        col, row = int(math.floor(pt.x())), int(math.floor(pt.y()))
        n = len(self.matrix)
        return (row, col) if 0 <= row < n and 0 <= col < n else None

    def _clicked(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def _hover(self, pos) -> None:
        cell = self.cell_at(pos)
        if cell is None:
            self.plot.setToolTip("")
            return
        g, p = cell
        names = self.class_names
        total = max(int(self.matrix[g].sum()), 1)
        self.plot.setToolTip(f"GT {names[g] if g < len(names) else g} → predicted "
                             f"{names[p] if p < len(names) else p}: {int(self.matrix[g, p])} px "
                             f"({100 * self.matrix[g, p] / total:.1f}% of the class)")


class IUBarChart(QWidget):
    """Per-class IU bars in the class colours."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=(30, 30, 30))
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "IU (%)")
        self.plot.setYRange(0, 100)
        self.bars: pg.BarGraphItem | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def set_values(self, iu: list[float], class_names: list[str], palette: np.ndarray) -> None:
        """``iu`` per class in 0–1 (NaN for classes absent from GT and prediction: drawn as no bar)."""
        if self.bars is not None:
            self.plot.removeItem(self.bars)
        heights = np.nan_to_num(np.asarray(iu, dtype=np.float64) * 100.0, nan=0.0)
        brushes = [pg.mkBrush(*[int(c) for c in palette[i]]) for i in range(len(heights))]
        self.bars = pg.BarGraphItem(x=np.arange(len(heights)), height=heights, width=0.8, brushes=brushes)
        self.plot.addItem(self.bars)
        self.plot.getAxis("bottom").setTicks([[(i, _short(n, 5)) for i, n in enumerate(class_names)]])
        self.plot.setXRange(-0.6, len(heights) - 0.4, padding=0)
