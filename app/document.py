"""The label map being edited, with an undo history of bounding-box diffs. Qt-free.

A ``LabelDocument`` owns one ``(H, W)`` uint8 label map (255 = void) plus the original ground truth it started
from. Every operation (brush segment, flood fill, polygon, class replacement, accept-prediction region) goes
through ``_apply``, which records only the pixels that changed inside a bounding box (napari's
``_MaskedPaintAtom`` idea), so history memory grows with what the user changed, not with the image size.
One stroke (``begin_stroke`` ... ``end_stroke``) is one undo step. Listeners get the dirty rectangle
``(y0, y1, x0, x1)`` (half-open) after every change so views repaint only that part.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from app.label_diffs import Diff, Rect, Step, bbox, compact, merge_diffs, union

VOID = 255
Point = tuple[float, float]  # (x, y) in pixel units; pixel (row r, column c) has its centre at (c, r)

class LabelDocument:
    """An editable label map with history, an "edited" record and change notification.

    ``labels`` is edited in place (views may share the array). ``edited`` is True where the label differs from
    ``original`` (the ground truth the document was opened from; all void when the image had none).
    """

    def __init__(self, labels: np.ndarray, *, original: np.ndarray | None = None, max_history: int = 200):
        labels = np.asarray(labels)
        if labels.ndim != 2 or labels.dtype != np.uint8:
            raise ValueError(f"label map must be a 2-D uint8 array, got {labels.dtype} {labels.shape}")
        self.labels = labels if labels.flags.c_contiguous and labels.flags.writeable else labels.copy()
        if original is None:
            original = self.labels.copy()
        elif original.shape != self.labels.shape:
            raise ValueError(f"original ground truth {original.shape} does not match labels {labels.shape}")
        self.original = np.array(original, dtype=np.uint8, copy=True)
        self.edited = self.labels != self.original
        self._undo: deque[Step] = deque(maxlen=max_history)
        self._redo: list[Step] = []
        self._stroke: list[Diff] | None = None
        self._base_id = 0  # the state below the oldest undo step (a dropped step's id once the cap drops one)
        # the labels as last saved / opened (None: unknown, always modified). ``is_modified`` compares
        # pixels, not history positions: a step dropped by the history cap keeps its pixels while the
        # history no longer reaches the saved state (an "all undone" document that still differs).
        self._saved: np.ndarray | None = self.labels.copy()
        self._version = 0  # bumped by every change of ``labels``
        self._modified_cache: tuple[int, bool] | None = None
        self._listeners: list[Callable[[Rect], None]] = []

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape  # type: ignore[return-value]

    @property
    def is_modified(self) -> bool:
        """True exactly when the labels differ from the last saved / opened state (pixel comparison, done
        once per change), or after :meth:`mark_unsaved`."""
        if self._saved is None:
            return True
        if self._modified_cache is None or self._modified_cache[0] != self._version:
            self._modified_cache = (self._version, not np.array_equal(self.labels, self._saved))
        return self._modified_cache[1]

    @property
    def state_id(self) -> int:
        """Identifies the current history state (changes with every edit, undo and redo)."""
        return self._top_id()

    def mark_saved(self, state_id: int | None = None, labels: np.ndarray | None = None) -> None:
        """Record the current state as saved, or the earlier ``state_id`` a background save wrote (its
        ``labels`` snapshot when the caller has it, else rebuilt from the history; a state the history no
        longer reaches leaves the document modified)."""
        if labels is not None:
            if labels.shape != self.shape:
                raise ValueError(f"saved labels {labels.shape} do not match the document {self.shape}")
            saved = np.array(labels, dtype=np.uint8, copy=True)
        elif state_id is None:
            saved = self.labels.copy()
        else:
            saved = self._labels_at(state_id)
        self._saved, self._modified_cache = saved, None

    def mark_unsaved(self) -> None:
        """Force the modified state (e.g. labels restored from a recovery file) until the next save."""
        self._saved, self._modified_cache = None, None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def history_nbytes(self) -> int:
        """Bytes held by the undo and redo history."""
        steps = list(self._undo) + self._redo
        return sum(d.nbytes for s in steps for d in s.diffs)

    def _top_id(self) -> int:
        return self._undo[-1].id if self._undo else self._base_id

    def _labels_at(self, state_id: int) -> np.ndarray | None:
        """A copy of the labels at history state ``state_id`` (undo or redo side), None when unreachable."""
        if state_id == self._top_id():
            return self.labels.copy()
        out = self.labels.copy()
        steps = list(self._undo)
        for i in range(len(steps) - 1, -1, -1):
            for d in reversed(steps[i].diffs):
                y0, y1, x0, x1 = d.rect
                out[y0:y1, x0:x1][d.mask()] = d.old
            if (steps[i - 1].id if i > 0 else self._base_id) == state_id:
                return out
        out = self.labels.copy()
        for step in reversed(self._redo):
            for d in step.diffs:
                y0, y1, x0, x1 = d.rect
                out[y0:y1, x0:x1][d.mask()] = d.new
            if step.id == state_id:
                return out
        return None

    def add_listener(self, fn: Callable[[Rect], None]) -> None:
        """Call ``fn(rect)`` after every change of ``labels``."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Rect], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self, rect: Rect) -> None:
        for fn in list(self._listeners):
            fn(rect)

    # -- strokes -------------------------------------------------------------------------------------------
    def begin_stroke(self) -> None:
        """Start grouping changes into one undo step."""
        if self._stroke is None:
            self._stroke = []

    def end_stroke(self) -> None:
        """Close the group: its diffs merge into one step (the first old value per pixel wins)."""
        diffs, self._stroke = self._stroke, None
        if diffs:
            merged = merge_diffs(self.labels, diffs)
            if merged is not None:
                self._push(Step([merged]))

    def _push(self, step: Step) -> None:
        if self._undo.maxlen is not None and len(self._undo) == self._undo.maxlen:
            self._base_id = self._undo[0].id  # the oldest step is dropped: its state is the new bottom
        self._undo.append(step)
        self._redo.clear()

    # -- the one writer ------------------------------------------------------------------------------------
    def _apply(self, rect: Rect, mask: np.ndarray, values: np.ndarray | int, *,
               region_of: int | None = None) -> Rect | None:
        """Write ``values`` where the rect-sized ``mask`` is True, record the diff, return the changed box.

        ``region_of``: the caller guarantees ``mask`` is a tight region whose pixels all hold this label
        (flood fill), so the per-pixel comparisons and the old-value gather are skipped.
        """
        y0, y1, x0, x1 = rect
        view = self.labels[y0:y1, x0:x1]
        scalar = not isinstance(values, np.ndarray)
        if scalar:
            values = np.uint8(values)
        if region_of is not None and scalar:
            if region_of == values:
                return None
            change = mask
            old_vals = np.array(region_of, dtype=np.uint8)
            np.copyto(view, values, where=change)
            return self._record(rect, change, old_vals, np.array(values, dtype=np.uint8))
        change = mask & (view != values)
        tight = bbox(change)
        if tight is None:
            return None
        ty0, ty1, tx0, tx1 = tight
        if (ty1 - ty0, tx1 - tx0) != change.shape:
            change = change[ty0:ty1, tx0:tx1]
            view = view[ty0:ty1, tx0:tx1]
            if not scalar:
                values = values[ty0:ty1, tx0:tx1]
            rect = (y0 + ty0, y0 + ty1, x0 + tx0, x0 + tx1)
        old_vals = compact(view[change])
        if scalar:
            view[change] = values
            new_vals = np.array(values, dtype=np.uint8)  # 0-d: a fill stores one byte, not one per pixel
        else:
            new_vals = compact(values[change])
            view[change] = new_vals
        return self._record(rect, change, old_vals, new_vals)

    def _record(self, rect: Rect, change: np.ndarray, old_vals: np.ndarray, new_vals: np.ndarray) -> Rect:
        diff = Diff.from_mask(rect, change, old_vals, new_vals)
        if self._stroke is not None:
            self._stroke.append(diff)
        else:
            self._push(Step([diff]))
        self._changed(rect)
        return rect

    def _changed(self, rect: Rect) -> None:
        self._version += 1
        self._update_edited(rect)
        self._notify(rect)

    def _update_edited(self, rect: Rect) -> None:
        y0, y1, x0, x1 = rect
        np.not_equal(self.labels[y0:y1, x0:x1], self.original[y0:y1, x0:x1], out=self.edited[y0:y1, x0:x1])

    # -- operations ----------------------------------------------------------------------------------------
    def paint(self, p0: Point, p1: Point, size: float, value: int | np.ndarray) -> Rect | None:
        """Paint a round brush of diameter ``size`` along the segment p0→p1 (round caps).

        ``value`` is a class index, or a full ``(H, W)`` array copied from under the brush
        Returns the changed rectangle or None.
        """
        rect, mask = self.brush_mask(p0, p1, size)
        if rect is None:
            return None
        if isinstance(value, np.ndarray):
            y0, y1, x0, x1 = rect
            value = value[y0:y1, x0:x1]
        return self._apply(rect, mask, value)

    def brush_mask(self, p0: Point, p1: Point, size: float) -> tuple[Rect | None, np.ndarray]:
        """Rect and rect-sized mask of pixels whose centre lies within ``size / 2`` of the segment p0→p1."""
        h, w = self.shape
        r = max(float(size), 1.0) / 2.0
        (ax, ay), (bx, by) = p0, p1
        x0 = max(int(np.floor(min(ax, bx) - r)), 0)
        x1 = min(int(np.ceil(max(ax, bx) + r)) + 1, w)
        y0 = max(int(np.floor(min(ay, by) - r)), 0)
        y1 = min(int(np.ceil(max(ay, by) + r)) + 1, h)
        if x0 >= x1 or y0 >= y1:
            return None, np.zeros((0, 0), dtype=bool)
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        xs = np.arange(x0, x1, dtype=np.float32)[None, :]
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        if seg2 > 0:
            t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / seg2, 0.0, 1.0)
            px, py = xs - (ax + t * dx), ys - (ay + t * dy)
        else:
            px, py = xs - ax, ys - ay
        # the small epsilon makes integer diameters symmetric (size 3 -> a plus-free 3x3 disc)
        return (y0, y1, x0, x1), (px * px + py * py) <= r * r + 1e-3

    def fill(self, x: int, y: int, value: int) -> Rect | None:
        """Flood-fill the 4-connected region of equal label containing pixel (x, y) with ``value``."""
        h, w = self.shape
        if not (0 <= x < w and 0 <= y < h) or self.labels[y, x] == value:
            return None
        mask = np.zeros((h + 2, w + 2), dtype=np.uint8)
        flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        _, _, _, (rx, ry, rw, rh) = cv2.floodFill(self.labels, mask, (int(x), int(y)), 0, 0, 0, flags)
        rect = (ry, ry + rh, rx, rx + rw)
        region = mask[ry + 1 : ry + rh + 1, rx + 1 : rx + rw + 1].view(bool)
        return self._apply(rect, region, value, region_of=int(self.labels[y, x]))

    def polygon(self, points: Sequence[Point], value: int) -> Rect | None:
        """Fill the polygon (lasso) through ``points`` with ``value`` (pixels whose centre is inside)."""
        if len(points) < 3:
            return None
        h, w = self.shape
        pts = np.asarray(points, dtype=np.float64)
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x0 >= x1 or y0 >= y1:
            return None
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        shift = 4  # sub-pixel vertex precision for cv2.fillPoly
        local = np.round((pts - (x0, y0)) * (1 << shift)).astype(np.int32)
        cv2.fillPoly(mask, [local], 1, lineType=cv2.LINE_8, shift=shift)
        rect = (y0, y1, x0, x1)
        return self._apply(rect, mask.view(bool), value)

    def replace_class(self, old: int, new: int) -> Rect | None:
        """Replace every pixel of class ``old`` by ``new`` (one undo step)."""
        return self.set_region(self.labels == old, new)

    def set_region(self, mask: np.ndarray, values: np.ndarray | int) -> Rect | None:
        """Write ``values`` (scalar or full ``(H, W)`` array) where the full-size bool ``mask`` is True."""
        if mask.shape != self.shape:
            raise ValueError(f"mask {mask.shape} does not match the label map {self.shape}")
        rect = bbox(mask)
        if rect is None:
            return None
        y0, y1, x0, x1 = rect
        if isinstance(values, np.ndarray):
            values = values[y0:y1, x0:x1]
        return self._apply(rect, mask[y0:y1, x0:x1], values)

    def replace_all(self, labels: np.ndarray) -> Rect | None:
        """Make the labels equal to ``labels`` as one undoable step (e.g. restoring a recovery file)."""
        if labels.shape != self.shape:
            raise ValueError(f"labels {labels.shape} do not match the document {self.shape}")
        return self.set_region(labels != self.labels, labels)

    # -- history -------------------------------------------------------------------------------------------
    def undo(self) -> Rect | None:
        """Revert the last step; returns the repainted rectangle or None when there is nothing to undo."""
        self.end_stroke()
        if not self._undo:
            return None
        step = self._undo.pop()
        rect = self._replay(reversed(step.diffs), use_old=True)
        self._redo.append(step)
        return rect

    def redo(self) -> Rect | None:
        """Re-apply the last undone step."""
        self.end_stroke()
        if not self._redo:
            return None
        step = self._redo.pop()
        rect = self._replay(step.diffs, use_old=False)
        self._undo.append(step)
        return rect

    def _replay(self, diffs, *, use_old: bool) -> Rect | None:
        total: Rect | None = None
        for d in diffs:
            y0, y1, x0, x1 = d.rect
            self.labels[y0:y1, x0:x1][d.mask()] = d.old if use_old else d.new
            self._version += 1
            self._update_edited(d.rect)
            total = union(total, d.rect)
        if total is not None:
            self._notify(total)
        return total
