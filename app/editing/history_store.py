"""Undo that survives switching images: the documents of images left behind, with their undo steps, within
a memory budget (oldest image dropped first). Qt-free.

Coming back to an image restores its document only if the labels read from disk equal the document's
(saved since, and not changed on disk by anyone else); otherwise the history no longer describes the file
and is dropped."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from app.document import LabelDocument

MB = 1 << 20


def undo_steps(doc: LabelDocument) -> int:
    """How many steps ``doc`` can undo."""
    return len(doc._undo)  # noqa: SLF001 - read-only; LabelDocument has no public count yet


def document_nbytes(doc: LabelDocument) -> int:
    """What keeping ``doc`` costs: its history plus its label, original and edited maps."""
    return doc.history_nbytes() + doc.labels.nbytes + doc.original.nbytes + doc.edited.nbytes


class HistoryStore:
    """``keep(key, doc)`` when leaving an image, ``take(key, labels)`` when coming back."""

    def __init__(self, budget_bytes: int = 256 * MB):
        self.budget_bytes = int(budget_bytes)
        self._docs: OrderedDict[str, LabelDocument] = OrderedDict()  # oldest first

    def __contains__(self, key: str) -> bool:
        return key in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def nbytes(self) -> int:
        return sum(document_nbytes(d) for d in self._docs.values())

    def steps(self) -> dict[str, int]:
        """Undo steps held per image (most recently left last)."""
        return {key: undo_steps(doc) for key, doc in self._docs.items()}

    def keep(self, key: str, doc: LabelDocument | None) -> None:
        """Remember ``doc`` (only one with something to undo or redo), then trim to the budget."""
        self._docs.pop(key, None)
        if doc is None or not (doc.can_undo or doc.can_redo):
            return
        self._docs[key] = doc
        self.trim()

    def trim(self) -> None:
        """Drop the oldest images until the rest fit in the budget."""
        total = self.nbytes
        while self._docs and total > self.budget_bytes:
            _key, doc = self._docs.popitem(last=False)
            total -= document_nbytes(doc)

    def set_budget(self, budget_bytes: int) -> None:
        self.budget_bytes = int(budget_bytes)
        self.trim()

    def take(self, key: str, labels: np.ndarray | None) -> LabelDocument | None:
        """The kept document of ``key`` if its labels equal ``labels`` (the file as read now), else None; the
        entry is removed either way (the caller owns the document again)."""
        doc = self._docs.pop(key, None)
        if doc is None or labels is None or doc.labels.shape != labels.shape:
            return None
        return doc if np.array_equal(doc.labels, labels) else None

    def clear(self) -> None:
        self._docs.clear()
