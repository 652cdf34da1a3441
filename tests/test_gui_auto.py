"""Two tool-bar rows that fit at 1280 px, evaluation on open (worst first, paused for the image on screen),
and a model whose classes differ from the dataset's (banner, model colours, no scores)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app import auto_evaluation, settings
from app.class_check import classes_match, mismatch_message
from app.main_window import MainWindow
from app.tools import Mode
from fcn_core.data.palette import VOC_CLASSES, voc_palette
from tests.gui_helpers import make_tiny_dataset, make_tiny_model, mouse_move, open_test_window

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(dataset folder, model with the dataset's classes, model with other classes, dataset class names)."""
    root = tmp_path_factory.mktemp("auto")
    ds = make_tiny_dataset(root / "ds", count=6)
    names = (ds / "class_names.txt").read_text().split()
    same = make_tiny_model(root / "same.safetensors", names)
    other_names = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car"]
    other = make_tiny_model(root / "other.safetensors", other_names)  # same count (8), other names
    return ds, same, other, names


def _window(qtbot, tmp_path, auto: bool, size=(1280, 800)) -> MainWindow:
    # the whole tiny dataset, not its 1-image val split (test_gui_splits.py)
    return open_test_window(qtbot, tmp_path, size=size, split="all", auto=auto)


def _open(qtbot, w, ds, model):
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_models([model])
        w.open_dataset(ds)


def test_two_tool_bars_fit_at_1280(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, auto=False)
    qtbot.waitExposed(w)
    assert w.edit_tool_bar is not w.tool_bar
    assert w.toolBarBreak(w.edit_tool_bar)  # second row
    bar_actions = w.edit_tool_bar.actions()
    for mode in (Mode.PAN, Mode.BRUSH, Mode.ERASER, Mode.FILL, Mode.POLYGON, Mode.ACCEPT_BRUSH,
                 Mode.ACCEPT_REGION):
        action = w.editing.tool_actions[mode]
        assert action in bar_actions
        button = w.edit_tool_bar.widgetForAction(action)
        assert button is not None and button.isVisible(), mode  # not hidden behind "»"
    for widget in (w.editing.size_box, w.editing.class_selector):
        assert widget.isVisible() and widget.geometry().right() <= w.edit_tool_bar.width()
    for key in ("open_dataset", "open_models", "show_error", "show_confidence", "evaluate"):
        assert w.tool_bar.widgetForAction(w.actions[key]).isVisible(), key
    assert w.controls.isVisible() and w.controls.geometry().right() <= w.tool_bar.width()
    settings.use_ini_file(None)


def test_evaluates_on_open_and_sorts_worst_first(qtbot, tmp_path, tiny):
    ds, same, _other, _names = tiny
    w = _window(qtbot, tmp_path, auto=True)
    assert w.actions.evaluate_auto.isChecked()
    w.docks["evaluation"].hide()  # (shown by default) closed by the user: a run in the background keeps it so
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT):
        _open(qtbot, w, ds, same)
    assert not w.docks["evaluation"].isVisible()  # in the background: the panels keep their room
    assert w.auto_evaluation.started_automatically
    rows = w.browser.model.rows
    assert all(8 in r.scores and not math.isnan(r.scores[8]["mean_iu"]) for r in rows)
    order = w.browser.stems_in_order()
    ius = [rows[w.browser.model.row_of(s)].scores[8]["mean_iu"] for s in order]
    assert ius == sorted(ius)  # worst first
    # the choice persists and switching it off stops further automatic runs
    w.actions.evaluate_auto.setChecked(False)
    assert settings.auto_evaluate() is False
    settings.use_ini_file(None)


def test_expensive_dataset_offers_evaluation_instead(qtbot, tmp_path, tiny, monkeypatch):
    ds, same, _other, _names = tiny
    monkeypatch.setattr(auto_evaluation, "AUTO_LIMIT_S", 1e-6)  # any real timing is "too slow"
    w = _window(qtbot, tmp_path, auto=True)
    _open(qtbot, w, ds, same)
    qtbot.waitUntil(lambda: w.auto_evaluation.hint_button.isVisible(), timeout=TIMEOUT)
    assert not w.evaluation.running and w.evaluation.result is None
    assert "Evaluate all images (~" in w.auto_evaluation.hint_button.text()
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT):
        w.auto_evaluation.hint_button.click()
    assert all(8 in r.scores for r in w.browser.model.rows)
    settings.use_ini_file(None)


def test_user_request_goes_before_the_evaluation_and_one_thread_runs_the_model(qtbot, tmp_path):
    """The inference worker is the only code that runs the model: an evaluation is a queue of images it scores
    after the user's own request, which comes next whatever is queued."""
    import threading

    from app.model_set import load_model_set
    from app.workers import InferenceWorker
    from fcn_core.data import open_dataset
    from tests.gui_helpers import make_tiny_dataset, make_tiny_model

    ds = open_dataset(make_tiny_dataset(tmp_path / "ds", count=6))
    models = load_model_set([make_tiny_model(tmp_path / "m.safetensors", ds.class_names)], device="cpu")
    threads = set()
    predict = models.predict
    models.predict = lambda image, **kw: (threads.add(threading.get_ident()), predict(image, **kw))[1]
    worker = InferenceWorker()
    worker.dataset, worker.models = ds, models
    events = []
    worker.scored.connect(lambda item: events.append(("scored", item.stem, item.run_id)))
    worker.result_ready.connect(lambda r: events.append(("shown", r.stem, r.req_id)))
    worker.evaluation_done.connect(lambda run, cancelled: events.append(("done", run, cancelled)))
    worker.evaluate(1, list(ds.stems))
    worker._drain()  # one image of the evaluation
    worker.request(7, ds.stems[3], True, [])
    worker._drain()  # the user's request goes first
    assert [e[0] for e in events] == ["scored", "shown"] and events[1][1:] == (ds.stems[3], 7)
    while worker._eval_run:
        worker._drain()
    assert [e[0] for e in events].count("scored") == 6 and events[-1] == ("done", 1, False)
    assert threads == {threading.get_ident()}  # here: the thread the worker runs on; nothing else predicted


def test_class_names_compared_not_counts():
    assert classes_match(["background", "Potted plant"], ["Background", "potted-plant"])
    assert not classes_match(["a", "b"], ["a", "c"])
    assert not classes_match(list(VOC_CLASSES), list(VOC_CLASSES)[:8])
    text = mismatch_message(list(VOC_CLASSES), ["sky", "road", "building", "tree"])
    assert "(4: sky, road, building, …)" in text and "(21: background, aeroplane, bicycle, …)" in text


def test_model_with_other_classes_warns_and_draws_its_own_colours(qtbot, tmp_path, tiny):
    ds, same, other, names = tiny
    w = _window(qtbot, tmp_path, auto=True)
    _open(qtbot, w, ds, other)
    assert w.classes_differ
    assert w.banner.isVisible() and "differ from the dataset's (8: sky, road, building" in w.banner.text
    assert w.class_names == names and w.pred_class_names[:2] == ["background", "aeroplane"]
    # prediction drawn with the model's palette (VOC colours), ground truth with the dataset's
    pred = w.current_results[8].labels
    shown = w.panels["pred"].image_item.image
    assert np.array_equal(shown[..., :3], voc_palette()[pred])
    gt_shown = w.panels["gt"].image_item.image
    valid = w.current_gt != 255
    assert np.array_equal(gt_shown[valid][:, :3], w.palette[w.current_gt[valid]])
    # no meaningless scores: only the confidence column; no evaluation, automatic or asked for
    m, r = w.browser.model, w.browser.model.row_of(w.current_stem)
    assert set(m.rows[r].scores[8]) == {"mean_conf"}
    assert m.data(m.index(r, 1)) in ("", None)  # IU column empty
    w.evaluate_dataset()
    assert not w.evaluation.running
    # the legend lists the model's classes under the dataset's; the read-out names predictions the model's way
    assert w.legend.rowCount() == len(names) + 1 + 1 + 8  # classes, void, heading, the model's classes
    mouse_move(w.panels["pred"], 5, 5)
    assert f"8s*: {w.pred_class_names[int(pred[5, 5])]}" in w.readout.text()
    w.actions.show_error.setChecked(True)
    assert "not shown" in w.panels["error"].title.text()
    assert w.panels["error"].layer_item.image is None
    # dismissible (and it stays dismissed for this message)
    w.banner.close_button.click()
    assert not w.banner.isVisible()
    w.banner.show_message(w.banner.text)
    assert not w.banner.isVisible()
    # a model with the dataset's classes: scores, error map and the dataset's colours come back
    with qtbot.waitSignal(w.predictions_changed, timeout=TIMEOUT):
        w.open_models([same])
    assert not w.classes_differ and w.grid.pred_palette is None and w.banner.text == ""
    assert w.legend.rowCount() == len(names) + 1
    qtbot.waitUntil(lambda: "mean_iu" in w.browser.model.rows[w.browser.model.row_of(w.current_stem)]
                    .scores.get(8, {}), timeout=TIMEOUT)
    assert w.panels["error"].layer_item.image is not None
    settings.use_ini_file(None)


def test_same_count_other_names_can_be_scored_by_index(qtbot, tmp_path, tiny):
    ds, same, other, names = tiny
    w = _window(qtbot, tmp_path, auto=False)
    _open(qtbot, w, ds, other)
    assert w.classes_differ and w.banner.action_button.isVisible()
    assert w.banner.action_button.text() == "Score by class index"
    m = w.browser.model
    assert set(m.rows[m.row_of(w.current_stem)].scores[8]) == {"mean_conf"}
    w.banner.action_button.click()
    # the pair is now scored as fcn evaluate --ignore-class-names does: scores, error map, dataset colours
    assert not w.classes_differ and w.grid.pred_palette is None
    assert "Scoring by class index" in w.banner.text and not w.banner.action_button.isVisible()
    assert "mean_iu" in m.rows[m.row_of(w.current_stem)].scores[8]
    assert w.pred_class_names == names
    w.actions.show_error.setChecked(True)
    assert w.panels["error"].layer_item.image is not None
    w.evaluate_dataset(show_panel=False)
    assert w.evaluation.running
    w.evaluation.cancel()
    qtbot.waitUntil(lambda: not w.evaluation.running, timeout=TIMEOUT)
    settings.use_ini_file(None)


def test_other_class_count_is_never_scored(qtbot, tmp_path, tiny):
    ds, _same, _other, _names = tiny
    voc = make_tiny_model(tmp_path / "voc.safetensors", list(VOC_CLASSES))
    w = _window(qtbot, tmp_path, auto=False)
    _open(qtbot, w, ds, voc)
    assert w.classes_differ and not w.banner.action_button.isVisible()
    assert "score by index" not in w.banner.text
    w.score_by_class_index()  # even if asked: indices beyond the dataset's classes cannot be scored
    assert w.classes_differ and w.evaluate_dataset() is None and not w.evaluation.running
    settings.use_ini_file(None)
