"""Class legend: colour, name and per-class IU; clicking a class shows only that class. A last row shows the
void colour (what the eraser paints; never scored)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.document import VOID


def swatch(rgb) -> QIcon:
    """A small square icon of one colour."""
    pix = QPixmap(14, 14)
    pix.fill(QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])))
    return QIcon(pix)


class ClassLegend(QTableWidget):
    """One row per class. ``only_class_changed(int)`` carries the class index, or -1 for "all classes"."""

    only_class_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["Class", "IU img", "IU set"])
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)  # a narrow list elides names ("2 buil…") instead of breaking them over lines
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeaderItem(1).setToolTip("IU of each class on the current image at the shown stride")
        self.horizontalHeaderItem(2).setToolTip("IU of each class over the evaluated dataset, shown stride")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setToolTip("Click a class to show only it; click it again to show all classes")
        self.only_class: int | None = None
        self.dataset_rows = 0  # class rows; then the void row, then the model's classes (when they differ)
        self.cellClicked.connect(self._clicked)

    def set_classes(self, class_names: list[str], palette: np.ndarray, void: int = VOID) -> None:
        """Rebuild the rows for a class list and its colours, plus the void row (colour ``palette[void]``)."""
        self.setRowCount(len(class_names) + 1)
        for i, name in enumerate(class_names):
            item = QTableWidgetItem(swatch(palette[i]), f"{i}  {name}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.setItem(i, 0, item)
            for col in (1, 2):
                iu = QTableWidgetItem("–")
                iu.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(i, col, iu)
        self.dataset_rows = len(class_names)
        void_item = QTableWidgetItem(swatch(palette[void]), "void")
        void_item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: it is not a class
        void_item.setToolTip("void: pixels without a class, not scored and ignored by training; the eraser "
                             "paints void")
        self.setItem(self.dataset_rows, 0, void_item)
        for col in (1, 2):
            self.setItem(self.dataset_rows, col, QTableWidgetItem(""))
        self.only_class = None
        self.clearSelection()

    def set_model_classes(self, class_names: list[str] | None, palette=None) -> None:
        """List the model's classes below the dataset's (predictions use these colours); None removes them."""
        fixed = self.dataset_rows + 1  # the classes and the void row stay
        self.setRowCount(fixed)
        if not class_names:
            return
        head = QTableWidgetItem("Model predicts:")
        font = head.font()
        font.setBold(True)
        head.setFont(font)
        rows = [(head, None)] + [(QTableWidgetItem(swatch(palette[i]), f"{i}  {n}"), i)
                                  for i, n in enumerate(class_names)]
        self.setRowCount(fixed + len(rows))
        for r, (item, _i) in enumerate(rows, start=fixed):
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: the class filter is the dataset's
            item.setToolTip("A class of the model (its prediction colours)")
            self.setItem(r, 0, item)
            for col in (1, 2):
                self.setItem(r, col, QTableWidgetItem(""))

    def set_iu(self, per_class_iu: dict[int, float] | list[float] | None, *, dataset: bool = False) -> None:
        """Per-class IU (0–1, NaN = absent) of the current image, or of the dataset (``dataset=True``)."""
        col = 2 if dataset else 1
        if isinstance(per_class_iu, list | tuple):
            per_class_iu = dict(enumerate(per_class_iu))
        values = per_class_iu or {}
        for row in range(self.dataset_rows):
            v = values.get(row)
            text = "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"
            self.item(row, col).setText(text)

    def _clicked(self, row: int, _col: int) -> None:
        if row >= self.dataset_rows:
            return
        if self.only_class == row:
            self.only_class = None
            self.clearSelection()
        else:
            self.only_class = row
        self.only_class_changed.emit(-1 if self.only_class is None else row)
