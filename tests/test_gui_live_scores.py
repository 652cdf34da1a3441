"""Scores the user can trust, through the real window: the app's evaluation equals ``fcn evaluate``; a saved
correction moves the dataset metrics and its row at once; restored edits are scored with their own image's
prediction; a bad label fails alone and the evaluation finishes; a new model leaves no old number."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app import settings
from app.editing import storage
from app.score_book import row_from_confusion
from fcn_core.cli import main as fcn_main
from fcn_core.data.labels import write_palette_png
from fcn_core.metrics import confusion_matrix
from tests.gui_helpers import isolate_user_state, make_tiny_dataset, make_tiny_model, open_test_window

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"  # trained: predictions that mean something
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_tiny_dataset(tmp_path_factory.mktemp("live") / "ds", count=10, size=(96, 64))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, data):
    ds = tmp_path / "ds"
    shutil.copytree(data, ds)
    isolate_user_state(monkeypatch, tmp_path)
    w = open_test_window(qtbot, tmp_path, split="all")
    w.test_dataset = ds
    yield w
    settings.use_ini_file(None)


def _open(qtbot, w, model=DEMO_MODEL, stem=None):
    w.initial_stem = stem
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_models([model])
        w.open_dataset(w.test_dataset)
    qtbot.waitUntil(lambda: w.current_results is not None and w.editing.document is not None, timeout=TIMEOUT)


def _evaluate(qtbot, w):
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        w.evaluate_dataset(show_panel=True)
    return done.args[0]


def test_app_evaluation_equals_fcn_evaluate_number_for_number(qtbot, window, tmp_path):
    w = window
    _open(qtbot, w)
    result = _evaluate(qtbot, w)
    out = tmp_path / "cli.json"
    assert fcn_main(["evaluate", "--weights", str(DEMO_MODEL), "--data", str(w.test_dataset),
                     "--device", "cpu", "--json", str(out)]) == 0
    reports = json.loads(out.read_text())  # {"32s": report, "16s": …, "8s": …}
    assert result.images == len(w.dataset.stems) and not result.failed
    for s in (32, 16, 8):
        report = reports[f"{s}s"]
        assert np.array_equal(result.matrices[s], np.array(report["confusion"]))
        for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
            assert result.scores[s][key] == report[key]  # the same float, not merely close
        for stem, row in report["per_image"].items():
            assert w.browser.model.rows[w.browser.model.row_of(stem)].scores[s]["mean_iu"] == row["mean_iu"]
    shown = w.evaluation.table.item(2, 2).text()  # FCN-8s, mean IU
    assert shown == f"{100 * reports['8s']['mean_iu']:.1f}"


def test_saved_correction_updates_dataset_metrics_and_resorts_at_once(qtbot, window):
    w = window
    _open(qtbot, w)
    _evaluate(qtbot, w)
    w.browser.sort_worst_first()
    best = w.browser.stems_in_order()[-1]
    with qtbot.waitSignal(w.current_image_changed, timeout=TIMEOUT):
        w.browser.select_stem(best)
    qtbot.waitUntil(lambda: w.current_results is not None and w.editing.stem == best, timeout=TIMEOUT)
    book = w.workspace.book
    before = {s: m.copy() for s, m in book.totals.items()}
    old = {s: m.copy() for s, m in book.confusions(best).items()}
    doc = w.editing.document
    wrong = np.where(doc.labels == 255, 255, (doc.labels + 3) % 8).astype(np.uint8)
    doc.replace_all(wrong)  # one undoable step, as Edit → Replace does
    w.editing.after_edit()
    totals_seen = []
    book.totals_changed.connect(lambda: totals_seen.append(book.scores(8)["mean_iu"]))
    w.editing.saver.save()
    qtbot.waitUntil(lambda: not doc.is_modified and bool(totals_seen), timeout=TIMEOUT)
    results = w.current_results
    for s in (32, 16, 8):
        new = confusion_matrix(wrong, results[s].labels, 8)
        assert np.array_equal(book.totals[s], before[s] - old[s] + new)
    assert w.evaluation.table.item(2, 2).text() == f"{100 * book.scores(8)['mean_iu']:.1f}"
    legend_iu = w.evaluation.per_class_iu(8)
    assert legend_iu == pytest.approx([v["iu"] for v in book.scores(8)["per_class"].values()], nan_ok=True)
    # the saved (now worst) image goes to the top of the worst-first table while it is still on screen
    assert w.current_stem == best and w.browser.stems_in_order()[0] == best


def test_restored_edits_are_scored_with_their_own_images_prediction(qtbot, window, tmp_path):
    """Was: the restored image scored against the prediction of the image on screen (18.8, not 69.2)."""
    w = window
    _open(qtbot, w, stem="demo_00000")
    target = "demo_00005"
    restored = w.dataset.label(target).copy()
    restored[:20, :30] = 2
    rec = storage.recovery_path(Path(tmp_path / "recovery"), Path(w.test_dataset).resolve(), target)
    storage.write_recovery(rec, restored, dataset_root=Path(w.test_dataset).resolve(), stem=target,
                           original=w.dataset.label(target))
    w.editing.saver.apply_restore_choice("restore", storage.list_recoveries(tmp_path / "recovery"))
    qtbot.waitUntil(lambda: w.editing.stem == target and w.current_results is not None
                    and w.editing.document.is_modified, timeout=TIMEOUT)
    own = w.model_set.predict(w.dataset.image(target))
    want = row_from_confusion(confusion_matrix(restored, own[8].labels, 8))["mean_iu"]
    row = w.browser.model.rows[w.browser.model.row_of(target)]
    qtbot.waitUntil(lambda: w.workspace.book.rows.get(target) is not None, timeout=TIMEOUT)
    assert row.scores[8]["mean_iu"] == pytest.approx(want)
    assert w.workspace.book.rows[target][8]["mean_iu"] == pytest.approx(want)


def test_bad_labels_fail_alone_and_the_evaluation_finishes(qtbot, window):
    w = window
    ds = Path(w.test_dataset)
    labels = sorted((ds / "SegmentationClass").glob("*.png"))
    write_palette_png(labels[1], np.zeros((10, 10), np.uint8))  # wrong size
    bad = np.zeros((64, 96), np.uint8)
    bad[5, 5] = 40  # neither a class (0..7) nor void
    write_palette_png(labels[2], bad)
    _open(qtbot, w)
    result = _evaluate(qtbot, w)
    failed = dict(result.failed)
    assert set(failed) == {labels[1].stem, labels[2].stem}
    assert "10x10" in failed[labels[1].stem] and labels[1].name in failed[labels[1].stem]
    assert "40" in failed[labels[2].stem] and labels[2].name in failed[labels[2].stem]
    assert result.images == len(labels) - 2 and "2 failed" in w.evaluation.summary.text()
    assert w.browser.model.rows[w.browser.model.row_of(labels[1].stem)].error
    again = _evaluate(qtbot, w)  # the next evaluation runs too
    assert again.images == len(labels) - 2


def test_new_model_leaves_no_score_of_the_old_one(qtbot, window, tmp_path):
    w = window
    _open(qtbot, w)
    _evaluate(qtbot, w)
    assert all(8 in r.scores for r in w.browser.model.rows)
    other = make_tiny_model(tmp_path / "other.safetensors", list(w.dataset.class_names), seed=3)
    with qtbot.waitSignal(w.models_opened, timeout=TIMEOUT):
        w.open_models([other])
    shown = w.current_stem
    assert all(not r.scores for r in w.browser.model.rows if r.stem != shown)
    qtbot.waitUntil(lambda: 8 in w.browser.model.rows[w.browser.model.row_of(shown)].scores, timeout=TIMEOUT)
    own = w.model_set.predict(w.dataset.image(shown))
    want = row_from_confusion(confusion_matrix(w.dataset.label(shown), own[8].labels, 8))["mean_iu"]
    assert w.browser.model.rows[w.browser.model.row_of(shown)].scores[8]["mean_iu"] == pytest.approx(want)


def test_evaluating_again_keeps_the_last_numbers_until_the_new_ones(qtbot, window):
    """Seen under Xvfb: starting a second evaluation emptied the totals and the table showed "nan"."""
    w = window
    _open(qtbot, w)
    _evaluate(qtbot, w)
    shown = w.evaluation.table.item(2, 2).text()
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT):
        w.evaluate_dataset(show_panel=True)
        assert w.evaluation.running
        assert w.evaluation.table.item(2, 2).text() == shown != "nan"
    assert w.evaluation.table.item(2, 2).text() == shown  # same labels, same model: same numbers


def test_evaluate_saves_unsaved_edits_first_so_it_scores_what_is_shown(qtbot, window):
    w = window
    _open(qtbot, w)
    stem, doc = w.current_stem, w.editing.document
    edited = np.where(doc.labels == 255, 255, (doc.labels + 1) % 8).astype(np.uint8)
    doc.replace_all(edited)
    w.editing.after_edit()
    assert doc.is_modified
    result = _evaluate(qtbot, w)
    assert not doc.is_modified and (Path(w.test_dataset) / "corrections" / f"{stem}.png").exists()
    own = w.current_results
    for s in (32, 16, 8):
        assert np.array_equal(result.book.confusions(stem)[s], confusion_matrix(edited, own[s].labels, 8))
