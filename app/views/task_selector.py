"""Segmented Semantic / Geometric control for two-headed nets (hidden for the usual one-headed ones)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QWidget

from fcn_core.data.task_view import task_title


class TaskSelector(QWidget):
    """Emits ``task_selected(str)`` ("sem" / "geo") when the user picks a task (whoever holds it shows it only
    for two tasks)."""

    task_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.setSpacing(0)
        self._layout.addWidget(QLabel("Task "))
        self.buttons: dict[str, QToolButton] = {}
        self.group.buttonClicked.connect(self._clicked)
        self.set_tasks(())

    def set_tasks(self, tasks) -> None:
        """One button per task ("semantic", "geometric")."""
        tasks = tuple(tasks)
        if tasks != tuple(self.buttons):
            for b in self.buttons.values():
                self.group.removeButton(b)
                b.deleteLater()
            self.buttons = {}
            for task in tasks:
                b = QToolButton(self)
                b.setText(task_title(task))
                b.setCheckable(True)
                b.setToolTip(f"Show the {task_title(task)} head: its labels, prediction, classes and scores")
                b.setObjectName("taskButton")
                b.setProperty("task", task)
                self.group.addButton(b)
                self._layout.addWidget(b)
                self.buttons[task] = b

    def set_task(self, task: str) -> None:
        """Check a task's button without emitting."""
        b = self.buttons.get(task)
        if b is not None:
            b.setChecked(True)

    def _clicked(self, button) -> None:
        self.task_selected.emit(str(button.property("task")))
