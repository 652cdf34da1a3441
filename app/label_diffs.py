"""Bounding-box diffs of a label map: the unit of ``app.document.LabelDocument``'s undo history. Qt-free.

A diff keeps only the pixels that changed inside a box (as indices or packed bits, whichever is smaller) with
their old and new values (a single value when they are all equal), so history memory grows with what the user
changed, not with the image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import numpy as np

Rect = tuple[int, int, int, int]  # (y0, y1, x0, x1), half-open

_step_ids = count(1)


@dataclass
class Diff:
    """Changed pixels inside ``rect``: where they are, what they were, what they became."""

    rect: Rect
    where: np.ndarray  # flat uint32 indices into the rect, or packed bits of a rect-sized mask
    packed: bool
    old: np.ndarray
    new: np.ndarray

    def mask(self) -> np.ndarray:
        """Rect-sized bool mask of the changed pixels."""
        y0, y1, x0, x1 = self.rect
        h, w = y1 - y0, x1 - x0
        if self.packed:
            return np.unpackbits(self.where, count=h * w).astype(bool).reshape(h, w)
        m = np.zeros(h * w, dtype=bool)
        m[self.where] = True
        return m.reshape(h, w)

    @property
    def nbytes(self) -> int:
        return int(self.where.nbytes + self.old.nbytes + self.new.nbytes)

    @staticmethod
    def from_mask(rect: Rect, mask: np.ndarray, old: np.ndarray, new: np.ndarray) -> Diff:
        """Store ``mask`` as indices or packed bits, whichever is smaller (sparse strokes vs. big fills)."""
        n = int(np.count_nonzero(mask))
        if 4 * n < (mask.size + 7) // 8:
            where = np.flatnonzero(mask).astype(np.uint32)
            return Diff(rect, where, False, old, new)
        return Diff(rect, np.packbits(mask.ravel()), True, old, new)


@dataclass
class Step:
    """One undo step: its diffs and a unique id (the document's state id after it)."""

    diffs: list[Diff] = field(default_factory=list)
    id: int = field(default_factory=lambda: next(_step_ids))


def compact(values: np.ndarray) -> np.ndarray:
    """A 0-d array when all values are equal (flood-fill regions always are), else the values themselves."""
    if values.size > 1 and values.min() == values.max():
        return np.array(values.flat[0], dtype=np.uint8)
    return values


def bbox(mask: np.ndarray) -> Rect | None:
    """The half-open bounding box of a bool mask's True pixels, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def union(a: Rect | None, b: Rect) -> Rect:
    """The box holding both (``a`` None: ``b``)."""
    if a is None:
        return b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def merge_diffs(labels: np.ndarray, diffs: list[Diff]) -> Diff | None:
    """One diff for a stroke's ``diffs`` (applied to ``labels`` already): their union box, each pixel's
    value before the first and after the last; None when the stroke changed nothing in the end."""
    if len(diffs) == 1:
        return diffs[0]
    rect: Rect | None = None
    for d in diffs:
        rect = union(rect, d.rect)
    assert rect is not None
    y0, y1, x0, x1 = rect
    old = labels[y0:y1, x0:x1].copy()
    mask = np.zeros(old.shape, dtype=bool)
    for d in reversed(diffs):  # earliest diff written last so its old values win
        dy0, dy1, dx0, dx1 = d.rect
        sub = d.mask()
        old[dy0 - y0 : dy1 - y0, dx0 - x0 : dx1 - x0][sub] = d.old
        mask[dy0 - y0 : dy1 - y0, dx0 - x0 : dx1 - x0] |= sub
    new = labels[y0:y1, x0:x1][mask]
    keep = old[mask] != new  # pixels painted and painted back are no change at all
    if not keep.all():
        mask[mask] = keep
        new = new[keep]
        if new.size == 0:
            return None
    return Diff.from_mask(rect, mask, compact(old[mask]), compact(new))
