"""Fixes from the UX review: the browser keeps the image on screen in view (and the edited row in place),
save results stay visible, the read-out follows undo/redo/fill, score-based commands are disabled while
scores are withheld, File menu order, dialog start folders, the fine-tune dialog's path field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from app import file_actions, settings
from app.editing import background
from app.editing.saving import Saver
from app.editing.shortcuts import sheet_html
from app.main_window import MainWindow
from app.tools import Mode
from tests import gui_helpers as gh

TIMEOUT = 60_000
COUNT = 40  # more rows than the table shows, so "in view" means something


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(dataset folder, model with the dataset's classes, model with other names, class names)."""
    root = tmp_path_factory.mktemp("review")
    ds = gh.make_tiny_dataset(root / "ds", count=COUNT)
    names = (ds / "class_names.txt").read_text().split()
    same = gh.make_tiny_model(root / "models" / "same.safetensors", names)
    other = gh.make_tiny_model(root / "other.safetensors", [f"thing{i}" for i in range(len(names))])
    return ds, same, other, names


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, tiny):
    ds = tmp_path / "ds"
    shutil.copytree(tiny[0], ds)  # saved corrections stay in this test
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    monkeypatch.setattr(Saver, "ask_restore", lambda self, found: "later")
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.split_choice = "all"
    w.resize(1280, 780)
    w.show()
    w.test_dataset = ds
    yield w
    settings.use_ini_file(None)


def _open(qtbot, w, model, stem: str | None = None):
    w.initial_stem = stem
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_models([model])
        w.open_dataset(w.test_dataset)
    qtbot.waitUntil(lambda: w.editing.document is not None and w.current_results is not None, timeout=TIMEOUT)


def _current_row_in_view(w) -> bool:
    table = w.browser.table
    idx = table.currentIndex()
    return (idx.isValid() and w.browser.current_stem() == w.current_stem
            and table.viewport().rect().contains(table.visualRect(idx)))


def test_edited_row_stays_in_place_and_the_current_row_in_view(qtbot, window, tiny):
    w = window
    _open(qtbot, w, tiny[1], stem="demo_00030")  # like --image: a row far down the table
    assert _current_row_in_view(w)
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT):
        w.evaluate_dataset(show_panel=False)
    assert w.browser.stems_in_order() != sorted(w.dataset.stems)  # re-sorted worst first ...
    assert _current_row_in_view(w)  # ... and the image on screen is still in view
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.browser.select_stem("demo_00020")
    # the photo and labels come first; the scores need the image's own prediction
    qtbot.waitUntil(lambda: w.current_results is not None, timeout=TIMEOUT)
    row_before = w.browser.table.currentIndex().row()
    iu_before = w.browser.model.rows[w.browser.model.row_of("demo_00020")].scores[8]["mean_iu"]
    # strokes re-score the row: it shows the new IU but does not jump while the image is being edited
    ed = w.editing
    ed.set_mode(Mode.BRUSH)
    ed.select_class(0)
    ed.set_brush_size(64)
    for y in (8, 24, 40):
        gh.drag(w.panels["gt"], [(0, y), (63, y)])
        iu = w.browser.model.rows[w.browser.model.row_of("demo_00020")].scores[8]["mean_iu"]
        assert iu != iu_before
        assert w.browser.table.currentIndex().row() == row_before
        assert _current_row_in_view(w)
    shown = w.browser.table.currentIndex().siblingAtColumn(1).data()
    assert shown == f"{100 * iu:.1f}"  # the cell shows the new score at once
    # leaving the image: the edited row goes where its new score sorts, the new current row is in view
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.browser.select_stem("demo_00010")
    order = w.browser.stems_in_order()
    ius = [w.browser.model.rows[w.browser.model.row_of(s)].scores[8]["mean_iu"] for s in order]
    assert ius == sorted(ius)
    assert _current_row_in_view(w)


def test_save_result_stays_visible_with_its_path(qtbot, window, tiny):
    w = window
    _open(qtbot, w, tiny[1])
    ed = w.editing
    ed.set_mode(Mode.BRUSH)
    gh.drag(w.panels["gt"], [(5, 5), (40, 5)])
    qtbot.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not ed.document.is_modified, timeout=10_000)
    saved = w.test_dataset / "corrections" / f"{ed.stem}.png"
    gh.mouse_move(w.panels["gt"], 20, 20)  # hovering updates the read-out, never the message
    assert w.status_bar.currentMessage() == f"Saved corrections: {saved}"
    # the message area keeps room: the read-out no longer stretches over it
    leftmost = min(c.geometry().left() for c in (w.readout, ed.saver.indicator, w.device_label)
                   if c.isVisible())
    message_width = w.status_bar.fontMetrics().horizontalAdvance(w.status_bar.currentMessage())
    assert leftmost >= min(message_width, 450)
    assert "GT:" in w.readout.text()
    # once the message goes, an indicator says where, until the next edit
    w.status_bar.clearMessage()
    assert ed.saver.indicator.isVisible() and f"{ed.stem}.png" in ed.saver.indicator.text()
    assert str(saved) in ed.saver.indicator.toolTip()
    w.status_bar.showMessage("another message")
    assert not ed.saver.indicator.isVisible()  # a message gets the room
    w.status_bar.clearMessage()
    assert ed.saver.indicator.isVisible()
    gh.drag(w.panels["gt"], [(5, 30), (40, 30)])
    w.status_bar.clearMessage()
    assert not ed.saver.indicator.isVisible()


def test_readout_follows_undo_redo_and_fill_under_a_still_cursor(qtbot, window, tiny):
    w = window
    names = tiny[3]
    _open(qtbot, w, tiny[1])
    ed = w.editing
    x, y = 30, 20
    before = names[int(w.current_gt[y, x])]
    new = next(c for c in range(len(names)) if names[c] != before)
    ed.set_mode(Mode.BRUSH)
    ed.select_class(new)
    ed.set_brush_size(9)
    gh.drag(w.panels["gt"], [(x - 10, y), (x, y)])  # the stroke ends under the cursor
    assert f"GT: {names[new]}" in w.readout.text()
    ed.undo()
    assert f"GT: {before}" in w.readout.text()
    ed.redo()
    assert f"GT: {names[new]}" in w.readout.text()
    ed.set_mode(Mode.FILL)
    other = next(c for c in range(len(names)) if c != new)
    ed.select_class(other)
    gh.click(w.panels["gt"], x, y)
    assert f"GT: {names[other]}" in w.readout.text()
    # another image under the same cursor: described from that image
    with qtbot.waitSignal(w.predictions_changed, timeout=TIMEOUT):
        w.browser.step(1)
    assert f"GT: {names[int(w.current_gt[y, x])]}   " in w.readout.text()
    assert f"8s*: {names[int(w.current_results[8].labels[y, x])]}" in w.readout.text()


def test_score_commands_disabled_while_scores_are_withheld(qtbot, window, tiny):
    w = window
    _open(qtbot, w, tiny[2])  # same count, other names: scores withheld
    assert w.classes_differ
    ed = w.editing
    commands = [w.actions.evaluate, ed.tool_actions[Mode.ACCEPT_BRUSH], ed.tool_actions[Mode.ACCEPT_REGION]]
    for action in commands:
        assert not action.isEnabled()
        assert "classes differ" in action.toolTip() and "Score by class index" in action.toolTip()
    assert not w.evaluation.run_button.isEnabled()
    assert "classes differ" in w.evaluation.run_button.toolTip()
    qtbot.keyClick(w, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert ed.mode != Mode.ACCEPT_BRUSH  # the shortcut does nothing either
    w.banner.action_button.click()  # "Score by class index"
    assert not w.classes_differ
    for action in commands:
        assert action.isEnabled() and "classes differ" not in action.toolTip()
    assert w.evaluation.run_button.isEnabled()
    tip = w.evaluation.run_button.toolTip()
    assert tip and "classes differ" not in tip  # the panel's own tooltip is back
    # a model with other names again (a new pair): disabled; the matching model: enabled
    ed.set_mode(Mode.ACCEPT_REGION)
    with qtbot.waitSignal(w.models_opened, timeout=TIMEOUT):
        w.open_models([gh.make_tiny_model(w.test_dataset.parent / "other2.safetensors",
                                          [f"x{i}" for i in range(len(tiny[3]))], seed=2)])
    assert w.classes_differ and not w.actions.evaluate.isEnabled() and ed.mode == Mode.PAN
    with qtbot.waitSignal(w.models_opened, timeout=TIMEOUT):
        w.open_models([tiny[1]])
    assert not w.classes_differ and all(a.isEnabled() for a in commands)


def test_file_menu_dialog_folders_and_finetune_path(qtbot, window, tiny, monkeypatch):
    w = window
    _open(qtbot, w, tiny[1])
    items = [a for a in w.menus["file"].actions()]
    texts = [a.text().replace("&", "") for a in items]
    assert texts[-1] == "Quit" and items[-2].isSeparator()
    assert texts.index("Save corrections") < texts.index("Export dataset…") < texts.index("Quit")
    # the dialogs start beside the dataset / in the last model's folder, not in the working folder
    asked = {}
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, folder="": asked.setdefault("dataset", folder) and "")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda parent, caption, folder="", filt="": (
                            asked.setdefault("models", folder) and [], ""))
    w.actions.open_dataset.trigger()
    w.actions.open_models.trigger()
    assert Path(asked["dataset"]) == w.test_dataset.parent
    assert Path(asked["models"]) == Path(tiny[1]).parent
    # the fine-tune dialog shows its whole output path
    forms = []

    def fake_exec(form):
        form.show()
        forms.append(form)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(background._FolderForm, "exec", fake_exec)
    ed = w.editing
    ed.jobs.finetune_dialog()
    field = forms[0].out
    qtbot.waitUntil(field.isVisible)
    assert field.toolTip() == field.text()
    assert field.width() >= field.fontMetrics().horizontalAdvance(field.text()) + 8
    forms[0].close()


def test_shortcut_sheet_says_undo_is_per_image():
    text = sheet_html()
    # issue 13: each image keeps its undo steps across image switches, within a memory budget
    assert "keeps its history when you switch images" in text and "memory budget" in text


def test_dataset_start_folder_without_a_dataset_uses_the_last_one(tmp_path):
    settings.use_ini_file(str(tmp_path / "s.ini"))
    try:
        (tmp_path / "data" / "a").mkdir(parents=True)
        settings.add_recent("datasets", [str(tmp_path / "data" / "a")])

        class NoDataset:
            dataset = None

        assert Path(file_actions.dataset_start_folder(NoDataset())) == tmp_path / "data"
        assert file_actions.models_start_folder(NoDataset()) == ""
    finally:
        settings.use_ini_file(None)


def test_held_row_sorts_by_its_old_scores_until_released(qtbot):
    from app.browser import ImageBrowser

    b = ImageBrowser()
    qtbot.addWidget(b)
    stems = [f"s{i}" for i in range(5)]
    b.set_dataset(stems, ["a"], splits={"val": stems[:4]}, split="val")
    for i, s in enumerate(stems):
        b.model.update_row(s, scores={8: {"mean_iu": i / 10}})
    b.sort_worst_first()
    b.select_stem("s2", emit=False)
    b.model.update_row("s2", scores={8: {"mean_iu": 0.9}, 16: {"mean_iu": 0.05}})
    assert b.stems_in_order() == ["s0", "s1", "s2", "s3"]  # held: still where it was
    b.model.set_stride(16)  # a stride it had no score for sorts at once
    assert b.stems_in_order()[0] == "s2"
    b.model.set_stride(8)
    assert not b.select_stem("s4")  # on screen but filtered out: s2 is released and sorts by its new IU
    assert b.stems_in_order() == ["s0", "s1", "s3", "s2"]


def test_screenshot_is_suggested_outside_the_working_folder_and_saved_or_reported(qtbot, window, tiny,
                                                                                  monkeypatch, tmp_path):
    w = window
    _open(qtbot, w, tiny[1])
    suggested = Path(file_actions.screenshot_default_path(w))
    assert suggested.name == f"fcn-studio-{w.current_stem}-{w.current_stride}s.png"
    assert suggested.parent.is_dir() and suggested.parent != Path.cwd()
    target = tmp_path / "shot.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    file_actions.save_screenshot(w)
    assert target.is_file() and str(target) in w.status_bar.currentMessage()
    errors = []
    w.error_reported.connect(errors.append)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "missing" / "shot.png"), ""))
    file_actions.save_screenshot(w)
    assert errors and "Cannot save the screenshot" in errors[0]
