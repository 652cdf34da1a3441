"""The workspace model without a window: open, show, edit, save, evaluate, recover — every score from the
image's own prediction, totals updated by difference (subtract the old matrix, add the new)."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import LabelDocument
from app.model_set import load_model_set
from app.score_book import ScoreBook, row_from_confusion
from app.workspace import Workspace, image_confusions
from fcn_core.data import open_dataset
from fcn_core.evaluation import evaluate_dataset
from fcn_core.metrics import confusion_matrix, scores_from_confusion
from tests.gui_helpers import make_tiny_dataset, make_tiny_model


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    ds = open_dataset(make_tiny_dataset(root / "ds", count=5))
    models = load_model_set([make_tiny_model(root / "m.safetensors", ds.class_names)], device="cpu")
    return ds, models


def _evaluate(ws: Workspace, stems) -> None:
    """What the inference worker does for an evaluation, image by image (no Qt)."""
    ws.book.start_set()
    for stem in stems:
        results = ws.models.predict(ws.dataset.image(stem))
        cms = image_confusions(ws.dataset, stem, ws.dataset.label(stem), results, ws.num_classes)
        conf = {s: float(np.mean(r.confidence)) for s, r in results.items()}
        ws.record_scored(stem, cms, conf, member=True)


def _workspace(opened) -> Workspace:
    ds, models = opened
    ws = Workspace()
    ws.open_dataset(ds)
    ws.set_models(models)
    ws.class_names = list(ds.class_names)
    return ws


def test_workflow_open_evaluate_edit_save_without_a_window(opened):
    ds, models = opened
    ws = _workspace(opened)
    seen = {"totals": 0, "images": []}
    ws.book.totals_changed.connect(lambda: seen.__setitem__("totals", seen["totals"] + 1))
    ws.book.image_changed.connect(seen["images"].append)
    _evaluate(ws, ds.stems)
    assert ws.book.counted == len(ds.stems) and seen["images"] == list(ds.stems)
    # the same numbers as fcn evaluate's own loop, number for number
    cli = evaluate_dataset(models.predictors[0], ds)
    for s in models.strides:
        mine = ws.book.scores(s)
        assert np.array_equal(ws.book.totals[s], np.array(cli[s]["confusion"]))
        for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
            assert mine[key] == pytest.approx(cli[s][key], abs=1e-12, nan_ok=True)
        for stem in ds.stems:
            for key in ("mean_iu", "pixel_acc"):
                want = cli[s]["per_image"][stem][key]
                assert ws.book.rows[stem][s][key] == pytest.approx(want, nan_ok=True)

    # show an image with its own prediction, paint, preview (totals unchanged), save (totals by difference)
    stem = ds.stems[1]
    image, gt = ds.image(stem), ds.label(stem)
    results = models.predict(image)
    ws.show(stem, image, gt, results, ws.model_id)
    doc = LabelDocument(gt)
    ws.set_shown_gt(doc.labels)
    before_totals = {s: m.copy() for s, m in ws.book.totals.items()}
    old = {s: m.copy() for s, m in ws.book.confusions(stem).items()}
    doc.begin_stroke()
    doc.paint((4.0, 4.0), (30.0, 20.0), 9.0, 0)
    doc.end_stroke()
    assert doc.is_modified
    preview = ws.preview_scores(stem, doc.labels)
    expected = {s: confusion_matrix(doc.labels, results[s].labels, ws.num_classes) for s in results}
    assert preview[8]["mean_iu"] == pytest.approx(row_from_confusion(expected[8])["mean_iu"], nan_ok=True)
    assert all(np.array_equal(ws.book.totals[s], before_totals[s]) for s in before_totals)  # not saved yet
    n_totals = seen["totals"]
    assert ws.commit_labels(stem, doc.labels.copy())
    assert seen["totals"] == n_totals + 1
    for s in results:
        assert np.array_equal(ws.book.totals[s], before_totals[s] - old[s] + expected[s])
        assert np.array_equal(ws.book.confusions(stem)[s], expected[s])
    assert ws.book.scores(8)["mean_iu"] == pytest.approx(scores_from_confusion(ws.book.totals[8])["mean_iu"])


def test_restored_labels_are_never_scored_with_the_prediction_on_screen(opened):
    """The crash-recovery case: image B's restored labels were scored against image A's prediction (the one
    on screen) — mean IU 18.8 instead of 69.2. Scores come from B's own prediction or not at all."""
    ds, models = opened
    ws = _workspace(opened)
    a, b = ds.stems[0], ds.stems[2]
    ws.show(a, ds.image(a), ds.label(a), models.predict(ds.image(a)), ws.model_id)
    ws.show(b, ds.image(b), ds.label(b))  # B on screen, its prediction not computed yet
    assert ws.shown.results is None  # never A's
    assert ws.preview_scores(b, ds.label(b)) is None
    assert ws.commit_labels(b, ds.label(b)) is False  # the caller asks the worker for B's own prediction
    assert b not in ws.book.rows
    own = models.predict(ds.image(b))
    ws.store_results(b, ws.model_id, own)
    assert ws.commit_labels(b, ds.label(b))
    want = row_from_confusion(confusion_matrix(ds.label(b), own[8].labels, ws.num_classes))
    assert ws.book.rows[b][8]["mean_iu"] == pytest.approx(want["mean_iu"], nan_ok=True)


def test_bad_label_is_recorded_as_failed_with_its_file(opened):
    ds, models = opened
    ws = _workspace(opened)
    _evaluate(ws, ds.stems)
    stem = ds.stems[0]
    ws.show(stem, ds.image(stem), ds.label(stem), models.predict(ds.image(stem)), ws.model_id)
    counted = ws.book.counted
    bad = ds.label(stem).copy()
    bad[0, 0] = 200  # not a class, not void
    assert ws.commit_labels(stem, bad)
    assert stem in ws.book.failed and "outside" in ws.book.failed[stem]
    assert str(ds.sample(stem).label_path) in ws.book.failed[stem]
    assert ws.book.counted == counted - 1
    with pytest.raises(ValueError, match="label is 3x2 but the image is"):
        image_confusions(ds, stem, np.zeros((2, 3), np.uint8), ws.results_of(stem), ws.num_classes)


def test_new_model_replaces_every_score(opened):
    ds, models = opened
    ws = _workspace(opened)
    _evaluate(ws, ds.stems[:2])
    replaced = []
    ws.book_replaced.connect(replaced.append)
    ws.set_models(models)
    assert replaced and ws.book.counted == 0 and not ws.book.rows
    assert ws.cache.nbytes == 0


def test_score_book_members_and_pairs():
    book = ScoreBook(["a", "b"], (8,))
    cm1 = {8: np.array([[5, 1], [0, 4]])}
    cm2 = {8: np.array([[2, 0], [3, 1]])}
    book.set_image("x", cm1)  # seen while browsing: scored, not counted
    assert book.counted == 0 and book.totals[8].sum() == 0 and "x" in book.rows
    book.set_image("x", cm1, member=True)
    book.set_image("y", cm2, member=True)
    assert np.array_equal(book.totals[8], cm1[8] + cm2[8])
    assert book.images_with(8, 1, 0) == [("y", 3)]
    book.set_image("y", {8: np.array([[2, 0], [0, 4]])})  # y's labels saved: membership kept
    assert np.array_equal(book.totals[8], cm1[8] + np.array([[2, 0], [0, 4]]))
    book.set_failed("x", "bad label")
    assert book.counted == 1 and np.array_equal(book.totals[8], np.array([[2, 0], [0, 4]]))


def test_an_event_calls_a_callback_once_however_often_it_is_connected():
    """A task switch shows a ScoreBook again and the window wires it again: each change must reach the
    browser once, not once per switch."""
    from app.events import Event

    calls = []
    event = Event("changed")
    event.connect(calls.append)
    event.connect(calls.append)
    event.emit("x")
    assert calls == ["x"]
    event.disconnect(calls.append)
    event.emit("y")
    assert calls == ["x"]
