"""Cursor read-out: position, ground-truth class, predicted class per stride and confidence."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QWidget

VOID = 255
#: The read-out's fixed width: the status bar's message area (save results, errors) keeps the rest.
WIDTH = 480


class CursorReadout(QLabel):
    """A one-line label updated from the window's state when the mouse moves over any panel.

    It has a fixed width (longer texts are elided) so it never takes the status bar's message area, and it
    remembers the pixel it describes: :meth:`refresh` re-reads it when the labels change under a still
    cursor (undo, redo, fill)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedWidth(WIDTH)
        self.setText("")
        self.position: tuple[int, int] | None = None  # image pixel described, None when outside
        self.confidence_note = ""  # e.g. "no confidence stored": said instead of conf/margin numbers

    @staticmethod
    def describe(x: int, y: int, class_names: list[str], gt, results: dict | None, stride: int | None,
                 pred_names: list[str] | None = None, confidence_note: str = "") -> str:
        """The read-out text for image pixel (x, y); empty outside the image. ``pred_names``: the model's
        class names when they differ from the dataset's (``class_names`` then names only the ground truth)."""

        def name(c: int, names: list[str] = class_names) -> str:
            if c == VOID:
                return "void"
            return names[c] if 0 <= c < len(names) else str(c)

        parts = [f"x {x}  y {y}"]
        if gt is not None:
            parts.append(f"GT: {name(int(gt[y, x]))}")
        for s, res in sorted((results or {}).items(), reverse=True):
            mark = "*" if s == stride else ""
            parts.append(f"{s}s{mark}: {name(int(res.labels[y, x]), pred_names or class_names)}")
        if results and stride in results and confidence_note:
            parts.append(confidence_note)
        elif results and stride in results:
            res = results[stride]
            parts.append(f"conf {float(res.confidence[y, x]):.2f}  margin {float(res.margin[y, x]):.2f}")
        return "   ".join(parts)

    def show_at(self, x: int, y: int, shape: tuple[int, int] | None, class_names, gt, results,
                stride, pred_names: list[str] | None = None) -> None:
        """Update for image pixel (x, y) given the image shape (H, W); clears outside the image."""
        if shape is None or not (0 <= y < shape[0] and 0 <= x < shape[1]):
            self.position = None
            self.setText("")
            return
        self.position = (x, y)
        text = self.describe(x, y, class_names, gt, results, stride, pred_names, self.confidence_note)
        self.setText(text)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        """The text elided at the right when it is wider than the fixed width (the tooltip has it all)."""
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    def refresh(self, shape, class_names, gt, results, stride, pred_names: list[str] | None = None) -> None:
        """Describe the remembered pixel again from the current state (nothing when none is shown)."""
        if self.position is not None:
            self.show_at(*self.position, shape, class_names, gt, results, stride, pred_names)
