"""Issue 14 item 5: NYUDv2 (depth / HHA panels, the depth fed to the net) and SIFT Flow (the Task toggle:
labels, prediction, legend, scores and corrections per task) in the real window, offscreen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("scipy.io")

from app import settings  # noqa: E402
from app.editing import storage  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from fcn_core.data import open_dataset  # noqa: E402
from fcn_core.data.labels import read_label  # noqa: E402
from fcn_core.data.task_view import GEOMETRIC_PALETTE, task_dataset  # noqa: E402
from fcn_core.predictor import Predictor  # noqa: E402
from fcn_core.weights import load_model  # noqa: E402
from tests import gui_helpers as gh  # noqa: E402
from tests.paper_app_fixtures import make_nyud, make_siftflow, save_tiny_model  # noqa: E402


def _open(qtbot, tmp_path, monkeypatch, data: Path, weights: Path) -> MainWindow:
    gh.isolate_user_state(monkeypatch, tmp_path)
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.resize(1280, 760)
    w.show()
    w.open_models([weights])
    w.open_dataset(data)
    qtbot.waitUntil(lambda: w.model_set is not None and w.current_results is not None
                    and w.editing.document is not None, timeout=60000)
    return w


@pytest.fixture
def sift_window(qtbot, tmp_path, monkeypatch):
    root = make_siftflow(tmp_path / "sift-flow", h=36, w=48)
    weights = save_tiny_model(tmp_path / "sift.safetensors", "siftflow-fcn16s", open_dataset(root))
    w = _open(qtbot, tmp_path, monkeypatch, root, weights)
    yield w, root, weights
    settings.use_ini_file(None)


def _switch(qtbot, w, task: str) -> None:
    w.task_switch.selector.buttons[task].click()
    qtbot.waitUntil(lambda: w.workspace.task == task and w.current_results is not None
                    and w.editing.document is not None and w.editing.document.labels is w.current_gt,
                    timeout=30000)


def test_task_toggle_switches_labels_prediction_legend_scores_and_corrections(qtbot, sift_window):
    w, root, weights = sift_window
    ds = open_dataset(root)
    assert w.task_switch.selector.isVisible() and list(w.task_switch.selector.buttons) == ["sem", "geo"]
    stem = w.current_stem
    assert np.array_equal(w.current_gt, ds.label(stem)) and w.legend.dataset_rows == 33
    qtbot.waitUntil(lambda: stem in w.workspace.book.rows, timeout=30000)
    sem_book = w.workspace.book
    sem_row = sem_book.rows[stem][16]
    assert len(sem_row["per_class_iu"]) == 33

    _switch(qtbot, w, "geo")
    geo_gt = task_dataset(ds, "geo").label(stem)
    assert np.array_equal(w.current_gt, geo_gt)  # the GT panel shows the geometric labels
    assert w.class_names == ["sky", "horizontal", "vertical"] and w.legend.dataset_rows == 3
    assert "sky" in w.legend.item(0, 0).text()
    expected = Predictor(load_model(weights), device="cpu").predict_tasks(ds.image(stem))
    assert np.array_equal(w.current_results[16].labels, expected["geo"][16].labels)
    shown = w.panels["pred"].image_item.image  # the prediction panel in the geometric colours
    lab = expected["geo"][16].labels
    assert (shown[..., :3] == GEOMETRIC_PALETTE[lab]).all()
    gt_shown = w.panels["gt"].image_item.image
    assert (gt_shown[1, 1, :3] == GEOMETRIC_PALETTE[geo_gt[1, 1]]).all()
    qtbot.waitUntil(lambda: stem in w.workspace.book.rows, timeout=30000)
    geo_book = w.workspace.book
    assert geo_book is not sem_book and geo_book.class_names == ["sky", "horizontal", "vertical"]
    geo_row = geo_book.rows[stem][16]
    correct = ((lab == geo_gt) & (geo_gt != 255)).sum() / (geo_gt != 255).sum()
    assert geo_row["pixel_acc"] == pytest.approx(correct)
    row = w.browser.model.rows[w.browser.model._index[stem]]
    assert row.scores[16]["pixel_acc"] == pytest.approx(correct)  # the browser row shows the task's scores

    # paint "horizontal" on the geometric labels and save: corrections/geo/<stem>.png only
    ed = w.editing
    qtbot.keyClick(w, Qt.Key.Key_B)
    ed.label = 1
    ed.set_brush_size(3)
    gh.drag(w.panels["gt"], [(5, 3), (30, 3)])
    assert (ed.document.labels[3, 8:28] == 1).all()
    _geo_edit_is_autosaved_apart(qtbot, w, root, stem)
    qtbot.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not ed.document.is_modified, timeout=10000)
    saved = root / "corrections" / "geo" / f"{stem}.png"
    assert (read_label(saved) == ed.document.labels).all()
    assert not (root / "corrections" / f"{stem}.png").exists()  # the semantic labels are left alone

    _switch(qtbot, w, "sem")
    assert np.array_equal(w.current_gt, ds.label(stem)) and w.legend.dataset_rows == 33
    assert w.workspace.book is sem_book and sem_book.rows[stem][16] == sem_row
    assert np.array_equal(w.current_results[16].labels, expected["sem"][16].labels)
    _switch(qtbot, w, "geo")  # the saved geometric correction is the label in use now
    assert (w.current_gt[3, 8:28] == 1).all() and w.workspace.book is geo_book
    _geo_recovery_restores_into_geo(qtbot, w, root, stem)


def _geo_edit_is_autosaved_apart(qtbot, w, root: Path, stem: str) -> None:
    """Unsaved geometric edits are autosaved to their own recovery file, never to the semantic one."""
    ed = w.editing
    ed.saver.autosave()
    qtbot.waitUntil(lambda: not w.jobs.busy(), timeout=10000)
    geo_file = ed.saver.recovery_file(stem)
    sem_file = storage.recovery_path(ed.saver.recovery_dir, root.resolve(), stem)
    assert geo_file.exists() and geo_file != sem_file and not sem_file.exists()
    (rec,) = storage.list_recoveries(ed.saver.recovery_dir)
    assert rec.task == "geo" and np.array_equal(rec.labels, ed.document.labels)
    assert "geo labels" in rec.describe()


def _geo_recovery_restores_into_geo(qtbot, w, root: Path, stem: str) -> None:
    """A geometric recovery file found at start restores into the geometric labels (the window switches task),
    and leaves the semantic labels alone."""
    ed = w.editing
    _switch(qtbot, w, "sem")
    sem_labels = ed.document.labels.copy()
    geo = task_dataset(open_dataset(root), "geo")
    lost = read_label(root / "corrections" / "geo" / f"{stem}.png").copy()
    lost[10:20, 10:30] = 2  # an edit the crashed session had not saved
    path = storage.recovery_path(ed.saver.recovery_dir, root.resolve(), stem, "geo")
    storage.write_recovery(path, lost, dataset_root=root.resolve(), stem=stem, original=geo.label(stem),
                           task="geo")
    ed.saver.apply_restore_choice("restore", storage.list_recoveries(ed.saver.recovery_dir))
    qtbot.waitUntil(lambda: w.workspace.task == "geo" and ed.document is not None
                    and ed.document.labels is w.current_gt and np.array_equal(ed.document.labels, lost),
                    timeout=30000)
    assert ed.document.is_modified
    _switch(qtbot, w, "sem")  # leaving saves the restored geometric labels; the semantic ones are untouched
    assert np.array_equal(ed.document.labels, sem_labels)
    assert np.array_equal(read_label(root / "corrections" / "geo" / f"{stem}.png"), lost)


def test_nyud_depth_panel_and_the_depth_fed_to_the_net(qtbot, tmp_path, monkeypatch):
    root = make_nyud(tmp_path / "nyud", h=36, w=48)
    ds = open_dataset(root)
    weights = save_tiny_model(tmp_path / "rgbd.safetensors", "nyud-fcn32s-color-d", ds)
    w = _open(qtbot, tmp_path, monkeypatch, root, weights)
    try:
        stem = w.current_stem
        assert not w.task_switch.selector.isVisible()
        depth_panel = w.panels["depth"]
        qtbot.waitUntil(lambda: depth_panel.isVisible(), timeout=10000)
        d = ds.depth(stem)
        near, far = np.percentile(d, 1) / 1000, np.percentile(d, 99) / 1000
        title = depth_panel.title.text()
        assert title == f"Depth red {near:.2f} – blue {far:.2f} m"
        assert w.panels["hha"].isVisible()
        assert np.array_equal(w.panels["hha"].image_item.image[..., :3], ds.hha(stem))
        expected = Predictor(load_model(weights), device="cpu").predict(ds.image(stem), extra={"depth": d})
        assert np.array_equal(w.current_results[32].labels, expected[32].labels)
    finally:
        settings.use_ini_file(None)
