"""Segmented 32s / 16s / 8s control (checkable tool buttons in an exclusive group)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget

STRIDES = (32, 16, 8)


class StrideSelector(QWidget):
    """Emits ``stride_selected(int)`` when the user picks a stride; disabled strides are greyed out."""

    stride_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.buttons: dict[int, QToolButton] = {}
        for i, stride in enumerate(STRIDES):
            b = QToolButton(self)
            b.setText(f"{stride}s")
            b.setCheckable(True)
            b.setToolTip(f"Show FCN-{stride}s (Ctrl+{i + 1})")
            b.setObjectName("strideButton")
            self.group.addButton(b, stride)
            layout.addWidget(b)
            self.buttons[stride] = b
        self.group.idClicked.connect(self.stride_selected)

    def set_available(self, strides) -> None:
        """Enable only the strides the loaded model provides."""
        for s, b in self.buttons.items():
            b.setEnabled(s in strides)

    def set_stride(self, stride: int) -> None:
        """Check a stride's button without emitting."""
        b = self.buttons.get(stride)
        if b is not None:
            b.setChecked(True)
