"""The editing controller on the real MainWindow, driven with mouse events on the panels (offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import settings
from app.editing import storage
from app.editing.saving import Saver
from app.tools import Mode
from fcn_core.data.labels import read_label
from fcn_core.demo_data import make_demo_dataset
from fcn_core.predictor import StrideResult
from tests import gui_helpers as gh


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "ds", count=3, size=(96, 72))


@pytest.fixture
def dataset_root(demo_root, tmp_path) -> Path:
    """A fresh copy per test, so saved corrections do not leak between tests."""
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(demo_root, root)
    return root


@pytest.fixture
def window(qtbot, dataset_root, tmp_path, monkeypatch):
    monkeypatch.setattr(Saver, "ask_overwrite", lambda self, target: True)
    w = gh.open_editing_window(qtbot, tmp_path, monkeypatch, dataset_root)
    yield w
    settings.use_ini_file(None)


def _key(qtbot, w, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(w, key, modifier)


def test_brush_stroke_undo_redo_save(qtbot, window, dataset_root):
    ed = window.editing
    doc = ed.document
    before = doc.labels.copy()
    _key(qtbot, window, Qt.Key.Key_B)
    assert ed.mode == Mode.BRUSH
    _key(qtbot, window, Qt.Key.Key_4)
    assert ed.label == 4
    ed.set_brush_size(5)
    gh.drag(window.panels["gt"], [(10, 20), (50, 20)])
    changed = doc.labels != before
    assert changed.any() and (doc.labels[20, 12:49] == 4).all()
    assert window.current_gt is doc.labels  # the GT panel shows the document's array
    assert doc.is_modified and window.windowTitle().endswith("*")
    shown = window.panels["gt"].image_item.image  # the GT panel shows class 4's colour where painted
    assert (shown[20, 30, :3] == window.palette[4]).all()
    _key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (doc.labels == before).all()
    _key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (doc.labels[20, 12:49] == 4).all()
    _key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not doc.is_modified, timeout=10000)
    saved = dataset_root / "corrections" / f"{ed.stem}.png"
    assert (read_label(saved) == doc.labels).all()
    original = dataset_root / "SegmentationClass" / f"{ed.stem}.png"
    assert (read_label(original) == before).all()  # the original ground truth is untouched
    assert window.dataset.sample(ed.stem).corrected


def test_navigate_mode_space_and_middle_drag_do_not_paint(qtbot, window):
    doc = window.editing.document
    before = doc.labels.copy()
    window.editing.set_mode(Mode.PAN)
    gh.drag(window.panels["gt"], [(10, 10), (40, 40)])
    window.editing.set_mode(Mode.BRUSH)
    gh.drag(window.panels["gt"], [(10, 10), (40, 40)], button=Qt.MouseButton.MiddleButton)
    qtbot.keyPress(window, Qt.Key.Key_Space)
    gh.drag(window.panels["gt"], [(10, 10), (40, 40)])
    qtbot.keyRelease(window, Qt.Key.Key_Space)
    assert (doc.labels == before).all() and not doc.can_undo
    gh.drag(window.panels["overlay"], [(10, 10), (40, 40)])  # the overlay panel edits the same labels
    assert (doc.labels != before).any()


def test_brush_outline_is_true_to_size(qtbot, window):
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    ed.set_brush_size(9)
    gh.mouse_move(window.panels["gt"], 30, 30)
    outline = ed.canvas.cursors[0]
    assert outline.isVisible() and outline.rect().width() == pytest.approx(9)
    _key(qtbot, window, Qt.Key.Key_BracketRight)
    assert ed.brush_size == 12
    rect = outline.rect()  # in image pixels (view coordinates), whatever the zoom; resized at once
    assert rect.width() == pytest.approx(12) and rect.center().x() == pytest.approx(30.5, abs=0.6)
    assert ed.canvas.cursors[1].rect() == rect  # mirrored on the overlay panel
    ed.set_mode(Mode.FILL)
    gh.mouse_move(window.panels["gt"], 31, 30)
    assert not outline.isVisible()


def test_failed_save_keeps_edits(qtbot, window, monkeypatch, dataset_root):
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    gh.drag(window.panels["gt"], [(5, 5), (30, 5)])
    edited = ed.document.labels.copy()

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "save_correction", disk_full)
    with qtbot.waitSignal(window.error_reported, timeout=10000) as blocker:
        _key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "No space left" in blocker.args[0] and ed.stem in blocker.args[0]
    assert ed.document.is_modified and (ed.document.labels == edited).all()
    assert not (dataset_root / "corrections" / f"{ed.stem}.png").exists()
    # switching image: the automatic save fails too; "stay" keeps the image and the edits
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "cancel")
    stem = ed.stem
    other = [s for s in window.dataset.stems if s != stem][0]
    window.show_stem(other)
    qtbot.wait(200)
    assert window.current_stem == stem and ed.document.is_modified and (ed.document.labels == edited).all()
    # closing: the save still fails; "discard" lets the window close (and stop its threads)
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    window.close()  # the save runs in the background; the window closes when it has failed and been discarded
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)


def test_switch_image_saves_corrections_and_compare_original(qtbot, window, dataset_root):
    ed = window.editing
    stem, original = ed.stem, ed.document.labels.copy()
    ed.set_mode(Mode.FILL)
    ed.label = 2
    gh.click(window.panels["gt"], 1, 1)
    edited = ed.document.labels.copy()
    assert (edited != original).any()
    other = [s for s in window.dataset.stems if s != stem][0]
    window.show_stem(other)
    qtbot.waitUntil(lambda: ed.stem == other, timeout=20000)
    assert (read_label(dataset_root / "corrections" / f"{stem}.png") == edited).all()
    window.show_stem(stem)
    qtbot.waitUntil(lambda: ed.stem == stem, timeout=20000)
    assert (ed.document.labels == edited).all() and not ed.document.is_modified  # corrections shown
    ed.compare_action.trigger()
    assert (window.current_gt == original).all()
    gh.drag(window.panels["gt"], [(5, 5), (30, 30)])  # comparing is read-only
    ed.compare_action.trigger()
    assert window.current_gt is ed.document.labels and (ed.document.labels == edited).all()
    ed.compare_action.trigger()  # switching image while comparing: the next image is editable again
    window.show_stem(other)
    qtbot.waitUntil(lambda: ed.stem == other, timeout=20000)
    assert not ed.compare_action.isChecked() and ed.canvas.enabled and window.current_gt is ed.document.labels


def test_overwrite_original_keeps_backup(qtbot, window, dataset_root):
    ed = window.editing
    ed.set_mode(Mode.ERASER)
    gh.drag(window.panels["gt"], [(5, 30), (40, 30)])
    ed.overwrite_action.trigger()
    gt_file = dataset_root / "SegmentationClass" / f"{ed.stem}.png"
    backups = list(gt_file.parent.glob(f"{gt_file.name}.bak-*"))
    assert len(backups) == 1
    assert (read_label(gt_file) == ed.document.labels).all()
    assert not (read_label(backups[0]) == ed.document.labels).all()
    assert not ed.document.is_modified


def test_accept_prediction_tools_use_current_stride(qtbot, window):
    ed = window.editing
    h, w = ed.document.shape
    pred = np.full((h, w), 7, np.uint8)
    zeros = np.zeros((h, w), np.float32)
    nines = np.full((h, w), 9, np.uint8)
    window.current_results = {8: StrideResult(pred, zeros, zeros), 32: StrideResult(nines, zeros, zeros)}
    window.current_stride = 8
    ed.set_mode(Mode.ACCEPT_BRUSH)
    ed.set_brush_size(3)
    gh.drag(window.panels["gt"], [(10, 10), (20, 10)])
    assert (ed.document.labels[10, 11:20] == 7).all()
    window.current_stride = 32
    ed.set_mode(Mode.ACCEPT_REGION)
    gh.click(window.panels["gt"], 50, 50)
    assert (ed.document.labels == 9).sum() > 0.5 * h * w  # the whole disagreeing region took stride 32
    ed.undo()
    assert not (ed.document.labels == 9).any()


def test_shortcut_sheet_and_unique_keys(qtbot, window):
    ed = window.editing
    ed.show_shortcuts()
    assert ed._sheet.isVisible()
    keys = {s.toString() for a in ed.tool_actions.values() for s in a.shortcuts()}
    assert {"B", "E", "F", "P", "I"} <= keys
    # no two actions in the window share a shortcut (Qt would make both ambiguous and fire neither)
    from PySide6.QtGui import QAction

    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            key = seq.toString()
            assert key not in seen, f"{key} on both {seen[key]!r} and {action.text()!r}"
            seen[key] = action.text()


def test_partial_repaint_updates_only_the_rect(qtbot):
    import pyqtgraph as pg

    from app.views.partial_repaint import repaint_rect

    view = pg.GraphicsView()
    qtbot.addWidget(view)
    box = pg.ViewBox(invertY=True)
    view.setCentralItem(box)
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 3] = 255
    item = pg.ImageItem(axisOrder="row-major")
    item.setImage(rgba, autoLevels=False, levels=(0, 255))
    box.addItem(item)
    view.show()
    assert not repaint_rect(item, (0, 1, 0, 1))  # nothing rendered yet: falls back to a full update
    view.viewport().repaint()
    qtbot.waitUntil(lambda: item.qimage is not None and not item._renderRequired)
    qimage_before = item.qimage
    item.image[10:12, 20:25] = (200, 30, 40, 255)
    assert repaint_rect(item, (10, 12, 20, 25))
    assert item.qimage is qimage_before and not item._renderRequired  # no full re-render
    assert item.qimage.pixelColor(22, 11).getRgb() == (200, 30, 40, 255)
    assert item.qimage.pixelColor(19, 11).getRgb() == (0, 0, 0, 255)


def test_export_from_the_app_includes_corrections(qtbot, window, tmp_path):
    ed = window.editing
    ed.set_mode(Mode.FILL)
    ed.label = 6
    gh.click(window.panels["gt"], 0, 0)
    edited, stem = ed.document.labels.copy(), ed.stem
    out = tmp_path / "exported"
    assert ed.jobs.start_export(out)  # unsaved edits are saved first, then exported in the background
    qtbot.waitUntil(lambda: not ed.jobs.busy() and ed.jobs.last_result is not None, timeout=60000)
    assert ed.jobs.last_error is None and not ed.jobs.last_result.get("stopped")
    assert (read_label(out / "SegmentationClass" / f"{stem}.png") == edited).all()


def test_finetune_from_the_app_reloads_the_new_model(qtbot, window, tmp_path):
    import torch

    from fcn_core.data.palette import voc_palette
    from fcn_core.models import build_model
    from fcn_core.weights import IMAGENET_PREPROCESSING, save_checkpoint

    torch.manual_seed(0)
    names = list(window.dataset.class_names)
    model = build_model("fcn32s", len(names), width=1 / 16)
    start = tmp_path / "start.safetensors"
    save_checkpoint(start, model, arch="fcn32s", class_names=names, palette=voc_palette(len(names)),
                    preprocessing=IMAGENET_PREPROCESSING, options={"width": 1 / 16, "batch_norm": False})
    window.open_models([str(start)])
    qtbot.waitUntil(lambda: window.model_set is not None, timeout=60000)
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    gh.drag(window.panels["gt"], [(5, 5), (40, 40)])
    assert ed.jobs.start_finetune(tmp_path / "tuned", max_iters=2, device="cpu")
    qtbot.waitUntil(lambda: not ed.jobs.busy() and bool(ed.jobs.last_result or ed.jobs.last_error),
                    timeout=240000)
    assert ed.jobs.last_error is None, ed.jobs.last_error
    best = Path(ed.jobs.last_result)
    assert best.is_file() and best.parent == tmp_path / "tuned"
    qtbot.waitUntil(lambda: [Path(p) for p in window.model_set.paths] == [best], timeout=60000)


def test_lasso_outline_follows_the_drag_and_fills_on_release(qtbot, window):
    ed = window.editing
    ed.set_mode(Mode.POLYGON)
    ed.label = 5
    panel = window.panels["gt"]
    vp = panel.graphics_view.viewport()
    pts = [(10, 10), (60, 10), (60, 50), (10, 50)]
    left = Qt.MouseButton.LeftButton
    gh._send(vp, gh.QEvent.Type.MouseButtonPress, gh.image_to_widget(panel, *pts[0]), left, left)
    for p in pts[1:]:
        gh._send(vp, gh.QEvent.Type.MouseMove, gh.image_to_widget(panel, *p), Qt.MouseButton.NoButton,
                 Qt.MouseButton.LeftButton)
    lasso = ed.canvas.lassos[0]
    assert lasso.isVisible() and lasso.path().boundingRect().width() == pytest.approx(50, abs=2)
    assert not (ed.document.labels[20:40, 20:50] == 5).all()  # nothing filled before release
    gh._send(vp, gh.QEvent.Type.MouseButtonRelease, gh.image_to_widget(panel, *pts[-1]),
             Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
    assert not lasso.isVisible()
    assert (ed.document.labels[12:48, 12:58] == 5).all()


def test_background_job_reports_progress_cancels_and_lanes_keep_order(qtbot):
    """app.jobs: one mechanism for every one-shot job (superqt workers): progress, cancel, result, errors,
    lanes in order, shutdown joins."""
    import time

    from app.jobs import JobRunner

    def job(progress, should_stop):
        for i in range(1000):
            progress(i, 1000)
            if should_stop():
                return {"stopped": True, "done": i}
            time.sleep(0.005)
        return {"stopped": False}

    runner = JobRunner()
    seen, results, errors = [], [], []
    task = runner.start(job, name="export", on_progress=seen.append, on_done=results.append)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=5000)
    assert task.isRunning() and runner.running("export") == [task]
    task.cancel()
    qtbot.waitUntil(lambda: len(results) == 1, timeout=10000)
    assert results[0]["stopped"] and results[0]["done"] < 999 and seen[0] == (0, 1000)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5000)
    # a lane runs its jobs one after another in the order asked, whatever each takes
    order = []

    def write(name, delay):
        def run(_progress, _stop):
            time.sleep(delay)
            order.append(name)
        return run

    for name, delay in (("a", 0.2), ("b", 0.0), ("c", 0.05)):
        runner.start(write(name, delay), name="save", lane="labels")
    runner.start(lambda _p, _s: 1 / 0, name="broken", on_error=errors.append)
    assert runner.join(10)
    assert order == ["a", "b", "c"] and errors and "ZeroDivisionError" in errors[0]
    # shutdown cancels and waits
    runner.start(job, name="fine-tune")
    qtbot.waitUntil(lambda: runner.busy(), timeout=5000)
    assert runner.shutdown(10) and not runner.busy()


def test_replace_class_dialog(qtbot, window):
    from PySide6.QtCore import QTimer

    ed = window.editing
    doc = ed.document
    source = int(np.bincount(doc.labels.ravel(), minlength=256)[:255].argmax())  # the commonest class
    count = int((doc.labels == source).sum())

    def answer():
        dialog = ed._replace_dialog
        dialog.source.setCurrentIndex(dialog.source.findData(source))
        dialog.target.setCurrentIndex(dialog.target.findData(255))
        dialog.accept()

    QTimer.singleShot(300, answer)
    ed.replace_class_dialog()
    assert not (doc.labels == source).any() and (doc.labels == 255).sum() >= count
    ed.undo()
    assert (doc.labels == source).sum() == count


def test_stroke_previews_the_dirty_rect_and_repaints_the_window_once(qtbot, window):
    ed = window.editing
    ed.set_mode(Mode.BRUSH)
    ed.label = 2
    ed.set_brush_size(3)
    emitted = []
    window.gt_labels_changed.connect(emitted.append)
    panel = window.panels["gt"]
    vp, left, none = panel.graphics_view.viewport(), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    gh._send(vp, gh.QEvent.Type.MouseButtonPress, gh.image_to_widget(panel, 10, 30), left, left)
    for x in (20, 30, 40):
        gh._send(vp, gh.QEvent.Type.MouseMove, gh.image_to_widget(panel, x, 30), none, left)
    shown = panel.image_item.image
    assert (shown[30, 15, :3] == window.palette[2]).all() and emitted == []  # live preview only
    gh._send(vp, gh.QEvent.Type.MouseButtonRelease, gh.image_to_widget(panel, 40, 30), left, none)
    assert len(emitted) == 1
    y0, y1, x0, x1 = emitted[0]
    assert y0 <= 29 and y1 >= 32 and x0 <= 9 and x1 >= 42  # the whole stroke
    assert (panel.image_item.image[30, 10:41, :3] == window.palette[2]).all()


def test_export_dialog_offers_every_format_and_writes_the_chosen_one(qtbot, window, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QComboBox

    from app.editing.background import EXPORT_FORMATS
    from fcn_core.data.formats.writers import FORMATS

    ed = window.editing
    out = tmp_path / "cvat"
    seen = {}

    def fill() -> None:
        form = ed.jobs.export_form
        combo = form.findChild(QComboBox)
        seen["formats"] = [combo.itemData(i) for i in range(combo.count())]
        combo.setCurrentIndex(seen["formats"].index("cvat-mask"))
        form.out.setText(str(out))
        form.accept()

    QTimer.singleShot(0, fill)
    ed.jobs.export_dialog()
    assert seen["formats"] == list(FORMATS) == list(EXPORT_FORMATS)
    qtbot.waitUntil(lambda: not ed.jobs.busy() and ed.jobs.last_result is not None, timeout=60000)
    assert ed.jobs.last_error is None and ed.jobs.last_result["format"] == "cvat-mask"
    assert (out / "labelmap.txt").is_file() and ed.jobs.last_result["verified"]["mismatches"] == 0
