"""A note centred over a widget while something it waits for is prepared (e.g. the demo data at first
start), so the window is never blank without a word."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget


class BusyNote(QLabel):
    """A rounded, centred message over ``host`` that follows its size and ignores the mouse."""

    def __init__(self, host: QWidget, text: str):
        super().__init__(text, host)
        self.setObjectName("busy_note")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)  # lines as given (no wrapping: sized to the text)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("QLabel#busy_note { background: rgba(30, 30, 30, 210); color: white; "
                           "font-size: 15px; padding: 18px 26px; border-radius: 8px; }")
        self._host = host
        host.installEventFilter(self)
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        self.adjustSize()
        self.move((self._host.width() - self.width()) // 2, (self._host.height() - self.height()) // 2)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def close(self) -> bool:  # noqa: D102 - also stops following the host
        self._host.removeEventFilter(self)
        self.hide()
        self.deleteLater()
        return True
