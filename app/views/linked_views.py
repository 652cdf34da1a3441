"""Pan/zoom shared by the image panels: one centre and one zoom (image pixels per screen pixel) for all.

pyqtgraph's own axis links line views up by their screen position (made for stacked plots): between image
panels of different sizes, with the aspect locked, they pushed each other's ranges further out on every
resize until the images were specks, and a panel spanning two rows showed its image at the top.
Here every visible panel shows the same centre at the same zoom, each in its own size. While the view is
"fitted" (after an image change or Fit image, until the user pans or zooms) a resize fits the image again;
after a user zoom or pan a resize keeps the user's centre and zoom.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QTimer


class LinkedViews(QObject):
    """Keeps the ``view_box`` of each visible panel (objects with ``view_box`` and ``isVisible()``) on one
    centre and zoom. ``fitted`` is True until the user pans or zooms one of them."""

    def __init__(self, panels, parent: QObject | None = None):
        super().__init__(parent)
        self.panels = list(panels)
        self.fitted = True
        self.image_size: tuple[int, int] | None = None  # (width, height) of the image shown
        self._centre = QPointF(0.0, 0.0)
        self._scale = 1.0  # image pixels per screen pixel
        self._applying = False
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)  # after the layout has resized every panel, not one by one
        self._relayout.timeout.connect(self.apply)
        for panel in self.panels:
            vb: pg.ViewBox = panel.view_box
            vb.disableAutoRange()  # the range is ours: items added later must not re-range a view
            vb.sigRangeChangedManually.connect(lambda _mask, vb=vb: self._user_moved(vb))
            vb.sigResized.connect(lambda _vb: self.schedule())

    def set_image_size(self, width: int, height: int, *, fit: bool) -> None:
        """The size of the image shown; ``fit``: zoom every panel to the whole image."""
        self.image_size = (int(width), int(height))
        if fit:
            self.fit()

    def schedule(self) -> None:
        """Re-apply the shared view once the event loop has laid the panels out (panels shown / hidden)."""
        self._relayout.start()

    def fit(self) -> None:
        """Zoom to the whole image (largest zoom at which it fits in every visible panel), centred."""
        self.fitted = True
        self.apply()

    def frame(self, x0: float, y0: float, x1: float, y1: float, *, context: float = 3.0,
              min_size: float = 48.0) -> None:
        """Centre every panel on the box (image coordinates, x1/y1 exclusive) and zoom so that it fills about
        1/``context`` of the smallest panel (at least ``min_size`` image pixels across; never beyond the
        fitted zoom). Counts as a user move: resizes keep it."""
        views = self._views()
        if not views or self.image_size is None:
            return
        self.fitted = False
        w = max(x1 - x0, min_size / context) * context
        h = max(y1 - y0, min_size / context) * context
        iw, ih = self.image_size
        fit = max(max(iw / vb.width(), ih / vb.height()) for vb in views)
        self._centre = QPointF((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        self._scale = min(max(max(w / vb.width(), h / vb.height()) for vb in views), fit)
        for vb in views:
            self._place(vb)

    def _views(self) -> list[pg.ViewBox]:
        return [p.view_box for p in self.panels
                if p.isVisible() and p.view_box.width() > 1 and p.view_box.height() > 1]

    def apply(self) -> None:
        """Put every visible view on the shared centre and zoom (re-fitting first while fitted)."""
        views = self._views()
        if not views or self.image_size is None:
            return
        if self.fitted:
            w, h = self.image_size
            self._centre = QPointF(w / 2.0, h / 2.0)
            self._scale = max(max(w / vb.width(), h / vb.height()) for vb in views)
        for vb in views:
            self._place(vb)

    def _place(self, vb: pg.ViewBox) -> None:
        half_w, half_h = vb.width() * self._scale / 2.0, vb.height() * self._scale / 2.0
        c = self._centre
        self._applying = True
        try:
            vb.setRange(xRange=(c.x() - half_w, c.x() + half_w), yRange=(c.y() - half_h, c.y() + half_h),
                        padding=0.0)
        finally:
            self._applying = False

    def _user_moved(self, source: pg.ViewBox) -> None:
        """A mouse pan or zoom in ``source``: the others follow, and resizes stop re-fitting."""
        if self._applying or source.width() <= 1:
            return
        rect = source.viewRect()
        self.fitted = False
        self._centre = rect.center()
        self._scale = rect.width() / source.width()
        for vb in self._views():
            if vb is not source:
                self._place(vb)
