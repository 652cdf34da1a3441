"""Help → Keyboard shortcuts (F1) lists every key of the window, read from the actions themselves."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence

from app.editing.shortcuts import key_text, window_key_rows
from tests import gui_helpers as gh


def test_sheet_lists_every_action_with_a_shortcut(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    from app import settings

    w = gh.open_test_window(qtbot, tmp_path, size=(1000, 700))
    try:
        ed = w.editing
        ed.show_shortcuts()
        assert ed._sheet.isVisible() and ed._sheet.windowTitle() == "Keyboard shortcuts"
        text = ed._sheet.label.text()
        actions = [a for a in w.findChildren(QAction) if a.shortcuts()]
        assert len(actions) > 30
        for action in actions:  # window actions (app/actions.py), tools, editing, digits, polygon keys
            row = f"<b>{html.escape(key_text(action))}</b>"
            assert row in text, f"{action.text()!r} ({key_text(action)}) missing from the sheet"
        for key in ("Ctrl+O", "Ctrl+1", "Ctrl+3", "PgDown", "Shift+F", "Ctrl+E", "C", "B", "Ctrl+S", "F1"):
            assert any(key in keys.split(", ") for _s, keys, _w in window_key_rows(w)), key
        sections = {s for s, _k, _w in window_key_rows(w)}
        assert {"File menu", "View menu", "Tools menu", "Edit menu", "Other keys"} <= sections
        # a shortcut changed at run time shows the next time the sheet opens (no list to keep in step)
        ed._sheet.close()
        w.actions.reset_view.setShortcut(QKeySequence("Ctrl+Alt+F"))
        ed.show_shortcuts()
        assert "<b>Ctrl+Alt+F</b>" in ed._sheet.label.text()
    finally:
        settings.use_ini_file(None)
