"""Autosave of unsaved edits into the recovery folder and their restore after a crash: the half of
:class:`app.editing.saving.Saver` that never writes a correction. One recovery file per (dataset, image,
task): a two-headed net's geometric labels are snapshot apart and restore into the geometric labels."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from app.editing import storage

LANE = "labels"  # saves and autosaves run one after another, in order


class RecoveryMixin:
    """Needs ``self.c`` (the editing controller), ``self.window``, ``self.recovery_dir``, ``self.pending``,
    ``self.guard``, ``self._doc_task``, ``self._autosaved_state``, ``self._autosave_gen`` (set by Saver)."""

    def _task(self) -> str:
        return getattr(self.window.dataset, "task", None) or "sem"

    def _dataset_root(self) -> str | None:
        ds = self.window.dataset
        return str(Path(ds.root).resolve()) if ds is not None else None

    def recovery_file(self, stem: str) -> Path:
        """``stem``'s recovery file for the task being edited (semantic or a two-headed net's other)."""
        return storage.recovery_path(self.recovery_dir, self._dataset_root(), stem, self._doc_task)

    def autosave(self) -> None:
        """Timer tick: snapshot unsaved edits into the recovery folder (written off the GUI thread)."""
        doc, stem = self.c.document, self.c.stem
        if doc is None or stem is None or not doc.is_modified or doc.state_id == self._autosaved_state:
            return
        self._autosaved_state = doc.state_id
        task = self._doc_task  # the document's own task (a task switch shows the new one's a moment later)
        labels, original, path = doc.labels.copy(), doc.original.copy(), self.recovery_file(stem)
        root, gen = self._dataset_root(), self._autosave_gen

        def write() -> None:
            if gen == self._autosave_gen:  # skipped when a save or discard happened since the snapshot
                storage.write_recovery(path, labels, dataset_root=root, stem=stem, original=original,
                                       task=task)

        self.window.jobs.start(lambda _p, _s: write(), name="autosave", lane=LANE,
                               on_error=lambda msg: self.window.status_bar.showMessage(
                                   f"Autosave failed: {msg}", 8000))

    def discard_recovery(self) -> None:
        """Forget the current image's unsaved edits (discard)."""
        self._autosave_gen += 1
        if self.c.stem is not None:
            storage.remove_recovery(self.recovery_file(self.c.stem))
        self._autosaved_state = None

    def new_document(self) -> None:
        """A new image is open: note its correction file's state; restore pending recovered edits for it."""
        self._autosaved_state = None
        self._doc_task = self._task()
        doc, stem = self.c.document, self.c.stem
        if stem is not None:
            self.guard.opened(stem, self.corrections_dir(), self.window.dataset)
        rec = self.pending.pop((self._dataset_root(), self._task(), stem), None)
        if rec is None or doc is None:
            return
        if rec.labels.shape != doc.shape:
            self.window.report_error(f"{rec.path}: recovered labels are {rec.labels.shape}, the image is "
                                     f"{doc.shape}; not restored.")
            return
        if doc.replace_all(rec.labels) is None:
            storage.remove_recovery(rec.path)  # already saved: nothing to restore
            return
        doc.mark_unsaved()
        self.window.status_bar.showMessage(f"Restored unsaved edits of {stem} ({rec.describe()})", 8000)
        self.c.after_edit()
        self.window.labels_committed(stem, doc.labels.copy())

    def offer_recovery(self) -> None:
        """At start: look for edits a crashed session left in the recovery folder (a background job) and offer
        to restore them (never blocks)."""
        folder = self.recovery_dir
        self.window.jobs.start(lambda _p, _s: storage.list_recoveries(folder), name="recovery scan",
                               on_done=self._recoveries_found)

    def _recoveries_found(self, found: list) -> None:
        if found:
            choice = self.ask_restore(found)
            if choice is not None:
                self.apply_restore_choice(choice, found)

    def apply_restore_choice(self, choice: str, found: list[storage.Recovery]) -> None:
        """"restore": restore as images are opened (opening the crashed session's dataset and image);
        "discard": delete the files; anything else: keep them for the next start."""
        if choice == "discard":
            for rec in found:
                storage.remove_recovery(rec.path)
            return
        if choice != "restore":
            return
        for rec in found:
            root = str(Path(rec.dataset_root).resolve()) if rec.dataset_root else None
            self.pending[(root, rec.task, rec.stem)] = rec
        first = found[-1]
        if first.dataset_root and self._dataset_root() != str(Path(first.dataset_root).resolve()):
            self._go_after_open = first
            self.window.dataset_opened.connect(self._open_pending_stem)
            self.window.open_dataset(first.dataset_root)
        else:
            self._go_to(first)

    def _go_to(self, rec: storage.Recovery) -> None:
        """Show the recovered image in its task (a geometric edit restores into the geometric labels)."""
        w = self.window
        if rec.task != self._task() and rec.task in getattr(w.workspace, "tasks", ()):
            w.task_switch.set_task(rec.task)  # the image's document in that task arrives later: new_document
            if self.c.stem != rec.stem:
                w.show_stem(rec.stem)
        elif self.c.stem == rec.stem:
            self.new_document()
        else:
            w.show_stem(rec.stem)

    def _open_pending_stem(self, _dataset) -> None:
        self.window.dataset_opened.disconnect(self._open_pending_stem)
        rec = self._go_after_open
        QTimer.singleShot(0, lambda: self._go_to(rec))  # after the window's own first request

    def ask_restore(self, found: list[storage.Recovery]) -> str | None:
        """Show a non-modal question; the answer arrives through :meth:`apply_restore_choice`.

        Returns None (answer pending). Tests replace this with a function returning "restore", "discard"
        or "later" directly.
        """
        names = "\n".join(r.describe() for r in found[-10:])
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved edits",
                          f"FCN Studio found unsaved label edits from a session that did not close "
                          f"normally:\n{names}\n\nRestore them?", parent=self.window)
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setWindowModality(Qt.WindowModality.NonModal)

        def answered(button) -> None:
            choice = "restore" if button is restore else "discard" if button is discard else "later"
            self.apply_restore_choice(choice, found)

        box.buttonClicked.connect(answered)
        self._restore_box = box  # keep it alive while shown
        box.show()
        return None
