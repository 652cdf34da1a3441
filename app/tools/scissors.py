"""Intelligent scissors: click points around an object; the path between clicks snaps to image edges
(``cv2.segmentation.IntelligentScissorsMB``); closing fills the traced outline with one class.

``ScissorsTrace(image)`` keeps the image; each anchor gets the edge features and the shortest-path map of a
window around it and the cursor (``WINDOW_MARGIN_PX`` beyond both, grown when the cursor leaves it), so a
click costs what its neighbourhood costs, not what a 2 MP image does (about 4 s for the whole image on a
busy 2-core machine). Previews inside the window only look the path up. Qt-free.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.tools.assist_edit import AssistEdit, edit_from

MIN_ANCHORS = 3
WINDOW_MARGIN_PX = 96


class ScissorsTrace:
    """The outline in progress: anchors (x, y) and the edge-following path through them."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = np.asarray(image, dtype=np.uint8)
        self.shape = image.shape[:2]
        self._tool = None
        self._window = (0, 0, 0, 0)  # x0, y0, x1, y1 of the current tool's crop
        self._map_from: tuple[int, int] | None = None
        self.anchors: list[tuple[int, int]] = []
        self.segments: list[np.ndarray] = []  # (N, 2) int32 (x, y) paths anchor i -> anchor i + 1

    def _point(self, x: float, y: float) -> tuple[int, int]:
        h, w = self.shape
        return min(max(int(round(x)), 0), w - 1), min(max(int(round(y)), 0), h - 1)

    def _path(self, start: tuple[int, int], end: tuple[int, int]) -> np.ndarray:
        x0, y0, x1, y1 = self._window
        if self._map_from != start or not (x0 <= end[0] < x1 and y0 <= end[1] < y1):
            self._build(start, end)
            x0, y0 = self._window[:2]
        path = self._tool.getContour((end[0] - x0, end[1] - y0)).reshape(-1, 2)
        return path + np.array([x0, y0], dtype=path.dtype)

    def _build(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        h, w = self.shape
        m = max(WINDOW_MARGIN_PX, abs(end[0] - start[0]) // 2, abs(end[1] - start[1]) // 2)
        x0, x1 = max(min(start[0], end[0]) - m, 0), min(max(start[0], end[0]) + m + 1, w)
        y0, y1 = max(min(start[1], end[1]) - m, 0), min(max(start[1], end[1]) + m + 1, h)
        tool = cv2.segmentation.IntelligentScissorsMB()
        tool.setEdgeFeatureCannyParameters(16, 100)
        tool.setGradientMagnitudeMaxLimit(200)
        tool.applyImage(np.ascontiguousarray(self.image[y0:y1, x0:x1]))
        tool.buildMap((start[0] - x0, start[1] - y0))
        self._tool, self._window, self._map_from = tool, (x0, y0, x1, y1), start

    def click(self, x: float, y: float) -> np.ndarray | None:
        """Add an anchor; returns the new path segment from the previous anchor (None for the first)."""
        p = self._point(x, y)
        seg = self._path(self.anchors[-1], p) if self.anchors else None
        if seg is not None:
            self.segments.append(seg)
        self.anchors.append(p)
        return seg

    def preview(self, x: float, y: float) -> np.ndarray | None:
        """The path the next click at (x, y) would add (for drawing under the cursor)."""
        return self._path(self.anchors[-1], self._point(x, y)) if self.anchors else None

    def undo_click(self) -> None:
        """Drop the last anchor and its segment."""
        if self.anchors:
            self.anchors.pop()
            if self.segments:
                self.segments.pop()

    @property
    def can_close(self) -> bool:
        return len(self.anchors) >= MIN_ANCHORS

    def contour(self) -> np.ndarray | None:
        """The closed outline (the path back to the first anchor added), (N, 2) int32 (x, y)."""
        if not self.can_close:
            return None
        closing = self._path(self.anchors[-1], self.anchors[0])
        return np.concatenate(self.segments + [closing])

    def fill(self, labels: np.ndarray, cls: int) -> AssistEdit | None:
        """The edit that fills the closed outline (and the outline itself) with ``cls``."""
        contour = self.contour()
        return None if contour is None else fill_contour(labels, contour, cls)


def fill_contour(labels: np.ndarray, contour: np.ndarray, cls: int) -> AssistEdit | None:
    """Fill the polygon through the pixel path ``contour`` ((N, 2) x, y), border pixels included."""
    pts = np.asarray(contour, dtype=np.int32).reshape(-1, 2)
    h, w = labels.shape
    x0, y0 = np.maximum(pts.min(axis=0), 0)
    x1, y1 = np.minimum(pts.max(axis=0) + 1, (w, h))
    if x0 >= x1 or y0 >= y1:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(mask, [pts - (x0, y0)], 1, lineType=cv2.LINE_8)
    new = np.full(mask.shape, cls, dtype=np.uint8)
    return edit_from(labels, new, mask.view(bool), (int(y0), int(x0)))
