"""A non-modal message box collecting the last few errors (bad files, failed model loads)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class ErrorBox:
    """Shows errors without blocking the window; new messages are appended while the box is open."""

    MAX_LINES = 8

    def __init__(self, parent: QWidget):
        self.parent = parent
        self.box: QMessageBox | None = None

    def add(self, message: str) -> None:
        """Append ``message`` and show the box (created on first use)."""
        if self.box is None:
            self.box = QMessageBox(QMessageBox.Icon.Warning, "FCN Studio", "", parent=self.parent)
            self.box.setModal(False)
            self.box.setWindowModality(Qt.WindowModality.NonModal)
        old = self.box.text() if self.box.isVisible() else ""
        lines = ([line for line in old.split("\n") if line] + [message])[-self.MAX_LINES:]
        self.box.setText("\n".join(lines))
        self.box.show()
