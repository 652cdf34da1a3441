"""Makes compare mode (View → Show original ground truth, O) visible: the ground-truth panel's title says
that the original is shown read-only. (An editing press in compare mode is refused by the editing canvas,
which shows ``PAINT_REFUSED`` instead of silently panning.)"""

from __future__ import annotations

from PySide6.QtCore import QObject

COMPARE_TITLE = "Original ground truth (read-only; O to edit)"
PAINT_REFUSED = "Showing the original ground truth, which is read-only: press O to edit the corrections."


class CompareNotice(QObject):
    """Watches the editing controller's ``compare_action`` on ``window`` (MainWindow) and retitles the GT."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.action = window.editing.compare_action
        self.action.toggled.connect(self._toggled)  # before the controller's triggered slot repaints the GT

    def _toggled(self, on: bool) -> None:
        self.window.grid.set_gt_title(COMPARE_TITLE if on else None)
