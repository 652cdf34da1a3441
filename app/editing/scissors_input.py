"""The intelligent-scissors tool's clicks: each click adds an anchor and the path from the previous one
follows the image's edges (``app.tools.scissors.ScissorsTrace``); double-click or Enter closes the outline
and fills it with the selected class (one undo step); Backspace drops the last anchor, Esc cancels.

A click costs the edge map of a window around it (0.16 s for a 2 MP photo on a busy machine), so it runs on
the GUI thread; the hover preview only looks the path up."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtGui import QAction

from app.document import Point
from app.editing.polygon_overlay import PolygonOverlay
from app.tools import ToolContext
from app.tools.assist_edit import apply_edit
from app.tools.scissors import MIN_ANCHORS, ScissorsTrace


class ScissorsClicks:
    """Click input for ``CanvasInput`` (click, double_click, hover, cancel, in_progress)."""

    def __init__(self, view_boxes: Sequence, *, context: Callable[[], ToolContext | None],
                 finished: Callable[[], None], message: Callable[[str], None], polygon):
        self.overlay = PolygonOverlay(view_boxes)
        self.trace: ScissorsTrace | None = None
        self._context, self._finished, self._message = context, finished, message
        # Enter / Backspace / Esc are the polygon tool's actions (one action per key in the window): they
        # go to whichever outline is in progress
        self.actions: dict[str, QAction] = polygon.actions
        self._polygon = polygon
        for name, action in self.actions.items():
            action.triggered.disconnect()
            action.triggered.connect(lambda _=False, n=name: getattr(
                self if self.in_progress else polygon, n)())
        self._hover: Point | None = None
        self._sync()

    @property
    def in_progress(self) -> bool:
        return self.trace is not None and bool(self.trace.anchors)

    def click(self, pos: Point, scale: float) -> None:
        ctx = self._context()
        if ctx is None or ctx.image is None:
            return
        if self.trace is None or self.trace.image is not ctx.image:
            self.trace = ScissorsTrace(ctx.image)
        self.trace.click(*pos)
        if len(self.trace.anchors) == 1:
            self._message("Scissors: click along the outline; double-click or Enter closes and fills it, "
                          "Backspace removes an anchor, Esc cancels")
        self._sync()

    def double_click(self, pos: Point, scale: float) -> None:
        if self.in_progress:
            self.close()

    def hover(self, pos: Point | None, scale: float) -> None:
        self._hover = pos
        if self.in_progress:
            self._draw()

    def close(self) -> None:
        """Fill the closed outline with the selected class (one undo step)."""
        trace, ctx = self.trace, self._context()
        if trace is None or not trace.can_close:
            n = 0 if trace is None else len(trace.anchors)
            self._message(f"The scissors need at least {MIN_ANCHORS} anchors ({n} placed)")
            return
        if ctx is not None:
            apply_edit(ctx.document, trace.fill(ctx.document.labels, ctx.label))
        self.cancel()
        self._finished()

    def remove_last(self) -> None:
        if self.trace is not None:
            self.trace.undo_click()
        self._sync()

    def cancel(self) -> None:
        if self.trace is not None:
            self.trace.anchors.clear()
            self.trace.segments.clear()
        self._sync()

    def _sync(self) -> None:
        for action in self.actions.values():
            action.setEnabled(self.in_progress or self._polygon.in_progress)
        self._draw()

    def path_points(self) -> list[tuple[float, float]]:
        """The traced path so far (anchors joined by their edge-following segments), image coordinates."""
        trace = self.trace
        if trace is None or not trace.anchors:
            return []
        if not trace.segments:
            return [tuple(map(float, trace.anchors[0]))]
        path = np.concatenate(trace.segments)
        return [(float(x), float(y)) for x, y in path]

    def _draw(self) -> None:
        points = self.path_points()
        hover = self._hover
        if points and hover is not None and self.trace is not None:
            try:
                preview = self.trace.preview(*hover)
            except Exception:  # noqa: BLE001 - a preview must never break the input
                preview = None
            if preview is not None and len(preview):
                points = points + [(float(x), float(y)) for x, y in preview[:-1]]
                hover = tuple(map(float, preview[-1]))
        self.overlay.show(points, hover)
        anchors = [] if self.trace is None else self.trace.anchors
        for group in self.overlay.items:  # squares on the anchors only, not on every path pixel
            group[3].setData(x=[x + 0.5 for x, _y in anchors], y=[y + 0.5 for _x, y in anchors], size=8)
