"""A persistent, dismissible warning strip shown above the panels (e.g. model and dataset classes differ)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class WarningBanner(QFrame):
    """Yellow strip with a message, an optional action button and a close button; stays until dismissed or
    cleared."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("warningBanner")
        self.setStyleSheet("#warningBanner { background: #fff3c4; border: 1px solid #d9b200; }"
                           "#warningBanner QLabel { color: #3d3000; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss this warning")
        self.close_button.clicked.connect(self.dismiss)
        self.action_button = QPushButton()
        self.action_button.clicked.connect(self._act)
        self.action_button.hide()
        self._on_action = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 3, 3)
        layout.addWidget(QLabel("⚠"))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.dismissed: set[str] = set()  # messages the user closed: not shown again this session
        self.hide()

    def show_message(self, text: str, action: tuple[str, object] | None = None) -> None:
        """Show ``text`` unless the user already dismissed this very message; ``action`` is an optional
        (button text, callback) offered next to it."""
        self.label.setText(text)
        self._on_action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.setVisible(text not in self.dismissed)

    def clear(self) -> None:
        """Hide the banner (the condition it warned about is gone)."""
        self.label.setText("")
        self._on_action = None
        self.action_button.hide()
        self.hide()

    def _act(self) -> None:
        callback = self._on_action
        if callback is not None:
            callback()

    def dismiss(self) -> None:
        """The close button: hide and remember the message."""
        self.dismissed.add(self.label.text())
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()
