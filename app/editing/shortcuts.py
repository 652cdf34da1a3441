"""The editing tools' keys in one table, and the shortcut sheet (Help → Keyboard shortcuts, F1).

The sheet lists every key of the window from the QActions themselves (their current shortcuts, grouped by
the menu they are in), so a new or moved shortcut shows up without anyone editing a list here; only keys
that are not actions (mouse gestures, Space) are written out below.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMenu, QScrollArea, QVBoxLayout, QWidget

from app.tools import Mode

#: (mode, menu text, key, tip)
TOOL_SHORTCUTS: tuple[tuple[Mode, str, str, str], ...] = (
    (Mode.PAN, "&Navigate", "V", "Left-drag pans the view (no editing)"),
    (Mode.BRUSH, "&Brush", "B", "Paint the selected class with a round brush"),
    (Mode.ERASER, "&Eraser", "E", "Paint void (ignored in training and scoring)"),
    (Mode.FILL, "&Fill", "F", "Fill the connected region of one label under the click"),
    (Mode.POLYGON, "&Polygon / lasso", "P",
     "Click the vertices one by one (double-click, Enter or the first vertex closes and fills), "
     "or drag around a region (release fills it) — either way with the selected class"),
    (Mode.PICKER, "Class p&icker", "I", "Click a pixel to select its class"),
    (Mode.ACCEPT_BRUSH, "&Accept prediction (brush)", "Shift+A", "Paint the current stride's prediction"),
    (Mode.ACCEPT_REGION, "Accept prediction (&region)", "Shift+R",
     "Click an error region (prediction ≠ labels) to take the prediction there"),
    (Mode.REPLACE, "&Replace class", "R", "Click a pixel: its class becomes the selected class everywhere"),
    (Mode.GRABCUT, "&GrabCut refine", "G",
     "Drag a box around an object's outline: GrabCut re-fits the selected class inside it to the photo"),
    (Mode.SCISSORS, "Intelligent &scissors", "S",
     "Click points along an outline (the path follows the edges); double-click or Enter fills it with "
     "the selected class"),
    (Mode.SUPERPIXEL, "S&uperpixel brush", "U", "Paint whole superpixels (computed once per image) with "
     "the selected class"),
    (Mode.SUBTRACT, "Cut &hole (lasso)", "Shift+P",
     "Drag around part of the selected class: its pixels inside become void"),
    (Mode.FILL_HOLES, "Fill ho&les", "H", "Click an object: everything it encloses takes its class"),
    (Mode.SAM, "Segment &Anything (click)", "Shift+S",
     "Click an object: Segment Anything's mask takes the selected class (optional package + checkpoint)"),
)

#: Compact tool-bar labels (the menu keeps the long text; tips give the key).
TOOL_BAR_TEXT: dict[Mode, str] = {
    Mode.PAN: "Navigate", Mode.BRUSH: "Brush", Mode.ERASER: "Eraser", Mode.FILL: "Fill",
    Mode.POLYGON: "Polygon", Mode.PICKER: "Picker", Mode.ACCEPT_BRUSH: "Accept brush",
    Mode.ACCEPT_REGION: "Accept region", Mode.REPLACE: "Replace", Mode.GRABCUT: "GrabCut",
    Mode.SCISSORS: "Scissors", Mode.SUPERPIXEL: "Superpixels", Mode.SUBTRACT: "Cut hole",
    Mode.FILL_HOLES: "Fill holes", Mode.SAM: "SAM",
}

#: Other keys, in the order the sheet lists them.
OTHER_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("0 … 9", "Select class 0 … 9 (more classes: the searchable class list in the tool bar)"),
    ("[  /  ]", "Brush smaller / bigger"),
    ("Enter, double-click",
     "Polygon / scissors: close the outline in progress and fill it (3 points at least)"),
    ("Backspace", "Polygon / scissors: remove the last vertex / anchor"),
    ("Esc", "Polygon / scissors: cancel the outline in progress (nothing is filled)"),
    ("Ctrl+Z", "Undo (one stroke, fill or assisted edit per step, at least 100 steps). Each image keeps its "
               "history when you switch images, within a memory budget (Edit → Undo memory for other "
               "images…, oldest images dropped first); it is restored if the labels on disk are unchanged"),
    ("Ctrl+Shift+Z, Ctrl+Y", "Redo"),
    (".  /  ,", "Next / previous error region (Regions dock; switches image and frames the region)"),
    ("Y", "Accept the prediction inside the current error region (one undo step; marks it reviewed)"),
    ("M", "Mark the current error region reviewed (again: unmark); kept per dataset"),
    ("Ctrl+S", "Save corrections (a palette PNG in the dataset's corrections folder)"),
    ("O", "Compare: show the original ground truth instead of the corrected labels"),
    ("Space + left drag, middle drag", "Pan while a tool is active; wheel zooms; right drag zooms too"),
)

POLICY = (
    "Unsaved edits are saved to the corrections folder automatically when you switch image or close the "
    "window (the original ground truth is never touched; File → Overwrite original ground truth… does that "
    "explicitly, keeping a .bak copy). If that save fails you are asked to retry, discard or stay. "
    "Unsaved edits are also written to a recovery folder every 30 seconds; after a crash the next start "
    "offers to restore them."
)


def sheet_html(window: QWidget | None = None) -> str:
    """The shortcut sheet as HTML: with ``window``, every action's current keys by menu, then the keys that
    are not actions (mouse, Space) and notes; without, the editing tools' table. The saving policy always."""
    if window is not None:
        notes = [f"<tr><td><b>{key}</b></td><td>{text}</td></tr>" for key, text in OTHER_SHORTCUTS
                 if key.startswith(("Space", "Ctrl+Z", "0 "))]
        body = (window_keys_html(window)
                + f"<h3>Mouse and notes</h3><table cellspacing='6'>{''.join(notes)}</table>")
    else:
        rows = [f"<tr><td><b>{key}</b></td><td>{text.replace('&', '')} — {tip}</td></tr>"
                for _mode, text, key, tip in TOOL_SHORTCUTS]
        rows += [f"<tr><td><b>{key}</b></td><td>{text}</td></tr>" for key, text in OTHER_SHORTCUTS]
        body = f"<h3>Editing tools</h3><table cellspacing='6'>{''.join(rows)}</table>"
    return f"{body}<h3>Saving</h3><p>{POLICY}</p>"


def _menu_actions(menu: QMenu) -> Iterable[QAction]:
    for action in menu.actions():
        if action.menu() is not None:
            yield from _menu_actions(action.menu())
        elif not action.isSeparator():
            yield action


def key_text(action: QAction) -> str:
    """The action's shortcuts as the user types them ("Ctrl+Shift+Z, Ctrl+Y")."""
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())


def window_key_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(section, keys, what it does) for every action of ``window`` that has a shortcut: those in a menu
    under the menu's title, the others (class digits, polygon keys) under "Other keys"."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for menu in getattr(window, "menus", {}).values():
        title = menu.title().replace("&", "")
        for action in _menu_actions(menu):
            if action.shortcuts() and id(action) not in seen:
                seen.add(id(action))
                rows.append((f"{title} menu", key_text(action), _describe(action)))
    for action in window.findChildren(QAction):
        if action.shortcuts() and id(action) not in seen:
            seen.add(id(action))
            rows.append(("Other keys", key_text(action), _describe(action)))
    return rows


def _describe(action: QAction) -> str:
    text = action.text().replace("&", "").rstrip("…")
    tip = action.statusTip()
    return f"{text} — {tip}" if tip and tip != text else text


def window_keys_html(window: QWidget) -> str:
    """Every key of the window, from its actions, as HTML sections."""
    sections: dict[str, list[str]] = {}
    for section, keys, what in window_key_rows(window):
        sections.setdefault(section, []).append(
            f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>")
    return "".join(f"<h3>{html.escape(name)}</h3><table cellspacing='6'>{''.join(rows)}</table>"
                   for name, rows in sections.items())


class ShortcutSheet(QDialog):
    """A small non-modal window listing every key of ``parent`` (re-read each time it is shown, as tools
    may have moved a key) and the saving policy."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.label = label = QLabel(sheet_html(parent))
        label.setWordWrap(True)
        label.setContentsMargins(6, 6, 6, 6)
        scroll = QScrollArea()  # the whole sheet stays reachable on a small screen
        scroll.setWidgetResizable(True)
        scroll.setWidget(label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(640, min(820, screen.height() - 60) if screen else 720)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.label.setText(sheet_html(self.parentWidget()))
        super().showEvent(event)
