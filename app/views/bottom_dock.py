"""The bottom (evaluation) dock never takes the image panels' room.

Its content scrolls instead of setting the dock's minimum height (the evaluation panel needs ~320 px, which
left the panels ~80 px tall in a 1024x640 window), and whenever the dock is shown or the window resized,
the dock gives back height until the panels have at least ``PANEL_SHARE`` of the window's height.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QVBoxLayout, QWidget

PANEL_SHARE = 0.45  # of the window's height, kept for the panels
MIN_DOCK_HEIGHT = 140  # a title, the run button and a few lines stay visible


class ScrollingDockContent(QScrollArea):
    """A dock's content that scrolls when the dock is shorter than the content's minimum height.

    The content sits in a holder whose ``setWindowTitle`` names the dock (a panel that titles "the dock
    holding it" through its parent widget keeps doing so)."""

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.holder = _DockHolder()
        self.holder.setWidget(content)
        self.setWidget(self.holder)


class _DockHolder(QWidget):
    def __init__(self):
        super().__init__()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - the Qt name panels look for
        """The one widget held."""
        self._layout.addWidget(widget)

    def setWindowTitle(self, title: str) -> None:  # noqa: N802 - Qt API
        """Titles the dock this content is in."""
        super().setWindowTitle(title)
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None:
            parent.setWindowTitle(title)


class PanelRoom(QObject):
    """Keeps ``grid`` (the panels) at least ``PANEL_SHARE`` of ``window``'s height against ``dock``."""

    def __init__(self, window: QMainWindow, grid: QWidget, dock: QDockWidget):
        super().__init__(window)
        self.window, self.grid, self.dock = window, grid, dock
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after the layout has given everyone their new sizes
        self._timer.timeout.connect(self.enforce)
        self._just_shown = False
        dock.visibilityChanged.connect(self._visibility_changed)
        window.installEventFilter(self)

    def _visibility_changed(self, visible: bool) -> None:
        if visible:
            self._just_shown = True
            self._timer.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if obj is self.window and event.type() == QEvent.Type.Resize:
            self._timer.start()
        return False

    def natural_height(self) -> int:
        """The dock's height at which its content needs no scrolling."""
        content = self.dock.widget()
        inner = content.widget() if isinstance(content, QScrollArea) else content
        frame = self.dock.height() - content.height()  # title bar and margins
        return inner.minimumSizeHint().height() + max(frame, 0)

    def enforce(self) -> None:
        """Shrink the dock (not below ``MIN_DOCK_HEIGHT``) until the panels have their share; when shown or
        when the window grows, let it have its natural height again where that leaves the share."""
        dock, window = self.dock, self.window
        if not dock.isVisible() or dock.isFloating():
            return
        if window.dockWidgetArea(dock) not in (Qt.DockWidgetArea.BottomDockWidgetArea,
                                               Qt.DockWidgetArea.TopDockWidgetArea):
            return
        height, natural = dock.height(), self.natural_height()
        allowed = height + self.grid.height() - math.ceil(PANEL_SHARE * window.height()) - 2
        if self._just_shown:
            self._just_shown = False
            target = min(natural, allowed)
        elif height > allowed:
            target = allowed
        elif height < natural:
            target = min(natural, allowed)
        else:
            return
        target = max(MIN_DOCK_HEIGHT, target)
        if target != height:
            window.resizeDocks([dock], [target], Qt.Orientation.Vertical)
