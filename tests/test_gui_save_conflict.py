"""Two windows editing the same image: the second save never silently replaces the first one's labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app import settings
from app.editing import storage
from app.editing.saving import Saver
from app.main_window import MainWindow
from app.tools import Mode
from fcn_core.data.labels import read_label, write_palette_png
from tests import gui_helpers as gh


def test_file_stamp_and_changed_on_disk(tmp_path):
    path = tmp_path / "a.png"
    assert storage.file_stamp(path) is None
    assert storage.changed_on_disk(path, None) is None  # nothing there: nothing to lose
    labels = np.zeros((8, 8), np.uint8)
    write_palette_png(path, labels)
    assert storage.changed_on_disk(path, None) is not None  # appeared since we looked
    known = storage.file_stamp(path)
    assert storage.changed_on_disk(path, known) is None
    labels[2, 2] = 3
    write_palette_png(path, labels)
    assert storage.changed_on_disk(path, known) == storage.file_stamp(path)
    path.unlink()
    assert storage.changed_on_disk(path, known) is None  # deleted: writing again loses nothing
    folder, stem = storage.conflict_copy(tmp_path, "a")
    assert folder == tmp_path / "conflicts" and stem.startswith("a-")


@pytest.fixture
def two_windows(qtbot, tmp_path, monkeypatch):
    root = gh.make_tiny_dataset(tmp_path / "ds", count=2, size=(64, 48))
    gh.isolate_user_state(monkeypatch, tmp_path)
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)
    # pytest-qt closes the windows (saving) while this answer is still patched in: never a modal box
    monkeypatch.setattr(Saver, "ask_conflict", lambda self, path, other: "overwrite", raising=False)
    windows = []
    for _ in range(2):
        w = MainWindow(device="cpu")
        qtbot.addWidget(w)
        w.resize(1000, 700)
        w.show()
        w.open_dataset(root)
        windows.append(w)
    for w in windows:
        qtbot.waitUntil(lambda w=w: w.editing.document is not None and w.current_stem is not None,
                        timeout=30000)
    assert windows[0].current_stem == windows[1].current_stem
    yield root, windows
    settings.use_ini_file(None)


def _paint(window, label: int, y: int) -> np.ndarray:
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    ed.label = label
    ed.set_brush_size(5)
    gh.drag(window.panels["gt"], [(4, y), (60, y)])
    return ed.document.labels == label


def test_second_window_save_asks_instead_of_replacing(qtbot, two_windows, monkeypatch):
    root, (a, b) = two_windows
    stem = a.current_stem
    target = root / "corrections" / f"{stem}.png"
    painted_a = _paint(a, 4, 10)
    a.editing.save_action.trigger()
    qtbot.waitUntil(lambda: not a.editing.document.is_modified, timeout=10000)
    painted_b = _paint(b, 7, 30)
    assert painted_a.sum() > 100 and painted_b.sum() > 100
    asked: list[Path] = []
    answers = iter(["cancel", "copy", "overwrite"])

    def ask(self, path, other):
        asked.append(path)
        return next(answers)

    monkeypatch.setattr(Saver, "ask_conflict", ask, raising=False)
    b.editing.save_action.trigger()  # cancel: A's labels stay
    qtbot.wait(300)
    assert asked == [target]
    assert (read_label(target)[painted_a] == 4).all(), "the other window's painted pixels were lost"
    assert b.editing.document.is_modified
    # switching image after a cancel stays on the image (and keeps both versions)
    asked.clear()
    answers = iter(["cancel"])
    other = [s for s in b.dataset.stems if s != stem][0]
    b.show_stem(other)
    qtbot.wait(300)
    assert asked == [target] and b.current_stem == stem and b.editing.document.is_modified
    # save as a copy: B's labels go to corrections/conflicts, A's file stays the correction in use
    answers = iter(["copy"])
    b.editing.save_action.trigger()
    qtbot.waitUntil(lambda: not b.editing.document.is_modified, timeout=10000)
    copies = list((root / "corrections" / "conflicts").glob(f"{stem}-*.png"))
    assert len(copies) == 1 and (read_label(copies[0])[painted_b] == 7).all()
    assert (read_label(target)[painted_a] == 4).all()
    assert "copy" in b.status_bar.currentMessage()
    # overwrite: B's labels replace A's, then B's own later saves do not ask again
    _paint(b, 9, 40)
    answers = iter(["overwrite"])
    asked.clear()
    b.editing.save_action.trigger()
    qtbot.waitUntil(lambda: not b.editing.document.is_modified, timeout=10000)
    assert asked == [target] and (read_label(target) == b.editing.document.labels).all()
    _paint(b, 3, 20)
    b.editing.save_action.trigger()
    qtbot.waitUntil(lambda: not b.editing.document.is_modified, timeout=10000)
    assert asked == [target]  # our own file: no question
    # and now A is the one behind: its save (on image switch) asks too
    _paint(a, 5, 44)
    asked.clear()
    answers = iter(["cancel"])
    assert not a.editing.saver.save_now()
    assert asked == [target] and (read_label(target) == b.editing.document.labels).all()
    monkeypatch.setattr(Saver, "ask_conflict", lambda self, path, other: "overwrite")  # for the closing


def test_file_created_by_another_window_after_opening_counts(qtbot, two_windows, monkeypatch):
    """B opened the image before any correction existed; A then saved one: B's save must ask."""
    root, (a, b) = two_windows
    stem = a.current_stem
    painted_a = _paint(a, 4, 10)
    assert a.editing.saver.save_now()
    _paint(b, 7, 30)
    monkeypatch.setattr(Saver, "ask_conflict", lambda self, path, other: "cancel", raising=False)
    assert not b.editing.saver.save_now()
    assert (read_label(root / "corrections" / f"{stem}.png")[painted_a] == 4).all()
    monkeypatch.setattr(Saver, "ask_conflict", lambda self, path, other: "overwrite")  # for the closing
