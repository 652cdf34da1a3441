"""Recovery files, corrections folders, and a real crash: a process killed with SIGKILL mid-edit, then a new
window restores its edits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from app import corrections, settings
from app.editing import storage
from app.editing.saving import Saver
from fcn_core.data.labels import read_label, write_palette_png
from fcn_core.demo_data import make_demo_dataset

REPO = Path(__file__).resolve().parents[1]


def test_recovery_round_trip_and_damaged_files(tmp_path):
    labels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = storage.recovery_path(tmp_path, tmp_path / "ds", "img 1")
    assert path.parent == tmp_path and path.name.endswith(storage.RECOVERY_SUFFIX)
    assert storage.recovery_path(tmp_path, tmp_path / "other", "img 1") != path  # one file per dataset+image
    storage.write_recovery(path, labels, dataset_root=tmp_path / "ds", stem="img 1", original=labels * 0)
    rec = storage.read_recovery(path)
    assert rec.stem == "img 1" and rec.dataset_root == str(tmp_path / "ds")
    assert (rec.labels == labels).all() and (rec.original == 0).all() and "img 1" in rec.describe()
    (tmp_path / f"bad{storage.RECOVERY_SUFFIX}").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad"):
        storage.read_recovery(tmp_path / f"bad{storage.RECOVERY_SUFFIX}")
    assert [r.stem for r in storage.list_recoveries(tmp_path)] == ["img 1"]
    storage.remove_recovery(path)
    storage.remove_recovery(path)  # removing twice is fine
    assert storage.list_recoveries(tmp_path) == [] and storage.list_recoveries(tmp_path / "none") == []


def test_recovery_files_per_task(tmp_path):
    """A two-headed net's geometric labels get their own recovery file and restore as geometric; a file
    written before tasks existed (no task in its header) and the semantic path are what they were."""
    sem = storage.recovery_path(tmp_path, tmp_path / "ds", "img")
    geo = storage.recovery_path(tmp_path, tmp_path / "ds", "img", "geo")
    assert sem == storage.recovery_path(tmp_path, tmp_path / "ds", "img", "sem") and geo != sem
    storage.write_recovery(geo, np.ones((2, 3), np.uint8), dataset_root=tmp_path / "ds", stem="img",
                           task="geo")
    storage.write_recovery(sem, np.zeros((2, 3), np.uint8), dataset_root=tmp_path / "ds", stem="img")
    got = {r.task: r for r in storage.list_recoveries(tmp_path)}
    assert set(got) == {"sem", "geo"} and (got["geo"].labels == 1).all() and (got["sem"].labels == 0).all()
    assert "geo labels" in got["geo"].describe() and "labels" not in got["sem"].describe()
    old = tmp_path / f"old{storage.RECOVERY_SUFFIX}"
    meta = {"stem": "img", "dataset_root": None, "time": 1.0, "shape": [2, 3], "format": 1}
    np.savez(old, labels=np.zeros((2, 3), np.uint8),
             meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    assert storage.read_recovery(old).task == "sem"


def test_corrections_dir_beside_dataset_or_user_folder(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    root.mkdir()
    assert corrections.corrections_dir_for(root) == root.resolve() / "corrections"
    monkeypatch.setenv("FCN_STUDIO_DATA_DIR", str(tmp_path / "user"))
    monkeypatch.setattr(corrections, "_writable", lambda folder: False)  # read-only (root ignores chmod)
    fallback = corrections.corrections_dir_for(root)
    assert fallback.parent == tmp_path / "user" / "corrections" and fallback.name.startswith("ds-")
    assert corrections.corrections_dir_for(tmp_path / "ds") == fallback  # stable per dataset


def test_save_and_overwrite_original_files(tmp_path):
    labels = np.zeros((5, 6), np.uint8)
    labels[1:3, 1:4] = 2
    labels[4, 5] = 255
    saved = storage.save_correction(tmp_path / "corr", "a", labels, None)
    assert saved == tmp_path / "corr" / "a.png" and (read_label(saved) == labels).all()
    gt = tmp_path / "gt.png"
    write_palette_png(gt, np.ones((5, 6), np.uint8))
    backup = storage.overwrite_original(gt, labels, label_format="palette", palette=None, void_value=255)
    assert (read_label(gt) == labels).all() and (read_label(backup) == 1).all()
    assert backup.name.startswith("gt.png.bak-")
    with pytest.raises(ValueError, match="cannot be overwritten"):
        storage.overwrite_original(tmp_path / "x.json", labels, label_format="labelme", palette=None,
                                   void_value=255)


CRASHING_EDITOR = textwrap.dedent("""
    import sys, time
    import numpy as np
    from PySide6.QtWidgets import QApplication
    from app import settings
    from app.main_window import MainWindow
    from app.tools import Mode
    from tests import gui_helpers as gh

    root, ini, out = sys.argv[1:4]
    settings.use_ini_file(ini)
    app = QApplication([])
    w = MainWindow()
    w.resize(900, 700)
    w.show()
    w.open_dataset(root)
    deadline = time.time() + 60
    while w.editing.document is None and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    ed = w.editing
    second = w.dataset.stems[1]  # edit the second image: restoring must navigate to it
    w.show_stem(second)
    while ed.stem != second and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    ed.set_mode(Mode.BRUSH)
    ed.label = 5
    ed.set_brush_size(7)
    gh.drag(w.panels["gt"], [(8, 8), (60, 40)])
    assert ed.document.is_modified
    np.save(out, ed.document.labels)
    rec = ed.saver.recovery_file(ed.stem)
    while not rec.exists() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    print("READY", ed.stem, flush=True)
    while True:  # mid-edit, never saved: the test kills us here
        app.processEvents()
        time.sleep(0.01)
""")


def test_edits_survive_a_killed_process(qtbot, tmp_path, monkeypatch):
    root = make_demo_dataset(tmp_path / "ds", count=2, size=(80, 64))
    rec_dir, ini, expected = tmp_path / "recovery", tmp_path / "settings.ini", tmp_path / "painted.npy"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FCN_STUDIO_RECOVERY_DIR=str(rec_dir),
               FCN_STUDIO_AUTOSAVE_MS="200", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_EDITOR, str(root), str(ini), str(expected)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.time() + 120
        while not line.startswith("READY") and time.time() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
        assert line.startswith("READY"), proc.stderr.read() if proc.poll() is not None else "no READY"
        stem = line.split()[1]
        assert stem == "demo_00001"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (root / "corrections" / f"{stem}.png").exists()  # nothing was saved before the crash
    painted = np.load(expected)

    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(rec_dir))
    settings.use_ini_file(str(ini))
    offered = []
    monkeypatch.setattr(Saver, "ask_restore", lambda self, found: offered.extend(found) or "restore")
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    from app.main_window import MainWindow

    w = MainWindow()  # no dataset open: restoring opens the crashed session's dataset and image
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.editing.document is not None and w.editing.stem == stem
                        and w.editing.document.is_modified, timeout=30000)
        assert [r.stem for r in offered] == [stem]
        doc = w.editing.document
        assert (doc.labels == painted).all() and (w.current_gt == painted).all()
        doc.undo()  # the restoration itself is one undoable step back to the saved labels
        assert not (doc.labels == painted).all()
        doc.redo()
        w.editing.saver.save()
        qtbot.waitUntil(lambda: not doc.is_modified, timeout=10000)
        assert (read_label(root / "corrections" / f"{stem}.png") == painted).all()
        assert storage.list_recoveries(rec_dir) == []  # a clean save removes the recovery file
    finally:
        settings.use_ini_file(None)


def test_restore_question_does_not_block_and_discard_removes(qtbot, tmp_path, monkeypatch):
    """The startup question is non-modal: the window keeps running until the user answers."""
    rec_dir = tmp_path / "recovery"
    path = storage.recovery_path(rec_dir, tmp_path / "gone", "x")
    storage.write_recovery(path, np.zeros((4, 4), np.uint8), dataset_root=tmp_path / "gone", stem="x")
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(rec_dir))
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    from app.main_window import MainWindow

    try:
        w = MainWindow()
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: getattr(w.editing.saver, "_restore_box", None) is not None
                        and w.editing.saver._restore_box.isVisible(), timeout=10000)
        box = w.editing.saver._restore_box
        discard = [b for b in box.buttons() if b.text() == "Discard"][0]
        discard.click()
        assert not path.exists()
    finally:
        settings.use_ini_file(None)


def test_autosave_interval_is_at_most_30_s(monkeypatch):
    from app.editing.saving import autosave_interval_ms

    monkeypatch.delenv("FCN_STUDIO_AUTOSAVE_MS", raising=False)
    assert autosave_interval_ms() == 30_000
    monkeypatch.setenv("FCN_STUDIO_AUTOSAVE_MS", "250")
    assert autosave_interval_ms() == 250
    monkeypatch.setenv("FCN_STUDIO_AUTOSAVE_MS", "soon")
    assert autosave_interval_ms() == 30_000
