"""Brush: paint the selected class with a round brush along the drag."""

from __future__ import annotations

import numpy as np

from app.document import Point
from app.tools.modes import Drag, ToolContext


def stroke(ctx: ToolContext, pos: Point, value: int | np.ndarray) -> Drag:
    """Paint ``value`` (class or source array) along the drag; the whole drag is one undo step."""
    doc = ctx.document
    doc.begin_stroke()
    try:
        doc.paint(pos, pos, ctx.brush_size, value)
        last = pos
        while True:
            pos = yield
            doc.paint(last, pos, ctx.brush_size, value)
            last = pos
    finally:
        doc.end_stroke()


def brush_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Paint the selected class."""
    return stroke(ctx, pos, ctx.label)
