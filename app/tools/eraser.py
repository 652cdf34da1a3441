"""Eraser: a brush that paints void (255), i.e. "ignore this pixel" in training and scoring."""

from __future__ import annotations

from app.document import Point
from app.tools.brush import stroke
from app.tools.modes import Drag, ToolContext


def eraser_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Paint void along the drag."""
    return stroke(ctx, pos, ctx.void)
