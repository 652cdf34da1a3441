"""Click-by-click polygon (like labelme / CVAT): each click adds a vertex; closing fills it with the class.

Plain state, no Qt. Distances the user sees (the close radius, the click slop) are in screen pixels; the
caller passes ``scale`` = screen pixels per image pixel so they stay the same at any zoom.
"""

from __future__ import annotations

import math

from app.document import Point, Rect
from app.tools.modes import ToolContext

CLOSE_PX = 8.0  # a click this close (screen pixels) to the first vertex closes the polygon
CLICK_SLOP_PX = 4.0  # a press that moves further than this before the release is a lasso drag, not a click
MIN_VERTICES = 3


def moved_beyond_slop(press: tuple[float, float], pos: tuple[float, float]) -> bool:
    """True when the screen positions ``press`` → ``pos`` are further apart than a click allows."""
    return math.hypot(pos[0] - press[0], pos[1] - press[1]) > CLICK_SLOP_PX


class ClickPolygon:
    """The vertices of the polygon in progress (image coordinates, pixel centres on integers)."""

    def __init__(self) -> None:
        self.points: list[Point] = []

    def __len__(self) -> int:
        return len(self.points)

    @property
    def can_close(self) -> bool:
        """A polygon needs at least three vertices to enclose anything."""
        return len(self.points) >= MIN_VERTICES

    def add_vertex(self, pos: Point) -> None:
        """Append a vertex."""
        self.points.append((float(pos[0]), float(pos[1])))

    def remove_last(self) -> Point | None:
        """Drop the last vertex (Backspace); None when there is none."""
        return self.points.pop() if self.points else None

    def clear(self) -> None:
        """Forget the polygon (Esc, tool or image change)."""
        self.points.clear()

    def close_to_first(self, pos: Point, scale: float) -> bool:
        """True when ``pos`` lies within ``CLOSE_PX`` screen pixels of the first vertex."""
        if not self.points:
            return False
        x, y = self.points[0]
        return math.hypot(pos[0] - x, pos[1] - y) * scale <= CLOSE_PX

    def click(self, pos: Point, scale: float) -> bool:
        """A click at ``pos``: True when it asks to close the polygon (near the first vertex), else the click
        adds a vertex and the answer is False."""
        if self.close_to_first(pos, scale):
            return True
        self.add_vertex(pos)
        return False

    def fill(self, ctx: ToolContext) -> Rect | None:
        """Close the polygon and fill it with ``ctx.label`` (one undo step, the lasso's rasterisation).

        With fewer than three vertices nothing happens and the vertices are kept."""
        if not self.can_close:
            return None
        points, self.points = self.points, []
        return ctx.document.polygon(points, ctx.label)
