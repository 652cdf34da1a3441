"""Edit → Replace class…: turn every pixel of one class into another in the current image (one undo step)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QWidget
from superqt import QSearchableComboBox


class ReplaceClassDialog(QDialog):
    """Two searchable class lists: "replace" and "with"; void is offered as a target (erase a class)."""

    def __init__(self, names: list[str], present: np.ndarray, current: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Replace class")
        self.source = QSearchableComboBox()
        self.target = QSearchableComboBox()
        for i, name in enumerate(names):
            if present[i]:  # only classes in this image can be replaced
                self.source.addItem(f"{i}: {name}", i)
            self.target.addItem(f"{i}: {name}", i)
        if present[255]:
            self.source.addItem("255: void", 255)
        self.target.addItem("255: void", 255)
        self.target.setCurrentIndex(max(self.target.findData(current), 0))
        form = QFormLayout(self)
        form.addRow("Replace", self.source)
        form.addRow("with", self.target)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[int, int] | None:
        """(old class, new class), or None when the image has nothing to replace."""
        if self.source.currentData() is None or self.target.currentData() is None:
            return None
        return int(self.source.currentData()), int(self.target.currentData())
