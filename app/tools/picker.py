"""Class picker: clicking a pixel selects its class (void is not a class and is ignored)."""

from __future__ import annotations

from app.document import Point
from app.tools.modes import Drag, ToolContext, pixel_of, wait_for_release


def picker_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Select the class under the click, and keep following the cursor while dragging."""
    try:
        while True:
            px = pixel_of(ctx.document, pos)
            if px is not None:
                value = int(ctx.document.labels[px[1], px[0]])
                if value != ctx.void:
                    ctx.label = value
                    if ctx.on_pick is not None:
                        ctx.on_pick(value)
            pos = yield
    except GeneratorExit:
        return


__all__ = ["picker_drag", "wait_for_release"]
