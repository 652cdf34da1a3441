"""Editing tools: a ``Mode`` enum and one table from mode to drag handler (no ``if tool == ...`` ladders).

``start_drag(mode, ctx, pos)`` returns a primed generator: send it each move point, close it on release.
"""

from __future__ import annotations

from collections.abc import Callable

from app.document import Point
from app.tools.accept_prediction import accept_brush_drag
from app.tools.accept_region import accept_region_drag, error_region
from app.tools.assist_drags import fill_holes_drag, grabcut_drag, sam_drag, subtract_drag, superpixel_drag
from app.tools.brush import brush_drag
from app.tools.eraser import eraser_drag
from app.tools.fill import fill_drag
from app.tools.modes import Drag, Mode, ToolContext, pixel_of
from app.tools.picker import picker_drag
from app.tools.polygon import polygon_drag
from app.tools.replace_class import replace_drag

DRAG_HANDLERS: dict[Mode, Callable[[ToolContext, Point], Drag]] = {
    Mode.BRUSH: brush_drag,
    Mode.ERASER: eraser_drag,
    Mode.FILL: fill_drag,
    Mode.POLYGON: polygon_drag,
    Mode.PICKER: picker_drag,
    Mode.ACCEPT_BRUSH: accept_brush_drag,
    Mode.ACCEPT_REGION: accept_region_drag,
    Mode.REPLACE: replace_drag,
    Mode.GRABCUT: grabcut_drag,
    Mode.SUPERPIXEL: superpixel_drag,
    Mode.SUBTRACT: subtract_drag,
    Mode.FILL_HOLES: fill_holes_drag,
    Mode.SAM: sam_drag,
}

# Modes drawn with a round brush: the view shows a cursor outline of the brush size for these.
BRUSH_MODES = frozenset({Mode.BRUSH, Mode.ERASER, Mode.ACCEPT_BRUSH, Mode.SUPERPIXEL})
# Modes whose drag is outlined while it lasts: a lasso (the path) or a box (GrabCut).
LASSO_MODES = frozenset({Mode.POLYGON, Mode.SUBTRACT})
BOX_MODES = frozenset({Mode.GRABCUT})
# Modes with clicks only (their input is a click handler of the canvas: app/editing/scissors_input.py).
CLICK_ONLY_MODES = frozenset({Mode.SCISSORS})
ASSIST_MODES = frozenset({Mode.GRABCUT, Mode.SCISSORS, Mode.SUPERPIXEL, Mode.SUBTRACT, Mode.FILL_HOLES,
                          Mode.SAM})


def start_drag(mode: Mode, ctx: ToolContext, pos: Point) -> Drag | None:
    """Begin a drag in ``mode`` at ``pos``; None for modes that do not edit (pan)."""
    handler = DRAG_HANDLERS.get(mode)
    if handler is None:
        return None
    drag = handler(ctx, pos)
    next(drag)
    return drag


__all__ = [
    "ASSIST_MODES", "BOX_MODES", "BRUSH_MODES", "CLICK_ONLY_MODES", "DRAG_HANDLERS", "LASSO_MODES", "Drag",
    "Mode", "ToolContext", "error_region", "pixel_of", "start_drag",
]
