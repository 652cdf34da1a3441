"""Stored predictions in the real window: a folder written by `fcn predict --stride all` opened through File →
Open predictions… scores, evaluates and toggles strides like a live model, with numbers equal to
`fcn evaluate --pred DIR --data DS` float for float; a missing prediction file fails that image alone, naming
the file; without stored confidence the Conf column, the confidence map and the read-out say so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QInputDialog

from app import file_actions, settings
from app.prediction_set import PredictionSet
from fcn_core.cli import main as fcn_main
from fcn_core.data.labels import read_label
from tests.gui_helpers import isolate_user_state, make_tiny_dataset, open_test_window

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A tiny dataset and `fcn predict --stride all` output for it, without and with confidence maps."""
    root = tmp_path_factory.mktemp("preds")
    ds = make_tiny_dataset(root / "ds", count=6, size=(96, 64))
    plain, conf = root / "preds", root / "preds_conf"
    for out, extra in ((plain, []), (conf, ["--save-confidence"])):
        assert fcn_main(["predict", str(ds / "JPEGImages"), "--weights", str(DEMO_MODEL), "--stride", "all",
                         "--device", "cpu", "--out", str(out), "--no-progress", *extra]) == 0
    return ds, plain, conf


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, stored):
    ds, plain, conf = stored
    isolate_user_state(monkeypatch, tmp_path)
    w = open_test_window(qtbot, tmp_path, split="all")
    w.test_dataset = tmp_path / "ds"
    shutil.copytree(ds, w.test_dataset)
    w.test_preds = tmp_path / "preds"
    shutil.copytree(plain, w.test_preds)
    yield w
    settings.use_ini_file(None)


def _open_through_menu(qtbot, w, monkeypatch, folder):
    with qtbot.waitSignal(w.dataset_opened, timeout=TIMEOUT):
        w.open_dataset(w.test_dataset)
    monkeypatch.setattr(file_actions, "ask_predictions", lambda parent: str(folder))
    with qtbot.waitSignal(w.models_opened, timeout=TIMEOUT):
        w.actions.open_predictions.trigger()
    qtbot.waitUntil(lambda: w.current_results is not None, timeout=TIMEOUT)


def _evaluate(qtbot, w):
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        w.evaluate_dataset(show_panel=True)
    return done.args[0]


def _cli(tmp_path, preds, ds):
    out = tmp_path / "cli.json"
    code = fcn_main(["evaluate", "--pred", str(preds), "--data", str(ds), "--json", str(out),
                     "--no-progress"])
    return code, json.loads(out.read_text())


def test_stored_predictions_evaluate_like_fcn_evaluate_and_toggle_strides(qtbot, window, monkeypatch,
                                                                           tmp_path):
    w = window
    _open_through_menu(qtbot, w, monkeypatch, w.test_preds)
    ms = w.model_set
    assert isinstance(ms, PredictionSet) and ms.strides == (32, 16, 8) and not ms.predictors
    assert w.device_label.text() == "disk · stored" and f"predictions {w.test_preds.name}" in w.windowTitle()
    stem = w.current_stem
    for s in (32, 16, 8):  # the stride toggle shows each stored file
        w.controls.strides.buttons[s].click()
        assert w.current_stride == s
        shown = w.grid._pred.labels
        assert np.array_equal(shown, read_label(w.test_preds / f"{s}s" / f"{stem}.png"))
    assert not np.array_equal(w.current_results[32].labels, w.current_results[8].labels)
    result = _evaluate(qtbot, w)
    code, reports = _cli(tmp_path, w.test_preds, w.test_dataset)
    assert code == 0 and result.images == 6 and not result.failed
    for s in (32, 16, 8):
        report = reports[f"{s}s"]
        assert np.array_equal(result.matrices[s], np.array(report["confusion"]))
        for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
            assert result.scores[s][key] == report[key]  # the same float, not merely close
        for st, row in report["per_image"].items():
            assert w.browser.model.rows[w.browser.model.row_of(st)].scores[s]["mean_iu"] == row["mean_iu"]
    # the browser sorts worst first after the run, from the stored predictions' own scores
    order = w.browser.stems_in_order()
    ius = [reports["8s"]["per_image"][s]["mean_iu"] for s in order]
    w.set_stride(8)
    assert ius == sorted(ius)
    # no confidence stored: said, never shown as numbers
    model = w.browser.model
    assert model.data(model.index(0, 4)) == "n/a" and "no confidence stored" in model.data(
        model.index(0, 4), 3)  # ToolTipRole
    assert all("mean_conf" not in sc for r in model.rows for sc in r.scores.values())
    w.actions.show_confidence.setChecked(True)
    assert "no confidence stored" in w.panels["confidence"].title.text()
    w.readout.show_at(3, 3, w.current_image.shape[:2], w.class_names, w.current_gt, w.current_results,
                      w.current_stride)
    assert "no confidence stored" in w.readout.text() and "conf 0.00" not in w.readout.text()


def test_missing_prediction_file_fails_that_image_naming_the_file(qtbot, window, monkeypatch, tmp_path):
    w = window
    stems = sorted(p.stem for p in (w.test_preds / "8s").glob("*.png"))
    missing = w.test_preds / "16s" / f"{stems[2]}.png"
    missing.unlink()
    _open_through_menu(qtbot, w, monkeypatch, w.test_preds)
    result = _evaluate(qtbot, w)
    failed = dict(result.failed)
    assert set(failed) == {stems[2]} and str(missing) in failed[stems[2]]
    assert result.images == 5
    code, reports = _cli(tmp_path, w.test_preds, w.test_dataset)
    assert code == 1 and [f["file"] for f in reports["8s"]["failed"]] == [str(missing)]
    assert result.scores[8]["mean_iu"] == reports["8s"]["mean_iu"]
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.show_stem(stems[2])  # the photo and labels still show; the row and status bar name the file
    qtbot.waitUntil(lambda: str(missing) in w.browser.model.rows[w.browser.model.row_of(stems[2])].error,
                    timeout=TIMEOUT)
    assert w.current_image is not None and w.current_gt is not None


def test_stored_confidence_is_shown(qtbot, window, monkeypatch, stored):
    w = window
    _, _, conf = stored
    _open_through_menu(qtbot, w, monkeypatch, conf)
    assert w.model_set.has_confidence
    stem = w.current_stem
    qtbot.waitUntil(lambda: 8 in w.browser.model.rows[w.browser.model.row_of(stem)].scores, timeout=TIMEOUT)
    row = w.browser.model.rows[w.browser.model.row_of(stem)]
    assert row.scores[8]["mean_conf"] == pytest.approx(float(np.mean(w.current_results[8].confidence)))
    assert 0.05 < row.scores[8]["mean_conf"] <= 1.0
    model = w.browser.model
    assert model.data(model.index(model.row_of(stem), 4)) == f"{row.scores[8]['mean_conf']:.2f}"
    w.actions.show_confidence.setChecked(True)
    assert "no confidence" not in w.panels["confidence"].title.text()


def test_predictions_wait_for_the_dataset_and_fail_clearly(qtbot, window, tmp_path):
    w = window
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_predictions(w.test_preds)  # before the dataset: read with its classes once it is open
        w.open_dataset(w.test_dataset)
    assert isinstance(w.model_set, PredictionSet) and w.current_results is not None
    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(w.error_reported, timeout=TIMEOUT) as err:
        w.open_predictions(tmp_path / "empty")
    assert "Cannot open predictions" in err.args[0] and "empty" in err.args[0]
    assert isinstance(w.model_set, PredictionSet)  # the open predictions stay


def test_open_dataset_asks_the_format_only_when_in_doubt(qtbot, window, monkeypatch, tmp_path):
    w = window
    asked = []

    def get_item(parent, title, label, items, current, editable):
        asked.append((label, list(items), items[current]))
        return "index", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    assert file_actions.ask_format(w, str(w.test_dataset)) == (True, None)  # VOC: opened directly
    assert not asked
    camvid = tmp_path / "camvid"  # SegNet's CamVid folders and the 32-class ones side by side
    for d in ("train", "trainannot", "train_labels"):
        (camvid / d).mkdir(parents=True)
    assert file_actions.ask_format(w, str(camvid)) == (True, "index")
    label, items, current = asked[-1]
    assert "camvid and camvid32" in label and current == "camvid" and "voc" in items
    plain = tmp_path / "plain"
    plain.mkdir()
    file_actions.ask_format(w, str(plain))
    assert "No dataset layout was recognised" in asked[-1][0]
    monkeypatch.setattr(file_actions, "ask_dataset", lambda parent: str(plain))
    opened = []
    monkeypatch.setattr(w, "open_dataset", lambda path, format=None: opened.append((path, format)))
    w.actions.open_dataset.trigger()
    assert opened == [(str(plain), "index")]


def test_accept_prediction_takes_the_stored_stride_and_the_save_rescores(qtbot, window, monkeypatch):
    from app.tools import Mode
    from fcn_core.metrics import confusion_matrix
    from tests import gui_helpers as gh

    w = window
    _open_through_menu(qtbot, w, monkeypatch, w.test_preds)
    qtbot.waitUntil(lambda: w.editing.document is not None, timeout=TIMEOUT)
    ed, stem = w.editing, w.current_stem
    w.controls.strides.buttons[32].click()
    stored32 = read_label(w.test_preds / "32s" / f"{stem}.png")
    assert not np.array_equal(w.current_gt[10, 12:58], stored32[10, 12:58])  # the stroke changes labels
    ed.set_mode(Mode.ACCEPT_BRUSH)
    ed.set_brush_size(3)
    gh.drag(w.panels["gt"], [(10, 10), (60, 10)])
    assert np.array_equal(ed.document.labels[10, 12:58], stored32[10, 12:58])
    saved = ed.document.labels.copy()
    book = w.workspace.book
    ed.saver.save()
    qtbot.waitUntil(lambda: not ed.document.is_modified, timeout=TIMEOUT)
    stored8 = read_label(w.test_preds / "8s" / f"{stem}.png")
    want = confusion_matrix(saved, stored8, len(w.class_names))
    qtbot.waitUntil(lambda: book.confusions(stem) is not None
                    and np.array_equal(book.confusions(stem)[8], want), timeout=TIMEOUT)
