"""Polygon / lasso fill: drag to outline a region; on release the outline closes and fills with the class."""

from __future__ import annotations

from app.document import Point
from app.tools.modes import Drag, ToolContext


def polygon_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Collect the outline while dragging; fill it (one undo step) when the button is released."""
    points = [pos]
    try:
        while True:
            pos = yield
            if pos != points[-1]:
                points.append(pos)
    finally:
        ctx.document.polygon(points, ctx.label)
