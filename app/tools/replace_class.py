"""Replace class: clicking a pixel of class A turns every A pixel in the image into the selected class."""

from __future__ import annotations

from app.document import Point
from app.tools.modes import Drag, ToolContext, pixel_of, wait_for_release


def replace_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Replace the clicked pixel's class everywhere by the selected class (one undo step)."""
    px = pixel_of(ctx.document, pos)
    if px is not None:
        old = int(ctx.document.labels[px[1], px[0]])
        ctx.document.replace_class(old, ctx.label)
    return wait_for_release()
