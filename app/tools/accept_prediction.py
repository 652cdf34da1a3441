"""Accept-prediction brush: copies the current stride's prediction under the brush into the labels."""

from __future__ import annotations

from app.document import Point
from app.tools.brush import stroke
from app.tools.modes import Drag, ToolContext, wait_for_release


def accept_brush_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Paint the prediction (not a class) along the drag; does nothing until a prediction exists."""
    pred = ctx.prediction
    if pred is None or pred.shape != ctx.document.shape:
        return wait_for_release()
    return stroke(ctx, pos, pred)
