"""What an assisted-correction tool returns: the changed rectangle and the new values, for one undo step.

The assisted tools (``grabcut``, ``scissors``, ``superpixels``, ``holes``) are pure numpy/OpenCV functions:
they read a label map (and the image, the prediction) and never write it. The caller applies the result
with ``apply_edit(document, edit)``, which goes through ``LabelDocument.set_region`` (one undo step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.document import LabelDocument, Rect


@dataclass
class AssistEdit:
    """New label values inside ``rect`` = ``(y0, y1, x0, x1)`` (half-open, like ``LabelDocument``).

    ``mask`` (rect-sized bool) marks the pixels that change; ``values`` (rect-sized uint8) holds their new
    labels (other pixels of ``values`` are the current ones). ``rect`` is tight around ``mask``.
    """

    rect: Rect
    mask: np.ndarray
    values: np.ndarray

    @property
    def count(self) -> int:
        """Pixels that change."""
        return int(np.count_nonzero(self.mask))

    def apply_to(self, labels: np.ndarray) -> None:
        """Write the edit into ``labels`` in place (no history; for previews and tests)."""
        y0, y1, x0, x1 = self.rect
        labels[y0:y1, x0:x1][self.mask] = self.values[self.mask]


def edit_from(labels: np.ndarray, new: np.ndarray, where: np.ndarray, origin: tuple[int, int] = (0, 0),
              ) -> AssistEdit | None:
    """The edit that writes ``new`` where ``where`` is True, for arrays covering ``labels`` from ``origin``
    = ``(y, x)``; only pixels whose value really changes count. None when nothing changes."""
    oy, ox = origin
    h, w = new.shape
    current = labels[oy : oy + h, ox : ox + w]
    change = where & (current != new)
    rows = np.flatnonzero(change.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(change.any(axis=0))
    ry0, ry1, rx0, rx1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    mask = change[ry0:ry1, rx0:rx1]
    values = current[ry0:ry1, rx0:rx1].copy()
    values[mask] = new[ry0:ry1, rx0:rx1][mask]
    return AssistEdit((oy + ry0, oy + ry1, ox + rx0, ox + rx1), mask, values)


def apply_edit(document: LabelDocument, edit: AssistEdit | None) -> Rect | None:
    """Apply ``edit`` to ``document`` as one undo step; returns the changed rectangle (None: no change)."""
    if edit is None:
        return None
    y0, y1, x0, x1 = edit.rect
    full = np.zeros(document.shape, dtype=bool)
    full[y0:y1, x0:x1] = edit.mask
    values = np.zeros(document.shape, dtype=np.uint8)
    values[y0:y1, x0:x1] = edit.values
    return document.set_region(full, values)
