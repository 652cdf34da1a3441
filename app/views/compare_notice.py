"""Makes compare mode (View → Show original ground truth, O) visible: the ground-truth panel's title says
that the original is shown read-only, and a left press of an editing tool on the edited panels shows a
status-bar message instead of silently panning the view."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication

from app.tools import Mode

COMPARE_TITLE = "Original ground truth (read-only; O to edit)"
PAINT_REFUSED = "Showing the original ground truth, which is read-only: press O to edit the corrections."


class CompareNotice(QObject):
    """Watches the editing controller's ``compare_action`` on ``window`` (MainWindow)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.action = window.editing.compare_action
        self._space = False
        self._refused_press = False
        self.action.toggled.connect(self._toggled)  # before the controller's triggered slot repaints the GT
        self._viewports = [window.panels[key].graphics_view.viewport() for key in ("gt", "overlay")]
        app = QApplication.instance()
        if app is not None:  # app-wide: sees the viewports' mouse events and space held anywhere
            app.installEventFilter(self)
            window.destroyed.connect(lambda *_a, app=app: app.removeEventFilter(self))

    def _toggled(self, on: bool) -> None:
        self.window.grid.set_gt_title(COMPARE_TITLE if on else None)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = kind == QEvent.Type.KeyPress
            return False
        if obj not in self._viewports or kind not in (
                QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
                QEvent.Type.MouseButtonRelease):
            return False
        if kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            refused = self._refused_press  # the rest of a refused press goes nowhere either
            if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
                self._refused_press = False
            return refused
        if (event.button() != Qt.MouseButton.LeftButton or not self.action.isChecked() or self._space
                or self.window.editing.mode == Mode.PAN):
            return False
        self._refused_press = True
        self.window.status_bar.showMessage(PAINT_REFUSED, 6000)
        return True
