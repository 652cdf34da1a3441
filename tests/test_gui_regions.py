"""The Regions dock through the real window with the bundled trained model: the evaluation fills the
dataset-wide list, the shown image's regions come at the shown stride, next / previous (``.`` / ``,``) switch
image and frame the region in every panel, ``Y`` accepts the prediction in the region (one undo step), ``M``
marks it reviewed (a sidecar JSON restored when the dataset reopens), a confusion cell filters the list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import settings
from app.region_list import SIDECAR
from fcn_core.data.labels import read_label, write_palette_png
from fcn_core.data.palette import voc_palette
from tests.gui_helpers import isolate_user_state, make_tiny_dataset, open_test_window

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = make_tiny_dataset(tmp_path_factory.mktemp("regions") / "ds", count=5, size=(96, 64))
    # erase the largest object of every image from its label: the model still sees it, so each image has a
    # (background → object class) error region the test can count on
    for png in sorted((root / "SegmentationClass").glob("*.png")):
        labels = read_label(png).copy()
        classes, counts = np.unique(labels[(labels != 0) & (labels != 255)], return_counts=True)
        if classes.size:
            labels[labels == classes[np.argmax(counts)]] = 0
        write_palette_png(png, labels, voc_palette())
    return root


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, data):
    ds = tmp_path / "ds"
    shutil.copytree(data, ds)
    isolate_user_state(monkeypatch, tmp_path)
    w = open_test_window(qtbot, tmp_path, split="all")
    w.test_dataset = ds
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_models([DEMO_MODEL])
        w.open_dataset(ds)
    qtbot.waitUntil(lambda: w.current_results is not None and w.editing.document is not None, timeout=TIMEOUT)
    yield w
    settings.use_ini_file(None)


def _evaluate(qtbot, w):
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT):
        w.evaluate_dataset(show_panel=True)
    qtbot.waitUntil(lambda: not w.regions.computing and not w.regions._timer.isActive(), timeout=TIMEOUT)


def _key(qtbot, w, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(w, key, modifier)


def test_shown_image_regions_at_the_shown_stride(qtbot, window):
    w, rr = window, window.regions
    qtbot.waitUntil(lambda: bool(rr.regions.regions_of(w.current_stem)), timeout=TIMEOUT)
    assert {e.region.stride for e in rr.regions.regions_of(w.current_stem)} == {w.current_stride}
    w.set_stride(32)
    qtbot.waitUntil(lambda: {e.region.stride for e in rr.regions.regions_of(w.current_stem)} == {32},
                    timeout=TIMEOUT)


def test_evaluation_fills_the_list_and_keys_walk_it(qtbot, window):
    w, rr = window, window.regions
    _evaluate(qtbot, w)
    stems = {e.stem for e in rr.regions.entries()}
    assert len(stems) == 5  # every image has its erased object as a region
    assert rr.panel.table.rowCount() == len(rr.regions.entries())
    entries = rr.regions.entries()
    for _ in range(len(entries) + 1):  # walk until a region on another image than the one shown
        _key(qtbot, w, Qt.Key.Key_Period)
        if rr.current.stem != entries[0].stem or len(stems) == 1:
            break
    target = rr.current
    qtbot.waitUntil(lambda: w.current_stem == target.stem and w.editing.stem == target.stem, timeout=TIMEOUT)
    x0, y0, x1, y1 = target.region.box
    qtbot.waitUntil(lambda: rr.highlights[0].isVisible(), timeout=TIMEOUT)
    for panel in (w.panels["gt"], w.panels["pred"]):  # framed in every panel: centred on the region
        rect = panel.view_box.viewRect()
        assert rect.center().x() == pytest.approx((x0 + x1) / 2, abs=1)
        assert rect.center().y() == pytest.approx((y0 + y1) / 2, abs=1)
        assert rect.contains(x0, y0) and rect.contains(x1 - 1, y1 - 1)
    before = rr.current.key
    _key(qtbot, w, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)  # back (Shift+N) …
    _key(qtbot, w, Qt.Key.Key_N)  # … and forward again (N): the same region
    qtbot.waitUntil(lambda: rr.current is not None and rr.current.key == before, timeout=TIMEOUT)


def test_accept_is_one_undo_step_and_reviewed_survives_reopening(qtbot, window):
    w, rr = window, window.regions
    qtbot.waitUntil(lambda: bool(rr.regions.regions_of(w.current_stem)), timeout=TIMEOUT)
    entry = max(rr.regions.regions_of(w.current_stem), key=lambda e: e.region.area)
    rr.go_to(entry)
    doc = w.editing.document
    before = doc.labels.copy()
    mask = entry.region.full_mask(doc.shape)
    pred = w.current_results[entry.region.stride].labels
    _key(qtbot, w, Qt.Key.Key_Y)
    assert (doc.labels[mask] == pred[mask]).all() and (doc.labels[~mask] == before[~mask]).all()
    assert entry.key in rr.regions.reviewed  # accepting marks it reviewed
    w.editing.undo()
    assert (doc.labels == before).all() and not doc.can_undo
    # M on another region, then reopen the dataset: both marks come back from the sidecar
    qtbot.waitUntil(lambda: not rr._timer.isActive() and not rr.computing, timeout=TIMEOUT)
    other = next(e for e in rr.regions.entries() if e.key != entry.key) if len(rr.regions.entries()) > 1 \
        else entry
    rr.go_to(other)
    _key(qtbot, w, Qt.Key.Key_M)
    sidecar = w.editing.saver.corrections_dir() / SIDECAR
    saved = set(json.loads(sidecar.read_text())["reviewed"])
    assert {entry.key, other.key} <= saved
    _key(qtbot, w, Qt.Key.Key_M)  # again: unmarked, and saved so
    assert other.key not in set(json.loads(sidecar.read_text())["reviewed"]) or other.key == entry.key
    _key(qtbot, w, Qt.Key.Key_M)
    rr.regions.reviewed = set()
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.open_dataset(w.test_dataset)
    assert {entry.key, other.key} <= rr.regions.reviewed


def test_bad_sidecar_is_reported_with_its_file(qtbot, window):
    w = window
    sidecar = w.editing.saver.corrections_dir() / SIDECAR
    sidecar.parent.mkdir(parents=True, exist_ok=True)
    sidecar.write_text("{not json")
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.open_dataset(w.test_dataset)
    assert w.regions.error is not None and str(sidecar) in w.regions.error
    assert sidecar.read_text() == "{not json"  # not overwritten by opening


def test_confusion_cell_filters_the_list(qtbot, window):
    w, rr = window, window.regions
    _evaluate(qtbot, w)
    pairs = rr.regions.pairs()
    t, p = pairs[0]
    w.evaluation.confusion.cell_clicked.emit(t, p)
    assert rr.regions.pair == (t, p) and rr.dock.isVisible()
    shown = rr.regions.entries()
    assert shown and all(e.pair == (t, p) for e in shown)
    assert rr.panel.table.rowCount() == len(shown)
    assert rr.panel.pair_combo.currentData() == (t, p)
    rr.panel.pair_combo.activated.emit(0)  # "all class pairs"
    assert rr.regions.pair is None and len(rr.regions.entries()) >= len(shown)
