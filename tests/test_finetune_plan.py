"""Before fine-tuning the app says what goes into training, what is left out and why, and how long it takes;
afterwards it names the model it loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QDialog, QLabel

from app import settings
from app.editing import background
from app.editing.finetune_plan import format_duration, plan_finetune, seconds_per_iteration
from fcn_core.data.datasets import open_dataset
from fcn_core.data.labels import write_palette_png
from tests import gui_helpers as gh


def _dataset_with_corrections(tmp_path):
    root = gh.make_tiny_dataset(tmp_path / "ds", count=10, size=(40, 30))
    corrections = root / "corrections"
    ds = open_dataset(root)
    train, val = [s.stem for s in ds.split("train")], [s.stem for s in ds.split("val")]
    for stem in (train[0], train[3], val[1]):
        write_palette_png(corrections / f"{stem}.png", np.ones((30, 40), np.uint8), ds.palette)
    return root, corrections, len(train)


def test_plan_counts_train_and_val_corrections_and_estimates_time(tmp_path):
    root, corrections, n_train = _dataset_with_corrections(tmp_path)
    ds = open_dataset(root, labels_dir=corrections)
    plan = plan_finetune(ds, train_split="train", val_split="val", iterations=500, minutes=None,
                         seconds_per_iter=2.0)
    assert (plan.train_images, plan.train_corrected, plan.val_corrected) == (n_train, 2, 1)
    text = plan.message()
    assert f"split 'train': {n_train} labelled images, 2 of them with your corrections" in text
    assert "1 correction is on 'val' and left out of training" in text and "held out" in text
    assert "about 17 min" in text and "500 iterations × ~2.0 s" in text
    capped = plan_finetune(ds, train_split="train", val_split="val", iterations=500, minutes=5,
                           seconds_per_iter=2.0)
    assert "about 5 min" in capped.message() and "time limit 5 min" in capped.message()
    unknown = plan_finetune(ds, train_split="train", val_split="val", iterations=500, minutes=None,
                            seconds_per_iter=None)
    assert "unknown" in unknown.message()
    # a batch of 8 crops of 384² costs 3 forward passes each: 0.1 s for a 384² image -> 2.4 s an iteration
    assert seconds_per_iteration(0.1, (384, 384), batch_size=8, crop=(384, 384)) == 2.4000000000000004
    assert format_duration(30) == "30 s" and format_duration(4000) == "1 h 07 min"


def test_app_says_it_before_starting_and_names_the_loaded_model(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    root, corrections, n_train = _dataset_with_corrections(tmp_path)
    names = (root / "class_names.txt").read_text().split()
    model = gh.make_tiny_model(tmp_path / "start.safetensors", names)
    tuned = gh.make_tiny_model(tmp_path / "tuned" / "best.safetensors", names, seed=1)
    w = gh.open_test_window(qtbot, tmp_path, size=(1000, 700))
    try:
        w.open_dataset(root)
        w.open_models([str(model)])
        qtbot.waitUntil(lambda: w.model_set is not None and w.editing.document is not None
                        and w.current_results is not None, timeout=60000)
        shown: list[str] = []

        def exec_form(form):  # read the dialog as the user would, then cancel it
            shown.append(form.findChild(QLabel, "finetune_plan").text())
            return QDialog.DialogCode.Rejected

        monkeypatch.setattr(background._FolderForm, "exec", exec_form)
        w.editing.jobs.finetune_dialog()
        assert len(shown) == 1
        assert f"{n_train} labelled images, 2 of them with your corrections" in shown[0]
        assert "1 correction is on 'val' and left out of training" in shown[0]
        assert "Estimated time: about" in shown[0] and "500 iterations" in shown[0]
        # a finished fine-tune: the window loads the new checkpoint and the status bar names it
        messages: list[str] = []
        w.status_bar.messageChanged.connect(messages.append)
        w.editing.jobs._trained(tuned)
        qtbot.waitUntil(lambda: [Path(p) for p in w.model_set.paths] == [tuned], timeout=60000)
        assert any(m.startswith("Now using the fine-tuned model tuned/best.safetensors") for m in messages)
        # ... and it is still said once the image's new predictions are on screen
        qtbot.waitUntil(lambda: "tuned/best.safetensors" in w.status_bar.currentMessage(), timeout=60000)
    finally:
        settings.use_ini_file(None)


def test_progress_says_the_measured_time_left(qtbot):
    from PySide6.QtWidgets import QProgressDialog

    dialog = QProgressDialog()
    qtbot.addWidget(dialog)
    background.BackgroundJobs._progress(dialog, "Fine-tuning", {
        "event": "iteration", "stage": "fcn-multi", "iteration": 50, "max_iters": 500, "elapsed": 100.0,
        "loss": 0.5})
    assert dialog.labelText() == "Fine-tuning: fcn-multi iteration 50/500, loss 0.500, about 15 min left"
