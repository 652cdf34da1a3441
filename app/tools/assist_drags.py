"""Drag handlers of the assisted tools (Qt-free): GrabCut box, superpixel brush, cut a hole (lasso), fill
holes (click) and Segment Anything (click). The pixel work is in ``grabcut``, ``superpixels``, ``holes`` and
``sam``; each gesture is one undo step (``apply_edit`` / a document stroke). Slow work (GrabCut, SAM) goes
through ``ctx.run(compute, name)``, which the editing controller runs off the GUI thread and applies only if
the labels are unchanged when it ends."""

from __future__ import annotations

from collections.abc import Callable

from app.document import Point
from app.tools.assist_edit import AssistEdit, apply_edit
from app.tools.modes import Drag, ToolContext, pixel_of, wait_for_release

MIN_BOX_PX = 3  # a GrabCut box narrower than this is a slip, not a box


def _say(ctx: ToolContext, text: str) -> None:
    if ctx.message is not None:
        ctx.message(text)


def _run(ctx: ToolContext, compute: Callable[[], AssistEdit | None], name: str) -> None:
    if ctx.run is not None:
        ctx.run(compute, name)
    else:
        apply_edit(ctx.document, compute())


def box_of(a: Point, b: Point, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The pixel box (x0, y0, x1, y1; x1/y1 exclusive) spanned by two document points, clipped to ``shape``;
    None when it is thinner than ``MIN_BOX_PX``."""
    h, w = shape
    x0, x1 = sorted((int(round(a[0])), int(round(b[0]))))
    y0, y1 = sorted((int(round(a[1])), int(round(b[1]))))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, w), min(y1 + 1, h)
    if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
        return None
    return x0, y0, x1, y1


def grabcut_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Drag a box: on release GrabCut re-fits the selected class inside it (``grabcut.grabcut_refine``)."""
    start = last = pos
    try:
        while True:
            last = yield
    finally:
        box = box_of(start, last, ctx.document.shape)
        if box is None or ctx.image is None:
            _say(ctx, "GrabCut: drag a box around the object's outline")
        else:
            from app.tools.grabcut import grabcut_refine

            image, labels, cls = ctx.image, ctx.document.labels.copy(), ctx.label
            pred = None if ctx.prediction is None else ctx.prediction.copy()
            _run(ctx, lambda: grabcut_refine(image, labels, cls, prediction=pred, box=box), "GrabCut")


def superpixel_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Paint whole superpixels with the selected class along the drag (one undo step)."""
    sp = ctx.superpixels
    if sp is None:
        _say(ctx, "Superpixel brush: the superpixels of this image are still being computed")
        return wait_for_release()
    return _superpixel_stroke(ctx, sp, pos)


def _superpixel_stroke(ctx: ToolContext, sp, pos: Point) -> Drag:
    doc = ctx.document
    doc.begin_stroke()
    try:
        last = pos
        while True:
            apply_edit(doc, sp.paint(doc.labels, sp.select([last, pos], ctx.brush_size), ctx.label))
            last = pos
            pos = yield
    finally:
        doc.end_stroke()


def subtract_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Lasso around part of the selected class: on release its pixels inside become void (a hole)."""
    points = [pos]
    try:
        while True:
            pos = yield
            if pos != points[-1]:
                points.append(pos)
    finally:
        from app.tools.holes import polygon_subtract

        doc = ctx.document
        if apply_edit(doc, polygon_subtract(doc.labels, points, ctx.label, replacement=ctx.void)) is None:
            _say(ctx, "Cut hole: the lasso holds no pixel of the selected class")


def fill_holes_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Click an object: everything it encloses takes its class (``holes.fill_holes``)."""
    px = pixel_of(ctx.document, pos)
    if px is not None:
        from app.tools.holes import fill_holes

        doc = ctx.document
        cls = int(doc.labels[px[1], px[0]])
        if cls == ctx.void or apply_edit(doc, fill_holes(doc.labels, cls, at=px)) is None:
            _say(ctx, "Fill holes: that object encloses nothing (click inside a class region)")
    return wait_for_release()


def sam_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Click an object: Segment Anything's mask for that point takes the selected class."""
    px = pixel_of(ctx.document, pos)
    if px is not None and ctx.image is not None:
        from app.tools.sam import segment_at

        image, labels, cls = ctx.image, ctx.document.labels.copy(), ctx.label
        _run(ctx, lambda: segment_at(image, labels, px, cls), "Segment Anything")
    return wait_for_release()
