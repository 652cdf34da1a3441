"""The polygon tool's clicks: each click adds a vertex; double-click, Enter or a click on the first vertex
closes and fills it, Backspace drops the last vertex, Esc cancels. Drags stay the lasso (``CanvasInput``).

The state is ``app.tools.polygon_clicks.ClickPolygon`` (Qt-free); this object adds the overlay and the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction

from app.document import Point
from app.editing.polygon_overlay import PolygonOverlay
from app.tools import ToolContext
from app.tools.polygon_clicks import MIN_VERTICES, ClickPolygon

#: (text, keys, tip) of the keys that work while a polygon is in progress (disabled otherwise, so the keys
#: keep their ordinary meaning everywhere else)
KEYS = {
    "close": ("Close &polygon", ("Return", "Enter"), "Close the polygon in progress and fill it"),
    "remove_last": ("Remove last polygon &vertex", ("Backspace",), "Drop the last vertex of the polygon"),
    "cancel": ("Cancel polygon", ("Esc",), "Discard the polygon in progress (nothing is filled)"),
}


class PolygonClicks:
    """Click-polygon input for the canvas (``click``, ``double_click``, ``hover``, ``cancel``).

    ``context()`` gives the tool context to fill with (None: no document, nothing is filled), ``finished()``
    runs after a fill, ``message(text)`` reports to the status bar, ``make_action(text, menu, keys, slot,
    tip=)`` creates a window action (the controller's helper).
    """

    def __init__(self, view_boxes: Sequence, *, context: Callable[[], ToolContext | None],
                 finished: Callable[[], None], message: Callable[[str], None], make_action: Callable):
        self.polygon = ClickPolygon()
        self.overlay = PolygonOverlay(view_boxes)
        self._context, self._finished, self._message = context, finished, message
        self._hover: Point | None = None
        self._scale = 1.0
        self.actions: dict[str, QAction] = {
            name: make_action(text, "edit", keys, getattr(self, name), tip=tip)
            for name, (text, keys, tip) in KEYS.items()}
        self._sync()

    @property
    def in_progress(self) -> bool:
        return len(self.polygon) > 0

    # -- canvas input --------------------------------------------------------------------------------------
    def click(self, pos: Point, scale: float) -> None:
        """A click in polygon mode: add a vertex, or close when it is on the first vertex."""
        self._scale = scale
        if self.polygon.click(pos, scale):
            self.close()
        else:
            if len(self.polygon) == 1:
                self._message("Polygon: click the next vertices; double-click, Enter or the first vertex "
                              "closes it, Backspace removes a vertex, Esc cancels")
            self._sync()

    def double_click(self, pos: Point, scale: float) -> None:
        """The double-click's first click already placed the last vertex: close."""
        if self.in_progress:
            self.close()

    def hover(self, pos: Point | None, scale: float) -> None:
        """The mouse moved: the rubber band follows it."""
        self._hover, self._scale = pos, scale
        if self.in_progress:
            self._draw()

    # -- keys ----------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Enter / double-click / first vertex: fill the polygon with the selected class (one undo step)."""
        if not self.polygon.can_close:
            self._message(f"A polygon needs at least {MIN_VERTICES} vertices ({len(self.polygon)} placed)")
            return
        ctx = self._context()
        if ctx is None:
            self.cancel()
            return
        self.polygon.fill(ctx)
        self._sync()
        self._finished()

    def remove_last(self) -> None:
        """Backspace: drop the last vertex."""
        self.polygon.remove_last()
        self._sync()

    def cancel(self) -> None:
        """Esc, tool / image change, undo: discard the polygon in progress."""
        self.polygon.clear()
        self._sync()

    def _sync(self) -> None:
        for action in self.actions.values():
            action.setEnabled(self.in_progress)
        self._draw()

    def _draw(self) -> None:
        hover = self._hover
        closing = (hover is not None and self.polygon.can_close
                   and self.polygon.close_to_first(hover, self._scale))
        self.overlay.show(self.polygon.points, hover, closing=closing)
