"""The evaluation dock: plots say why they are empty until a result, then fit the classes; all four metrics
visible at the default width; confusion labels, colour scale, hover text and the outlined clicked cell; the
Tools action and run button name the split they evaluate."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtWidgets import QToolBar, QToolButton

from app import settings
from app.evaluation_panel import EvaluationPanel
from app.evaluation_run import EvaluationRun
from app.inference_client import InferenceClient
from app.workspace import Workspace
from tests.gui_helpers import click, make_tiny_dataset, mouse_move, open_test_window

NAMES = ["sky", "building", "pedestrian", "bicyclist"]
TIMEOUT = 60_000


class FakeDataset:
    """Three 8×8 images; the GT is class (column // 2)."""

    stems = ["a", "b", "c"]

    def image(self, stem):
        return np.zeros((8, 8, 3), np.uint8)

    def label(self, stem):
        return np.tile(np.arange(8, dtype=np.uint8) // 2, (8, 1))


class FakeModels:
    """Predicts the GT except that pedestrians come out as bicyclists; waits on ``gate`` before each image."""

    strides = (32, 16, 8)
    num_classes = len(NAMES)
    class_names = NAMES
    model_id = "fake"

    def __init__(self):
        self.gate = threading.Event()

    def predict(self, image):
        assert self.gate.wait(30)
        labels = np.tile(np.arange(8, dtype=np.uint8) // 2, (8, 1))
        labels[labels == 2] = 3
        conf = np.ones((8, 8), np.float32)
        return {s: SimpleNamespace(labels=labels, confidence=conf) for s in self.strides}


@pytest.fixture
def panel(qtbot):
    client = InferenceClient()
    client.worker.dataset = FakeDataset()  # set before any request reaches the worker's thread
    p = EvaluationPanel(EvaluationRun(client, Workspace()))
    qtbot.addWidget(p)
    p.resize(1280, 330)  # the dock under the panels at the default 1280x800 window
    p.show()
    qtbot.waitExposed(p)
    p.gates = []
    yield p
    for gate in p.gates:  # a test that failed mid-run must not leave the worker waiting
        gate.set()
    p.shutdown()
    client.shutdown()


def _run(qtbot, panel, release=True):
    models = FakeModels()
    panel.gates.append(models.gate)
    palette = np.zeros((256, 3), np.uint8)
    palette[:4] = [[70, 130, 180], [128, 0, 0], [64, 64, 0], [0, 128, 192]]
    panel.worker.workspace.set_models(models)  # the inference worker runs the model, the panel shows it
    panel.worker.client.worker.models = models
    assert panel.start(FakeDataset(), models, FakeDataset.stems, palette)
    if release:
        with qtbot.waitSignal(panel.evaluation_finished, timeout=TIMEOUT):
            models.gate.set()
    return models


def test_plots_say_why_empty_while_running_then_fit_the_classes(qtbot, panel):
    for view in (panel.confusion, panel.iu_chart):
        assert not view.showing_plot() and "appears when an evaluation finishes" in view.message.text()
        assert view.message.isVisible() and not view.plot.isVisible()
    models = _run(qtbot, panel, release=False)
    assert panel.running
    assert "Evaluating all images: 0 / 3 images" in panel.confusion.message.text()
    assert not panel.confusion.showing_plot() and not panel.iu_chart.showing_plot()
    with qtbot.waitSignal(panel.evaluation_finished, timeout=TIMEOUT):
        models.gate.set()
    n = len(NAMES)
    assert panel.confusion.showing_plot() and panel.confusion.plot.isVisible()
    (x0, x1), (y0, y1) = panel.confusion.plot.getPlotItem().vb.viewRange()
    assert (x0, x1, y0, y1) == pytest.approx((0, n, 0, n), abs=1e-6)
    (_, _), (y0, y1) = panel.iu_chart.plot.getPlotItem().vb.viewRange()
    assert panel.iu_chart.showing_plot() and (y0, y1) == pytest.approx((-0.5, n - 0.5), abs=1e-6)


def test_all_four_metrics_visible_at_the_default_dock_width(qtbot, panel):
    _run(qtbot, panel)
    table = panel.table
    header = table.horizontalHeader()
    assert table.rowCount() == 3 and table.columnCount() == 4
    right = header.sectionViewportPosition(3) + header.sectionSize(3)
    assert right <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    fm = header.fontMetrics()
    for c in range(4):  # every header name fits in its column
        assert header.sectionSize(c) >= fm.horizontalAdvance(table.horizontalHeaderItem(c).text()), c
    assert "frequency-weighted" in table.horizontalHeaderItem(3).toolTip()


def test_confusion_names_scale_hover_and_outlined_cell(qtbot, panel):
    _run(qtbot, panel)
    cv = panel.confusion
    left = [text for _p, text in cv.plot.getAxis("left")._tickLevels[0]]
    assert left == [f"{i} {name}" for i, name in enumerate(NAMES)]  # full names, never cut
    bottom = cv.bottom_tick_labels()
    assert bottom in (NAMES, [str(i) for i in range(len(NAMES))])
    if bottom != NAMES:  # numbers under the columns: the axis title says what they are
        assert "class number" in cv.plot.getAxis("bottom").labelText
    assert "share of the GT class" in cv.scale.getAxis("left").labelText  # the colour scale says what it is
    assert [t for _p, t in cv.scale.axis._tickLevels[0]] == ["0", "0.05", "0.2", "0.5", "1"]
    text = cv.cell_text(2, 3)
    assert "pedestrian" in text and "bicyclist" in text and "100.0% of pedestrian" in text
    view = SimpleNamespace(view_box=cv.plot.getPlotItem().vb, graphics_view=cv.plot)
    mouse_move(view, 3, 2)
    assert cv.plot.toolTip() == text
    with qtbot.waitSignal(cv.cell_clicked, timeout=5000) as clicked:
        click(view, 3, 2)  # pixel (x=3, y=2): prediction bicyclist, GT pedestrian
    assert clicked.args == [2, 3]
    assert cv.selection.isVisible() and cv.selection.rect().getRect() == (3, 2, 1, 1)
    assert panel.cell_list.count() == 3
    assert "pedestrian predicted as bicyclist (8s)" in panel.cell_label.text()
    panel.stride_group.button(16).click()  # another stride keeps the cell and lists its images
    assert cv.selection.isVisible() and "(16s)" in panel.cell_label.text()
    _run(qtbot, panel)  # a new result: nothing outlined, nothing listed
    assert not cv.selection.isVisible() and panel.cell_list.count() == 0


@pytest.fixture
def window(qtbot, tmp_path):
    yield open_test_window(qtbot, tmp_path)
    settings.use_ini_file(None)


def test_evaluate_action_and_button_name_the_split(qtbot, window, tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=10)  # splits: train 8, val 2
    with qtbot.waitSignal(window.first_view_ready, timeout=TIMEOUT):
        window.open_dataset(ds)
    action = window.actions.evaluate
    assert action.text() == "&Evaluate val"
    assert action.toolTip() == "Score the 2 labelled images of val at every stride"
    assert window.evaluation.run_button.text() == "Evaluate val"
    assert window.evaluation.run_button.toolTip() == action.toolTip()
    buttons = [b for bar in window.findChildren(QToolBar) for b in bar.findChildren(QToolButton)
               if b.defaultAction() is action]
    assert buttons and all(b.text() == "Evaluate val" for b in buttons)
    window.browser.set_split("train")
    assert action.text() == "&Evaluate train" and "8 labelled images of train" in action.toolTip()
    window.browser.set_split("all")
    assert action.text() == "&Evaluate all images"
    assert action.toolTip() == "Score all 10 labelled images at every stride"
    # a disabled action keeps the reason it was given; re-enabled, it names the split again
    action.setEnabled(False)
    action.setToolTip("Not evaluated: the classes differ")
    assert action.toolTip() == "Not evaluated: the classes differ"
    action.setEnabled(True)
    action.setToolTip("Score every image at every stride in the background")  # a stale tip put back
    assert action.toolTip() == "Score all 10 labelled images at every stride"
