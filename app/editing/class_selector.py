"""The class selector: a searchable list of class names with colour swatches (digits pick 0–9)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from superqt import QSearchableComboBox


def _swatch(rgb) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])))
    return QIcon(pix)


class ClassSelector(QWidget):
    """Pick the class the brush, fill and polygon paint; typing filters the list."""

    class_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QSearchableComboBox()
        self.combo.setMinimumWidth(160)
        self.combo.setToolTip("Class to paint (type to search; digits 0–9 select directly)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Class:"))
        layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self._changed)

    def set_classes(self, names: list[str], palette: np.ndarray) -> None:
        """Fill the list with ``index: name`` entries, keeping the selection when it still exists."""
        current = self.current() if self.combo.count() else -1  # a first list starts on class 1, not 0
        self.combo.blockSignals(True)
        self.combo.clear()
        for i, name in enumerate(names):
            self.combo.addItem(_swatch(palette[i]), f"{i}: {name}", i)
        self.combo.blockSignals(False)
        self.select(current if 0 <= current < len(names) else (1 if len(names) > 1 else 0))

    def current(self) -> int:
        """The selected class index (0 when the list is empty)."""
        data = self.combo.currentData()
        return int(data) if data is not None else 0

    def select(self, index: int) -> bool:
        """Select class ``index``; False when there is no such class."""
        pos = self.combo.findData(int(index))
        if pos < 0:
            return False
        self.combo.setCurrentIndex(pos)  # emits class_selected through currentIndexChanged when it changes
        return True

    def _changed(self, _pos: int) -> None:
        self.class_selected.emit(self.current())
