"""Dataset splits in the app: the browser's split combo (counts, filtering with the class filter, stepping),
the default "val" remembered per session, evaluation of the chosen split only, and ``--split``."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from app import settings
from app.split_filter import ALL, initial_split
from fcn_core.data.datasets import open_dataset
from tests.conftest import REPO
from tests.gui_helpers import make_tiny_dataset, make_tiny_model, open_test_window

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(dataset with train 8 / trainval 10 / val 2, the same without split files, model, opened dataset)."""
    root = tmp_path_factory.mktemp("splits")
    ds = make_tiny_dataset(root / "ds", count=10)
    plain = root / "plain"
    shutil.copytree(ds, plain)
    shutil.rmtree(plain / "ImageSets")
    names = (ds / "class_names.txt").read_text().split()
    model = make_tiny_model(root / "model.safetensors", names)
    return ds, plain, model, open_dataset(ds)


@pytest.fixture
def window(qtbot, tmp_path):
    yield open_test_window(qtbot, tmp_path)
    settings.use_ini_file(None)


def _open(qtbot, w, data, model=None):
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        if model:
            w.open_models([model])
        w.open_dataset(data)


def _combo_items(w) -> list[tuple[str, str]]:
    c = w.browser.split_combo
    return [(c.itemText(i), c.itemData(i)) for i in range(c.count())]


def test_initial_split_prefers_session_choice_then_val():
    splits = {"train": ["a"], "val": ["b"]}
    assert initial_split(splits, None) == "val"
    assert initial_split(splits, "train") == "train"
    assert initial_split(splits, ALL) == ALL
    assert initial_split(splits, "test") == "val"  # not in this dataset
    assert initial_split({"train": ["a"]}, None) == ALL
    assert initial_split({}, "val") == ALL


def test_combo_lists_splits_and_val_filters_rows(qtbot, window, tiny):
    ds, _plain, _model, dataset = tiny
    _open(qtbot, window, ds)
    assert _combo_items(window) == [("all images (10)", ALL), ("train (8)", "train"),
                                    ("trainval (10)", "trainval"), ("val (2)", "val")]
    b = window.browser
    assert b.split_combo.isEnabled() and not b.split_combo.isHidden()
    assert b.split_name() == "val"  # the default when the dataset has a val split
    val = dataset.splits["val"]
    assert b.stems_in_order() == val
    assert b.count_label.text() == "2 / 2"
    assert window.current_stem == val[0]
    assert b.neighbours(val[0], 2) == [val[1]]  # prefetch follows the split, not the dataset order

    b.set_split(ALL)
    assert b.stems_in_order() == dataset.stems and b.count_label.text() == "10 / 10"
    assert b.current_stem() == val[0] and window.current_stem == val[0]  # in the split: the image stays


def test_class_filter_composes_with_split(qtbot, window, tiny):
    ds, _plain, _model, dataset = tiny
    _open(qtbot, window, ds)
    b = window.browser
    qtbot.waitUntil(lambda: all(r.classes is not None for r in b.model.rows), timeout=TIMEOUT)
    present = {s: set(np.unique(dataset.label(s)).tolist()) - {255} for s in dataset.stems}
    val = dataset.splits["val"]
    # a class in some but not all val images
    cls = next(c for c in range(dataset.num_classes) if 0 < sum(c in present[s] for s in val) < len(val))
    b.class_combo.setCurrentIndex(b.class_combo.findData(cls))
    expected = [s for s in val if cls in present[s]]
    assert b.stems_in_order() == expected
    assert b.count_label.text() == f"{len(expected)} / {len(val)}"
    b.set_split("train")
    train = [s for s in dataset.splits["train"] if cls in present[s]]
    assert b.stems_in_order() == train
    assert b.count_label.text() == f"{len(train)} / {len(dataset.splits['train'])}"


def test_choosing_split_moves_off_foreign_image_and_stepping_stays_inside(qtbot, window, tiny):
    ds, _plain, _model, dataset = tiny
    _open(qtbot, window, ds)
    train = dataset.splits["train"]
    assert window.current_stem not in train
    with qtbot.waitSignal(window.current_image_changed, timeout=TIMEOUT):
        window.browser.set_split("train")
    assert window.current_stem == train[0]  # the val image is not in train: the first train image
    assert window.split_choice == "train"
    seen = [window.current_stem]
    for _ in range(len(train) + 2):  # two presses past the end stay on the last image
        window.actions.next_image.trigger()
        qtbot.waitUntil(lambda: window.current_stem == window.browser.current_stem(), timeout=TIMEOUT)
        seen.append(window.current_stem)
    assert set(seen) == set(train) and seen[-1] == train[-1]
    window.actions.prev_image.trigger()
    assert window.browser.current_stem() == train[-2]


def test_split_choice_remembered_for_next_dataset(qtbot, window, tiny):
    ds, _plain, _model, dataset = tiny
    _open(qtbot, window, ds)
    window.browser.set_split("train")
    window._first_view_sent = False  # wait for the second dataset's first image as well
    _open(qtbot, window, ds)
    assert window.browser.split_name() == "train"
    assert window.browser.stems_in_order() == dataset.splits["train"]


def test_dataset_without_splits_hides_combo(qtbot, window, tiny):
    _ds, plain, _model, _dataset = tiny
    _open(qtbot, window, plain)
    b = window.browser
    assert b.split_combo.isHidden() and b.split_label.isHidden() and not b.split_combo.isEnabled()
    assert b.split_name() == ALL
    assert len(b.stems_in_order()) == 10 and b.count_label.text() == "10 / 10"


def test_evaluation_scores_exactly_the_val_images_and_flags_other_split(qtbot, window, tiny):
    ds, _plain, model, dataset = tiny
    _open(qtbot, window, ds, model)
    scored: list[str] = []
    window.evaluation.image_scored.connect(lambda stem, _s, _c: scored.append(stem))
    with qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        window.evaluate_dataset()
    result = done.args[0]
    val = dataset.splits["val"]
    assert sorted(scored) == sorted(val) and result.images == len(val)
    assert (result.split, result.split_size) == ("val", 2)
    n = len(result.class_names)
    pair_stems = {stem for g in range(n) for p in range(n) for stem, _ in result.images_with(8, g, p)}
    assert pair_stems == set(val)
    ev = window.evaluation
    assert "val, 2 images" in ev.summary.text()
    assert window.docks["evaluation"].windowTitle() == "Evaluation — val, 2 images"
    assert ev.result_is_for_shown_split()
    assert window.legend.item(0, 2).text() != "–"  # the dataset IU column shows val's numbers

    window.browser.set_split("train")
    assert not ev.result_is_for_shown_split()
    assert ev.summary.text() == "These numbers are for val, 2 images, not for train, 8 images."
    assert "results for val" in window.docks["evaluation"].windowTitle()
    assert ev.run_button.text() == "Evaluate train"
    assert all(window.legend.item(r, 2).text() == "–" for r in range(window.legend.dataset_rows))
    rows = window.browser.model
    assert all(8 in rows.rows[rows.row_of(s)].scores for s in val)  # per-image scores stay

    scored.clear()
    with qtbot.waitSignal(ev.evaluation_finished, timeout=TIMEOUT) as done:
        ev.run_button.click()
    assert sorted(scored) == sorted(dataset.splits["train"]) and done.args[0].split == "train"
    assert ev.result_is_for_shown_split() and "train, 8 images" in ev.summary.text()


def test_launch_unknown_split_names_the_splits(tmp_path, tiny):
    ds = tiny[0]
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "--data", str(ds), "--split", "test"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "split 'test' not found" in proc.stderr
    assert "train (8), trainval (10), val (2)" in proc.stderr


def test_evaluation_on_open_scores_the_val_split(qtbot, window, tiny):
    ds, _plain, model, dataset = tiny
    settings.set_auto_evaluate(True)
    window.actions.evaluate_auto.setChecked(True)
    with qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        _open(qtbot, window, ds, model)
    assert window.auto_evaluation.started_automatically
    assert done.args[0].split == "val" and done.args[0].images == len(dataset.splits["val"])
    rows = window.browser.model
    assert all(8 in rows.rows[rows.row_of(s)].scores for s in dataset.splits["val"])
    assert window.evaluation.result_is_for_shown_split()

    window.actions.evaluate_auto.setChecked(False)
    with qtbot.waitSignal(window.dataset_opened, timeout=TIMEOUT):
        window.open_dataset(ds)  # opened again: another Dataset, even with the same split name
    assert not window.evaluation.result_is_for_shown_split()
    assert window.evaluation.summary.text() == ("These numbers are for val, 2 images of the dataset "
                                                "opened before.")


def test_offered_evaluation_follows_the_split(qtbot, window, tiny, monkeypatch):
    from app import auto_evaluation

    ds, _plain, model, dataset = tiny
    monkeypatch.setattr(auto_evaluation, "AUTO_LIMIT_S", 1e-6)  # any real timing is "too slow": offered
    window.actions.evaluate_auto.setChecked(True)
    _open(qtbot, window, ds, model)
    hint = window.auto_evaluation.hint_button
    qtbot.waitUntil(lambda: not hint.isHidden(), timeout=TIMEOUT)
    assert hint.text().startswith("Evaluate val (~") and "val, 2 images" in hint.toolTip()
    window.browser.set_split("train")
    assert hint.text().startswith("Evaluate train (~") and "train, 8 images" in hint.toolTip()
    with qtbot.waitSignal(window.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        hint.click()
    assert done.args[0].split == "train" and done.args[0].images == len(dataset.splits["train"])
