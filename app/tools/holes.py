"""Polygon subtract (cut a hole) and fill holes of one class. Pure numpy/OpenCV/SciPy, Qt-free.

- ``polygon_subtract(labels, points, cls)``: the pixels inside the polygon that have class ``cls`` become
  void (or ``replacement``); other classes inside it stay.
- ``fill_holes(labels, cls)``: pixels enclosed by ``cls`` (any other label, void included) become ``cls``;
  ``at=(x, y)`` limits it to the object (8-connected component of ``cls``) under the click,
  ``max_hole_area`` to small holes.

The polygon is rasterised like the lasso (``LabelDocument.polygon``): pixels whose centre is inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from app.document import VOID
from app.tools.assist_edit import AssistEdit, edit_from


def polygon_mask(shape: tuple[int, int], points: Sequence[tuple[float, float]]):
    """``(rect, mask)`` of the polygon through ``points`` ((x, y) each), ``(None, None)`` when it is empty or
    misses the image; ``rect`` = (y0, y1, x0, x1)."""
    if len(points) < 3:
        return None, None
    h, w = shape
    pts = np.asarray(points, dtype=np.float64)
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return None, None
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shift = 4  # sub-pixel vertex precision, as LabelDocument.polygon
    local = np.round((pts - (x0, y0)) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [local], 1, lineType=cv2.LINE_8, shift=shift)
    return (int(y0), int(y1), int(x0), int(x1)), mask.view(bool)


def polygon_subtract(labels: np.ndarray, points: Sequence[tuple[float, float]], cls: int, *,
                     replacement: int = VOID) -> AssistEdit | None:
    """Cut the polygon out of class ``cls``: its ``cls`` pixels take ``replacement`` (void by default)."""
    rect, mask = polygon_mask(labels.shape, points)
    if rect is None:
        return None
    y0, y1, x0, x1 = rect
    where = mask & (labels[y0:y1, x0:x1] == cls)
    new = np.full(where.shape, replacement, dtype=np.uint8)
    return edit_from(labels, new, where, (y0, x0))


def fill_holes(labels: np.ndarray, cls: int, *, at: tuple[int, int] | None = None,
               max_hole_area: int | None = None) -> AssistEdit | None:
    """Give class ``cls`` to everything it encloses (holes touching the image border are not holes).

    ``at`` = (x, y): only the holes of the object of ``cls`` there (None when that pixel is not ``cls``).
    ``max_hole_area``: leave holes larger than this many pixels alone.
    """
    from scipy.ndimage import binary_fill_holes

    h, w = labels.shape
    if at is not None:
        x, y = int(at[0]), int(at[1])
        if not (0 <= x < w and 0 <= y < h) or labels[y, x] != cls:
            return None
        flood = np.zeros((h + 2, w + 2), dtype=np.uint8)
        flags = 8 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
        image = labels if labels.flags.writeable and labels.flags.c_contiguous else labels.copy()
        _, _, _, (rx, ry, rw, rh) = cv2.floodFill(image, flood, (x, y), 0, 0, 0, flags)
        origin = (ry, rx)
        obj = flood[ry + 1 : ry + rh + 1, rx + 1 : rx + rw + 1].view(bool)
    else:
        obj = labels == cls
        rows, cols = np.flatnonzero(obj.any(axis=1)), np.flatnonzero(obj.any(axis=0))
        if rows.size == 0:
            return None
        origin = (int(rows[0]), int(cols[0]))
        obj = obj[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # Inside the object's bounding box, anything not connected to the box's edge is enclosed by it.
    holes = binary_fill_holes(obj) & ~obj
    if max_hole_area is not None and holes.any():
        n, comp, stats, _ = cv2.connectedComponentsWithStats(holes.view(np.uint8), connectivity=4)
        small = np.r_[False, stats[1:, cv2.CC_STAT_AREA] <= max_hole_area]
        holes = small[comp]
    if not holes.any():
        return None
    new = np.full(holes.shape, cls, dtype=np.uint8)
    return edit_from(labels, new, holes, origin)
