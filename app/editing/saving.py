"""Saving corrections (off the GUI thread: Ctrl+S, and on image switch / close, where the switch happens
once the save has landed), the explicit overwrite of the original ground truth, periodic autosave to the
recovery folder and restore after a crash. Every write is a job of the window's ``app.jobs.JobRunner`` in the
"labels" lane, so writes land in the order they were asked for.

Policy (also in the shortcut sheet): switching image or closing with unsaved edits saves them to the
corrections folder silently; if that fails the user chooses retry / discard / stay. A correction file that
another window or program wrote since this window read (or last wrote) it is never overwritten silently:
the user chooses overwrite / save as a copy / cancel.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QMessageBox

from app.corrections import corrections_dir_for, user_data_dir
from app.editing import storage
from app.editing.recovery import LANE, RecoveryMixin
from app.editing.save_conflicts import SaveGuard

DEFAULT_AUTOSAVE_MS = 30_000


def autosave_interval_ms() -> int:
    """``$FCN_STUDIO_AUTOSAVE_MS`` (tests use a few hundred ms), else 30 s."""
    try:
        return max(50, int(os.environ.get("FCN_STUDIO_AUTOSAVE_MS", DEFAULT_AUTOSAVE_MS)))
    except ValueError:
        return DEFAULT_AUTOSAVE_MS


class Saver(RecoveryMixin, QObject):
    """Writes the controller's document; the ``ask_*`` methods are its only modal questions. Autosave and
    restore after a crash are in :mod:`app.editing.recovery`."""

    def __init__(self, controller):
        super().__init__(controller)
        self.c = controller
        self.window = controller.window
        self.recovery_dir = storage.recovery_dir()
        self._saving = False
        self._save_again = False
        self._autosaved_state: int | None = None
        self._generation = 0  # bumped by every save: a late background result never overrides a newer one
        self._autosave_gen = 0  # bumped by a clean save or discard: an autosave in flight skips its write
        self._after_save = None  # the navigation (image switch, close) waiting for the save in flight
        self.pending: dict[tuple[str | None, str, str], storage.Recovery] = {}  # (root, task, stem)
        self._doc_task = "sem"  # the task of the document being edited
        self.guard = SaveGuard(self)  # another window / process wrote the file since: ask, never overwrite
        self.timer = QTimer(self)
        self.timer.setInterval(autosave_interval_ms())
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        # "Saved ✓ <file>" until the next edit, left of the read-out whenever the status bar shows no
        # message (the message area needs the room; other messages soon replace the save's own)
        self.indicator = QLabel()
        self.indicator.setStyleSheet("color: #2e8b3a;")
        self.indicator.hide()
        self.saved_path: Path | None = None
        self.window.status_bar.insertPermanentWidget(0, self.indicator)
        self.window.status_bar.messageChanged.connect(lambda _text: self._show_indicator())

    def _show_indicator(self) -> None:
        self.indicator.setVisible(self.saved_path is not None and not self.window.status_bar.currentMessage())

    def show_saved(self, path: Path) -> None:
        """Say where the labels were saved: the whole path as a message, then the indicator."""
        self.saved_path = path = Path(path)
        self.indicator.setText(f"Saved ✓ {path.name}")
        self.indicator.setToolTip(f"Corrections saved to {path}")
        self.window.status_bar.showMessage(f"Saved corrections: {path}", 8000)
        self._show_indicator()

    def edited(self) -> None:
        """The labels changed since the last save: the indicator goes until the next save."""
        doc = self.c.document
        if doc is not None and doc.is_modified:
            self.saved_path = None
            self._show_indicator()

    # -- where ---------------------------------------------------------------------------------------------
    def corrections_dir(self) -> Path:
        """The corrections folder the dataset was opened with (a user folder when there is no dataset)."""
        ds = self.window.dataset
        if ds is None:
            return user_data_dir() / "corrections" / "no-dataset"
        return Path(ds.labels_dir) if getattr(ds, "labels_dir", None) else corrections_dir_for(ds.root)

    # -- another writer of the same file (app/editing/save_conflicts.py decides when to ask) ---------------
    def ask_conflict(self, path: Path, other: storage.FileStamp) -> str:
        """"overwrite", "copy" or "cancel": the correction file changed on disk since this window read it."""
        when = time.strftime("%H:%M:%S", time.localtime(other.mtime_ns / 1e9))
        box = QMessageBox(QMessageBox.Icon.Warning, "Corrections changed on disk",
                          f"{path}\nwas changed by another window or program at {when} after this window "
                          "opened it. Saving here would replace those labels.\n\nOverwrite them with yours, "
                          "save yours as a separate copy (the other version stays in use), or cancel?",
                          parent=self.window)
        overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
        copy = box.addButton("Save as a copy", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(copy)
        box.exec()
        clicked = box.clickedButton()
        return "overwrite" if clicked is overwrite else "copy" if clicked is copy else "cancel"

    # -- saving --------------------------------------------------------------------------------------------
    def save(self) -> None:
        """Ctrl+S: write a copy of the labels in the background; the document stays editable meanwhile."""
        doc, stem = self.c.document, self.c.stem
        if doc is None or stem is None:
            return
        if self._saving:
            self._save_again = True
            return
        folder, palette = self.corrections_dir(), self.window.palette.copy()
        target = self.guard.target(stem, folder)
        if target is None:
            self._after_save = None  # cancelled: the image switch that asked for this save does not happen
            return
        out_folder, out_stem, is_copy = target
        self._saving = True
        self._generation += 1
        gen = self._generation
        labels, state = doc.labels.copy(), doc.state_id  # the snapshot is taken now, on the GUI thread
        write = self.guard.write
        self.window.jobs.start(lambda _p, _s: write(out_folder, out_stem, labels, palette, is_copy),
                               name="save labels", lane=LANE,
                               on_done=lambda path: self._saved(doc, stem, state, path, gen=gen,
                                                                labels=labels, is_copy=is_copy),
                               on_error=lambda msg: self._save_failed(stem, out_folder, msg))

    def save_now(self) -> bool:
        """Save synchronously (image switch, close, export); False (after reporting) when it failed or the
        user cancelled."""
        return self._save_sync() == "saved"

    def _save_sync(self) -> str:
        """"saved", "failed" (reported) or "cancelled" (another writer's file kept)."""
        doc, stem = self.c.document, self.c.stem
        if doc is None or stem is None:
            return "saved"
        if self.window.jobs.busy(LANE):
            self.window.jobs.join(lane=LANE)  # an older snapshot still being written must not land after this
        folder = self.corrections_dir()
        target = self.guard.target(stem, folder)
        if target is None:
            return "cancelled"
        out_folder, out_stem, is_copy = target
        self._generation += 1
        try:
            path = self.guard.write(out_folder, out_stem, doc.labels, self.window.palette, is_copy)
        except OSError as exc:
            self._report_failure(stem, out_folder, exc)
            return "failed"
        self._saved(doc, stem, doc.state_id, path, gen=self._generation, finish_async=False,
                    labels=doc.labels.copy(), is_copy=is_copy)
        return "saved"

    def _saved(self, doc, stem: str, state: int, path: Path, *, gen: int, finish_async: bool = True,
               labels=None, is_copy: bool = False) -> None:
        if finish_async:
            self._saving = False
        if gen != self._generation:
            return  # a synchronous save already wrote newer labels and did the bookkeeping
        doc.mark_saved(state, labels=labels)  # the snapshot written: is_modified compares pixels with it
        if not doc.is_modified:
            self._autosave_gen += 1  # an autosave still in flight must not resurrect the recovery file
            storage.remove_recovery(self.recovery_file(stem))
        if is_copy:  # the other writer's file stays the correction in use
            self.window.status_bar.showMessage(
                f"Saved your labels as a copy: {path} (the corrections file keeps the other version)", 15000)
            self.c.update_actions()
            return
        ds = self.window.dataset
        if ds is not None and stem in getattr(ds, "stems", []):
            sample = ds.sample(stem)
            sample.label_path, sample.corrected = Path(path), True  # the correction is the label in use now
        self.window.mark_corrected(stem, True)
        if labels is not None:  # the saved labels are the image's labels now: its scores and totals follow
            self.window.labels_committed(stem, labels)
        self.show_saved(path)
        self.c.update_actions()
        if finish_async and self._save_again:
            self._save_again = False
            if doc is self.c.document and doc.is_modified:
                self.save()
                return
        then, self._after_save = self._after_save, None
        if then is not None and doc is self.c.document and not doc.is_modified:
            then()  # the image switch / close that waited for this save

    def _save_failed(self, stem: str, folder: Path, exc) -> None:
        self._saving = self._save_again = False
        then, self._after_save = self._after_save, None
        if then is None:
            self._report_failure(stem, folder, exc)
            return
        choice = self.ask_failed_save()  # the user was leaving the image: retry, discard, or stay
        if choice == "retry":
            self.leave_image(then=then)
        elif choice == "discard":
            self.discard_recovery()
            doc = self.c.document
            if doc is not None:
                doc.mark_saved(doc.state_id)  # the edits are given up: leaving no longer saves them
            then()
        else:
            self._report_failure(stem, folder, exc)

    def _report_failure(self, stem: str, folder: Path, exc: Exception) -> None:
        self.window.report_error(f"Could not save the corrected labels of {stem} to {folder}: {exc}. "
                                 "Your edits are kept in the window (not saved); free space or choose a "
                                 "writable dataset folder, then press Ctrl+S again.")
        self.c.update_actions()

    def leave_image(self, then=None) -> bool:
        """``before_image_change`` hook: save unsaved edits; on failure ask retry / discard / stay.

        With ``then`` (the navigation that asked), the save runs off the GUI thread: this answers False now
        and calls ``then()`` once the labels are on disk (the window never waits for a disk). Without it
        (export, fine-tune start) the save is synchronous."""
        doc = self.c.document
        if doc is None or not doc.is_modified:
            return True
        if then is not None:
            self._after_save = then  # the latest navigation wins
            self.save()
            return False
        while (result := self._save_sync()) != "saved":
            if result == "cancelled":
                return False  # stay on the image: the other writer's file and these edits are both kept
            choice = self.ask_failed_save()
            if choice == "discard":
                self.discard_recovery()
                return True
            if choice == "cancel":
                return False
        return True

    def ask_failed_save(self) -> str:
        """"retry", "discard" or "cancel" after a failed save on image switch / close."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved corrections",
                          "The corrected labels could not be saved. Retry, discard the edits, or stay on "
                          "this image?", parent=self.window)
        retry = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard edits", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Stay", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        clicked = box.clickedButton()
        return "retry" if clicked is retry else "discard" if clicked is discard else "cancel"

    # -- overwrite original --------------------------------------------------------------------------------
    def overwrite_original(self) -> None:
        """File → Overwrite original ground truth…: after confirmation, with a backup next to the file."""
        doc, stem, ds = self.c.document, self.c.stem, self.window.dataset
        if doc is None or ds is None or stem not in ds.stems:
            return
        sample = ds.sample(stem)
        target = getattr(sample, "original_label_path", None) or sample.label_path
        if target is None:
            self.window.report_error(f"{stem} has no original ground-truth file to overwrite; use Ctrl+S.")
            return
        if not self.ask_overwrite(Path(target)):
            return
        try:
            backup = storage.overwrite_original(target, doc.labels, label_format=ds.label_format,
                                                palette=ds.palette, void_value=ds.void_value)
        except (OSError, ValueError) as exc:
            self.window.report_error(f"Could not overwrite {target}: {exc}. Your edits are kept.")
            return
        self.save_now()  # keep the correction equal to the new original, so both views agree
        self.window.status_bar.showMessage(f"Overwrote {target}; backup {backup.name}", 8000)

    def ask_overwrite(self, target: Path) -> bool:
        answer = QMessageBox.question(
            self.window, "Overwrite original ground truth",
            f"Replace the dataset's own label file\n{target}\nwith the corrected labels? A backup copy "
            "(.bak-<time>) is kept next to it.")
        return answer == QMessageBox.StandardButton.Yes
