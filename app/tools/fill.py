"""Flood fill: the 4-connected region of one label under the click takes the selected class."""

from __future__ import annotations

from app.document import Point
from app.tools.modes import Drag, ToolContext, pixel_of, wait_for_release


def fill_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Fill on press; moves are ignored."""
    px = pixel_of(ctx.document, pos)
    if px is not None:
        ctx.document.fill(px[0], px[1], ctx.label)
    return wait_for_release()
