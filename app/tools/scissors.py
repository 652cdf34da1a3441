"""Intelligent scissors: click points around an object; the path between clicks snaps to image edges
(``cv2.segmentation.IntelligentScissorsMB``); closing fills the traced outline with one class.

``ScissorsTrace(image)`` prepares the edge features once per image (the slow part); each click then builds
the shortest-path map from the new anchor once, and previews to the cursor only look the path up. Qt-free.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.tools.assist_edit import AssistEdit, edit_from

MIN_ANCHORS = 3


class ScissorsTrace:
    """The outline in progress: anchors (x, y) and the edge-following path through them."""

    def __init__(self, image: np.ndarray) -> None:
        self.shape = image.shape[:2]
        self._tool = cv2.segmentation.IntelligentScissorsMB()
        self._tool.setEdgeFeatureCannyParameters(16, 100)
        self._tool.setGradientMagnitudeMaxLimit(200)
        self._tool.applyImage(np.ascontiguousarray(image, dtype=np.uint8))
        self._map_from: tuple[int, int] | None = None
        self.anchors: list[tuple[int, int]] = []
        self.segments: list[np.ndarray] = []  # (N, 2) int32 (x, y) paths anchor i -> anchor i + 1

    def _point(self, x: float, y: float) -> tuple[int, int]:
        h, w = self.shape
        return min(max(int(round(x)), 0), w - 1), min(max(int(round(y)), 0), h - 1)

    def _path(self, start: tuple[int, int], end: tuple[int, int]) -> np.ndarray:
        if self._map_from != start:
            self._tool.buildMap(start)
            self._map_from = start
        return self._tool.getContour(end).reshape(-1, 2)

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
