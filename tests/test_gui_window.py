"""The inspection window driven headless: start-up, stride toggle from cache, navigation, sorting,
class filter, corrupt images, evaluation and the confusion matrix."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import settings
from tests.gui_helpers import make_tiny_dataset, make_tiny_model, mouse_move, open_test_window

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(dataset folder, model file, class names) shared by the tests of this module."""
    root = tmp_path_factory.mktemp("tiny")
    ds = make_tiny_dataset(root / "ds", count=6)
    names = (ds / "class_names.txt").read_text().split()
    model = make_tiny_model(root / "multi.safetensors", names)
    return ds, model, names


@pytest.fixture
def window(qtbot, tmp_path):
    # no evaluation on open: these tests score rows themselves (auto: tests/test_gui_auto.py); the whole tiny
    # dataset, not its 1-image val split (test_gui_splits.py)
    yield open_test_window(qtbot, tmp_path, size=(1200, 800), split="all")
    settings.use_ini_file(None)


def open_all(qtbot, window, data, models=None):
    """Open a dataset (and model) and wait until the first image is on screen (with predictions)."""
    with qtbot.waitSignal(window.first_view_ready, timeout=TIMEOUT):
        if models:
            window.open_models(models)
        window.open_dataset(data)


def test_startup_shows_image_gt_and_predictions(qtbot, window, tiny):
    ds, model, names = tiny
    open_all(qtbot, window, ds, [model])
    assert window.current_stem == "demo_00000"
    h, w = window.current_image.shape[:2]
    assert window.current_gt.shape == (h, w)
    assert set(window.current_results) == {32, 16, 8}
    assert window.current_stride == 8
    for key in ("image", "gt", "pred", "overlay"):
        img = window.panels[key].image_item.image
        assert img is not None and img.shape[:2] == (h, w), key
    # the prediction panel shows the palette colours of the 8s labels (LUT colouring)
    shown = window.panels["pred"].image_item.image
    labels = window.current_results[8].labels
    assert np.array_equal(shown[..., :3], window.palette[labels])
    assert window.class_names == names
    assert window.legend.rowCount() == len(names) + 1  # the classes, then the void row
    void_row = window.legend.item(len(names), 0)
    assert void_row.text() == "void" and not void_row.flags() & Qt.ItemFlag.ItemIsSelectable
    assert "cpu" in window.device_label.text()
    assert window.browser.model.rows[0].scores[8]["mean_iu"] >= 0.0
    assert settings.recent("datasets")[0] == [str(ds)]


def test_stride_toggle_uses_cache_without_worker_request(qtbot, window, tiny):
    ds, model, _ = tiny
    open_all(qtbot, window, ds, [model])
    requests, computed = window.client.latest_id, window.client.stats["computed"]
    seen = []
    window.stride_changed.connect(seen.append)
    window.controls.strides.buttons[32].click()
    assert window.current_stride == 32
    assert np.array_equal(window.panels["pred"].image_item.image[..., :3],
                          window.palette[window.current_results[32].labels])
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_stride == 16
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_stride == 8 and window.controls.strides.buttons[8].isChecked()
    qtbot.wait(50)
    assert seen == [32, 16, 8]
    assert window.client.latest_id == requests
    assert window.client.stats["computed"] == computed
    assert window.cache.hits >= 1


def test_next_previous_keys_and_readout(qtbot, window, tiny):
    ds, model, names = tiny
    open_all(qtbot, window, ds, [model])
    with qtbot.waitSignal(window.predictions_changed, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.current_stem == "demo_00001"
    with qtbot.waitSignal(window.predictions_changed, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.current_stem == "demo_00002"
    with qtbot.waitSignal(window.current_image_changed, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_A)
    assert window.current_stem == "demo_00001"
    gt_class = names[int(window.current_gt[10, 20])]
    mouse_move(window.panels["gt"], 20, 10)
    text = window.readout.text()
    assert "x 20  y 10" in text and f"GT: {gt_class}" in text and "8s*:" in text and "conf" in text


def test_sorting_puts_worst_first_and_unknown_last(qtbot, window, tiny):
    ds, model, _ = tiny
    open_all(qtbot, window, ds, [model])
    m = window.browser.model
    for stem, iu in (("demo_00001", 0.7), ("demo_00002", 0.1), ("demo_00003", 0.4)):
        m.update_row(stem, scores={8: {"mean_iu": iu, "pixel_acc": 0.5, "error_frac": 0.5, "mean_conf": 0.9}})
    first_iu = m.rows[0].scores[8]["mean_iu"]
    window.browser.sort_worst_first()
    order = window.browser.stems_in_order()
    known = sorted([(0.7, "demo_00001"), (0.1, "demo_00002"), (0.4, "demo_00003"), (first_iu, "demo_00000")])
    assert order[:4] == [s for _, s in known]
    assert set(order[4:]) == {"demo_00004", "demo_00005"}  # never scored: last
    window.browser.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    order = window.browser.stems_in_order()
    assert order[:4] == [s for _, s in reversed(known)] and set(order[4:]) == {"demo_00004", "demo_00005"}
    # next image follows the table order
    window.browser.select_stem(order[0])
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.browser.current_stem() == order[1]


def test_class_filter_legend_and_extra_panels(qtbot, window, tiny):
    ds, model, names = tiny
    open_all(qtbot, window, ds, [model])
    qtbot.waitUntil(lambda: all(r.classes is not None for r in window.browser.model.rows), timeout=TIMEOUT)
    present = window.browser.model.rows[0].classes
    absent = [c for c in range(len(names)) if all(c not in r.classes for r in window.browser.model.rows)]
    cls = sorted(present)[-1]
    window.browser.class_combo.setCurrentIndex(cls + 1)
    shown = window.browser.stems_in_order()
    assert shown and all(cls in window.browser.model.rows[window.browser.model.row_of(s)].classes
                         for s in shown)
    if absent:
        window.browser.class_combo.setCurrentIndex(absent[0] + 1)
        assert window.browser.stems_in_order() == []
    # legend click shows only one class: every other class turns grey on the GT panel
    window.legend.cellClicked.emit(cls, 0)
    gt_rgb = window.panels["gt"].image_item.image[..., :3]
    others = (window.current_gt != cls) & (window.current_gt != 255)
    assert (gt_rgb[others] == (40, 40, 40)).all()
    assert (gt_rgb[window.current_gt == cls] == window.palette[cls]).all()
    window.legend.cellClicked.emit(cls, 0)
    assert np.array_equal(window.panels["gt"].image_item.image[..., :3], window.palette[window.current_gt])
    # error and confidence panels
    window.actions.show_error.setChecked(True)
    window.actions.show_confidence.setChecked(True)
    err = window.panels["error"].layer_item.image
    wrong = (window.current_gt != window.current_results[8].labels) & (window.current_gt != 255)
    assert np.array_equal(err[..., 3] > 0, wrong)
    assert window.panels["confidence"].image_item.image.shape[:2] == window.current_gt.shape


def test_corrupt_image_reported_rest_still_work(qtbot, window, tiny, tmp_path):
    ds, model, _ = tiny
    copy = tmp_path / "ds"
    shutil.copytree(ds, copy)
    (copy / "JPEGImages" / "demo_00001.jpg").write_bytes(b"this is not a JPEG")
    open_all(qtbot, window, copy, [model])
    with qtbot.waitSignal(window.error_reported, timeout=TIMEOUT) as blocker:
        window.browser.select_stem("demo_00001")
    assert "demo_00001" in blocker.args[0]
    row = window.browser.model.rows[window.browser.model.row_of("demo_00001")]
    assert row.error and "demo_00001" in window.status_bar.currentMessage()
    box = window.error_box.box
    assert box is not None and box.isVisible() and not box.isModal() and "demo_00001" in box.text()
    with qtbot.waitSignal(window.predictions_changed, timeout=TIMEOUT):
        window.browser.select_stem("demo_00002")
    assert window.current_stem == "demo_00002" and window.current_results is not None
    # a whole-dataset evaluation skips the bad image and scores the rest
    with qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        window.evaluate_dataset()
    result = done.args[0]
    assert result.images == 5 and [s for s, _ in result.failed] == ["demo_00001"]


def test_evaluation_metrics_confusion_click_and_worst_first(qtbot, window, tiny):
    ds, model, names = tiny
    open_all(qtbot, window, ds, [model])
    with qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        window.evaluate_dataset()
    result = done.args[0]
    assert result.images == 6 and not result.cancelled
    for s in (32, 16, 8):
        assert set(result.scores[s]) >= {"pixel_acc", "mean_acc", "mean_iu", "fw_iu"}
        assert result.matrices[s].sum() > 0
    ious = [window.browser.model.rows[window.browser.model.row_of(s)].scores[8]["mean_iu"]
            for s in window.browser.stems_in_order()]
    assert ious == sorted(ious)
    assert window.evaluation.table.rowCount() == 3
    cm = result.matrices[8]
    g, p = np.unravel_index(np.argmax(cm - np.diag(np.diag(cm))), cm.shape)
    window.evaluation.confusion.cell_clicked.emit(int(g), int(p))
    cells = window.evaluation.cell_list
    listed = [cells.item(i).data(256) for i in range(cells.count())]
    assert listed and set(listed) <= set(window.dataset.stems)
    assert window.legend.item(0, 2).text() != "–" or np.isnan(window.evaluation.per_class_iu(8)[0])


def test_drop_folder_and_weights_then_recent_menu(qtbot, window, tiny):
    from app import file_actions

    ds, model, _ = tiny
    with qtbot.waitSignal(window.first_view_ready, timeout=TIMEOUT):
        file_actions.open_dropped(window, [str(model), str(ds), str(ds / "class_names.txt")])
    assert window.model_set is not None and window.dataset is not None
    file_actions.fill_recent_menu(window.recent_menu, window)
    texts = [a.text() for a in window.recent_menu.actions()]
    assert f"Dataset: {ds}" in texts and f"Model: {model.name}" in texts
