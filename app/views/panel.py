"""One image panel: a titled pyqtgraph view (row-major, aspect locked, y down) with an image item."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.views.partial_repaint import repaint_rect

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


class PanelTitle(QLabel):
    """A one-line title that never widens its panel: too long for the width, it ends in "…" (the whole text
    is its tooltip), so a long note on one panel does not squeeze the others' columns."""

    def __init__(self, text: str):
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        """The full title; shown elided when the panel is narrower."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        """The full title (not the elided one on screen)."""
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.width() - 4
        shown = self._full if width <= 0 else self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideRight, width)
        super().setText(shown)


class Panel(QWidget):
    """A titled view. ``view_box`` pans/zooms, ``image_item`` shows the panel's main picture.

    Panels with ``layered=True`` (the overlay) keep the photo in ``image_item`` and show a colour layer in
    ``layer_item`` above it, so the opacity slider only changes the layer's opacity (no recolouring).
    """

    def __init__(self, key: str, title: str, *, layered: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.title = PanelTitle(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setObjectName("panelTitle")
        self.graphics_view = pg.GraphicsView(background=(30, 30, 30))
        self.view_box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view_box.setDefaultPadding(0.0)
        self.graphics_view.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.layer_item: pg.ImageItem | None = None
        if layered:
            self.layer_item = pg.ImageItem(axisOrder="row-major")
            self.layer_item.setZValue(1)
            self.view_box.addItem(self.layer_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics_view, 1)

    def show_rgb(self, rgb: np.ndarray | None, item: pg.ImageItem | None = None) -> None:
        """Show an RGB(A) uint8 array (or clear the panel with None) without rescaling levels."""
        item = item or self.image_item
        if rgb is None:
            item.clear()
            return
        item.setImage(rgb, autoLevels=False, levels=(0, 255))

    def update_rgb(self, rgb: np.ndarray, item: pg.ImageItem | None = None) -> None:
        """Re-render the same-sized array after an in-place change (keeps the view range)."""
        item = item or self.image_item
        item.updateImage(rgb, autoLevels=False, levels=(0, 255))

    def update_rect(self, rgb: np.ndarray, rect: tuple[int, int, int, int]) -> None:
        """Re-render only ``rect = (y0, y1, x0, x1)`` of the shown array after an in-place change there."""
        if self.image_item.image is not rgb:
            self.update_rgb(rgb)
            return
        repaint_rect(self.image_item, rect)

    def set_layer_opacity(self, opacity: float) -> None:
        """Opacity of the colour layer (overlay panel)."""
        if self.layer_item is not None:
            self.layer_item.setOpacity(float(opacity))

    def set_subtitle(self, text: str, *, highlight: bool = False) -> None:
        """Panel title with an extra note, e.g. the stride shown; ``highlight`` marks a special state
        (the original ground truth shown read-only) with a coloured title bar."""
        self.title.setStyleSheet("background: #ffd966; color: black; font-weight: bold;" if highlight else "")
        self.title.ensurePolished()  # the bold font, before the text is elided to fit
        self.title.setText(text)
