"""Toolbar widgets that change what the panels show: stride, overlay opacity, error and confidence modes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

from app.views.colorize import CONFIDENCE_MODES, ERROR_MODES
from app.views.stride_selector import StrideSelector


class ViewControls(QWidget):
    """Stride segmented control, overlay opacity slider and the error / confidence colouring choices."""

    opacity_changed = Signal(float)
    error_mode_changed = Signal(str)
    confidence_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.strides = StrideSelector(self)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.setFixedWidth(80)
        self.opacity.setToolTip("Overlay opacity")
        self.error_mode = QComboBox()
        self.error_mode.addItems(list(ERROR_MODES))
        self.error_mode.setToolTip("Colour errors by the true class, or as false positives (red) / "
                                   "false negatives (blue) of the selected class (or objects vs background)")
        self.confidence_mode = QComboBox()
        self.confidence_mode.addItems(list(CONFIDENCE_MODES))
        self.confidence_mode.setToolTip("Confidence map: top softmax probability, or top-1 minus top-2")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Stride "))
        layout.addWidget(self.strides)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Overlay "))
        layout.addWidget(self.opacity)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Errors "))
        layout.addWidget(self.error_mode)
        layout.addWidget(QLabel(" Confidence "))
        layout.addWidget(self.confidence_mode)
        # keep its natural width: stretched across a wide tool bar the labels drift away from their widgets
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100.0))
        self.error_mode.currentTextChanged.connect(self.error_mode_changed)
        self.confidence_mode.currentTextChanged.connect(self.confidence_mode_changed)
