"""Superpixel brush: painting selects whole superpixels (SLIC, scikit-image) under the stroke.

``Superpixels(image)`` segments the image once (the slow part: seconds for 2 MP, so the caller runs it in
the background when the tool is first used on an image); ``select(points, size)`` lists the superpixels a
stroke touches; ``paint(labels, ids, cls)`` is the edit that gives them the class. Qt-free.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.tools.assist_edit import AssistEdit, edit_from

REGION_PX = 400  # mean superpixel size: about 20 x 20 pixels
COMPACTNESS = 10.0
ITERATIONS = 5  # SLIC has settled by then; scikit-image's default of 10 doubles the time for little change


class Superpixels:
    """SLIC superpixels of one image: ``segments`` int32 (H, W), ids 0..n-1."""

    def __init__(self, image: np.ndarray, *, region_px: int = REGION_PX, compactness: float = COMPACTNESS,
                 iterations: int = ITERATIONS):
        from skimage.segmentation import slic  # scikit-image: imported only when the tool is used

        h, w = image.shape[:2]
        n = max(1, (h * w) // max(int(region_px), 1))
        rgb = np.asarray(image)[:, :, :3] if np.asarray(image).ndim == 3 else np.asarray(image)
        self.segments = slic(rgb, n_segments=n, compactness=compactness, max_num_iter=iterations,
                             start_label=0, channel_axis=-1 if rgb.ndim == 3 else None).astype(np.int32)
        from scipy.ndimage import find_objects

        self._slices = find_objects(self.segments + 1)

    @property
    def count(self) -> int:
        return len(self._slices)

    def select(self, points: Sequence[tuple[float, float]], size: float) -> np.ndarray:
        """Ids of the superpixels under a brush of diameter ``size`` along ``points`` ((x, y) each)."""
        rect, mask = stroke_footprint(self.segments.shape, points, size)
        if rect is None:
            return np.zeros(0, dtype=np.int32)
        y0, y1, x0, x1 = rect
        return np.unique(self.segments[y0:y1, x0:x1][mask])

    def paint(self, labels: np.ndarray, ids: Sequence[int] | np.ndarray, cls: int) -> AssistEdit | None:
        """The edit that gives class ``cls`` to every pixel of the superpixels ``ids``."""
        ids = np.asarray(ids, dtype=np.int32)
        slices = [self._slices[i] for i in ids if 0 <= i < len(self._slices) and self._slices[i] is not None]
        if not slices:
            return None
        y0 = min(s[0].start for s in slices)
        y1 = max(s[0].stop for s in slices)
        x0 = min(s[1].start for s in slices)
        x1 = max(s[1].stop for s in slices)
        where = np.isin(self.segments[y0:y1, x0:x1], ids)
        new = np.full(where.shape, cls, dtype=np.uint8)
        return edit_from(labels, new, where, (y0, x0))


def stroke_footprint(shape: tuple[int, int], points: Sequence[tuple[float, float]], size: float):
    """``(rect, mask)`` of the pixels whose centre lies within ``size / 2`` of the polyline ``points``
    (the brush of ``LabelDocument.paint``); ``(None, None)`` when it misses the image."""
    h, w = shape
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if pts.size == 0:
        return None, None
    r = max(float(size), 1.0) / 2.0
    x0 = max(int(np.floor(pts[:, 0].min() - r)), 0)
    x1 = min(int(np.ceil(pts[:, 0].max() + r)) + 1, w)
    y0 = max(int(np.floor(pts[:, 1].min() - r)), 0)
    y1 = min(int(np.ceil(pts[:, 1].max() + r)) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None, None
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    segments = zip(pts, pts[1:]) if len(pts) > 1 else [(pts[0], pts[0])]
    for (ax, ay), (bx, by) in segments:
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / seg2, 0.0, 1.0) if seg2 > 0 else 0.0
        px, py = xs - (ax + t * dx), ys - (ay + t * dy)
        mask |= (px * px + py * py) <= r * r + 1e-3
    return (y0, y1, x0, x1), mask
