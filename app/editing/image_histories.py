"""Undo that survives switching images, for the editing controller: leaving an image keeps its document
(``app.editing.history_store.HistoryStore``, budget from Edit → Undo memory for other images…, QSettings
``editing/undo_budget_mb``, default 256 MB); coming back restores it with its undo steps when the labels on
disk are unchanged. The undo action's tooltip and an Edit-menu line say how many steps each image holds."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog

from app import settings
from app.editing.history_store import MB, HistoryStore, undo_steps


class ImageHistories(QObject):
    def __init__(self, controller):
        super().__init__(controller)
        self.c = controller
        self.store = HistoryStore(settings.undo_budget_mb() * MB)
        self.info_action = controller._action("Undo history: none kept", "edit", ())
        self.info_action.setEnabled(False)
        controller._action("Undo &memory for other images…", "edit", (), self.ask_budget,
                           tip="How much memory the undo steps of images you left may use (oldest dropped "
                               "first)")

    def _key(self, stem: str) -> str:
        ds = self.c.window.dataset
        return f"{getattr(ds, 'root', '')}\n{stem}"

    def leave(self, stem: str | None, doc) -> None:
        """The image ``stem`` is left: keep its document (and its undo steps) within the budget."""
        if stem is None or doc is None:
            return
        doc.remove_listener(self.c._labels_changed)
        self.store.keep(self._key(stem), doc)

    def restore(self, stem: str, labels):
        """``stem``'s kept document when the labels just read equal it (else None)."""
        return self.store.take(self._key(stem), labels)

    def set_budget_mb(self, mb: int) -> None:
        settings.set_undo_budget_mb(mb)
        self.store.set_budget(mb * MB)
        self.describe(self.c.undo_action)

    def ask_budget(self) -> None:
        mb, ok = QInputDialog.getInt(self.c.window, "Undo memory", "Memory for the undo steps of other "
                                     "images (MB):", self.store.budget_bytes // MB, 0, 65536)
        if ok:
            self.set_budget_mb(mb)

    def describe(self, undo_action) -> None:
        """Say in the undo action's tooltip and in the Edit menu how many steps each image holds."""
        doc = self.c.document
        here = 0 if doc is None else undo_steps(doc)
        kept = self.store.steps()
        others = ", ".join(f"{k.rsplit(chr(10), 1)[-1]}: {n}" for k, n in reversed(kept.items()))
        mb = self.store.nbytes / MB
        line = f"{len(kept)} other image{'s' if len(kept) != 1 else ''} keep their undo steps"
        undo_action.setToolTip(f"Undo (Ctrl+Z): {here} step{'s' if here != 1 else ''} for this image; {line}"
                               + (f" ({others}; {mb:.1f} of {self.store.budget_bytes // MB} MB)"
                                  if kept else ""))
        self.info_action.setText(f"Undo history: {here} here, {line}" + (f" ({others})" if kept else ""))
