"""Mouse input on the ground-truth and overlay panels: left-drag runs the active tool, the brush outline
follows the cursor at its true size, and panning stays with pyqtgraph (middle/right drag, or space + drag).

An event filter on each panel's viewport takes left-button events only while an editing tool is active and
space is not held; everything else passes through to pyqtgraph's ViewBox, so its drag never conflicts.

Modes with a click handler (``clicks``: the polygon tool) wait after the press: a move further than a few
screen pixels starts the mode's drag (the lasso) with the moves so far, a release before that is a click."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QGraphicsEllipseItem, QGraphicsPathItem

from app.tools import BOX_MODES, BRUSH_MODES, LASSO_MODES, Drag, Mode
from app.tools.polygon_clicks import moved_beyond_slop


class ClickInput(Protocol):
    """What a mode with clicks offers the canvas (``app.editing.polygon_input.PolygonClicks``)."""

    in_progress: bool

    def click(self, pos: tuple[float, float], scale: float) -> None: ...
    def double_click(self, pos: tuple[float, float], scale: float) -> None: ...
    def hover(self, pos: tuple[float, float] | None, scale: float) -> None: ...
    def cancel(self) -> None: ...


@dataclass
class _PendingClick:
    """A press in a click mode, not yet a click (release) nor a drag (a move beyond the slop)."""

    handler: ClickInput
    panel: object
    press: tuple[float, float]  # viewport position of the press
    view_points: list[QPointF] = field(default_factory=list)  # the press and the moves since


class CanvasInput(QObject):
    """Routes mouse events of ``panels`` (objects with ``graphics_view`` and ``view_box``) to drag handlers.

    ``start(panel_point)`` returns a drag generator or None, ``finished()`` runs after each release,
    ``mode()`` and ``brush_size()`` are read on every event (the controller owns them); ``clicks`` maps a
    mode to its click input. ``refuse()`` is asked on each editing press: True swallows the press and the rest
    of that drag (no painting, no panning; the callee tells the user why, e.g. compare mode is read-only).
    """

    def __init__(self, panels, *, mode: Callable[[], Mode], brush_size: Callable[[], float],
                 start: Callable[[tuple[float, float]], Drag | None], finished: Callable[[], None],
                 clicks: dict[Mode, ClickInput] | None = None, refuse: Callable[[], bool] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.panels = list(panels)
        self._mode, self._brush_size, self._start, self._finished = mode, brush_size, start, finished
        self._refuse = refuse
        self._refused = False  # a refused press: its moves and release go nowhere either
        self.clicks: dict[Mode, ClickInput] = dict(clicks or {})
        self._drag: Drag | None = None
        self._pending: _PendingClick | None = None
        self._pressing = False
        self._space = False
        self.enabled = True
        self.cursors: list[QGraphicsEllipseItem] = []
        self.lassos: list[QGraphicsPathItem] = []  # the polygon tool's outline while dragging
        self._lasso_path: QPainterPath | None = None
        self._box_from: QPointF | None = None
        self._last_view_pt: QPointF | None = None  # where the cursor is, to redraw the outline on resize
        # viewport wrappers kept here: the app-wide filter must not touch panels Qt has already deleted
        self._viewports = [(panel.graphics_view.viewport(), panel) for panel in self.panels]
        for panel in self.panels:
            panel.graphics_view.viewport().installEventFilter(self)
            panel.graphics_view.viewport().setMouseTracking(True)
            outline = QGraphicsEllipseItem()
            pen = QPen(QColor(255, 255, 255, 220))
            pen.setCosmetic(True)  # a 1-px line at any zoom; the circle itself scales with the image
            pen.setStyle(Qt.PenStyle.DashLine)
            outline.setPen(pen)
            outline.setZValue(100)
            outline.setVisible(False)
            panel.view_box.addItem(outline, ignoreBounds=True)
            self.cursors.append(outline)
            lasso = QGraphicsPathItem()
            lasso.setPen(pen)
            lasso.setZValue(100)
            lasso.setVisible(False)
            panel.view_box.addItem(lasso, ignoreBounds=True)
            self.lassos.append(lasso)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # space is held anywhere in the app while panning
            if self.panels:
                self.panels[0].destroyed.connect(lambda *_a, app=app: self._drop_filter(app))

    def _drop_filter(self, app) -> None:
        try:
            app.removeEventFilter(self)
        except RuntimeError:  # this object went first: Qt removed its filter with it
            pass

    # -- coordinates -------------------------------------------------------------------------------------
    @staticmethod
    def view_point(panel, pos: QPoint | QPointF) -> QPointF:
        """Continuous image coordinates (pixel (c, r) spans [c, c+1) x [r, r+1)) of a viewport position."""
        scene_pt = panel.graphics_view.mapToScene(QPoint(int(pos.x()), int(pos.y())))
        return panel.view_box.mapSceneToView(scene_pt)

    @staticmethod
    def doc_point(view_pt: QPointF) -> tuple[float, float]:
        """Document coordinates put pixel centres on integers."""
        return view_pt.x() - 0.5, view_pt.y() - 0.5

    @staticmethod
    def screen_scale(panel) -> float:
        """Viewport pixels per image pixel in ``panel`` (for distances the user sees on screen)."""
        a, b = (panel.graphics_view.mapFromScene(panel.view_box.mapViewToScene(QPointF(x, 0)))
                for x in (0.0, 100.0))
        return max(math.hypot(b.x() - a.x(), b.y() - a.y()) / 100.0, 1e-6)

    def _panel_of(self, obj) -> object | None:
        for viewport, panel in self._viewports:
            if obj is viewport:
                return panel
        return None

    # -- cursor outline ----------------------------------------------------------------------------------
    def update_cursor(self, view_pt: QPointF | None) -> None:
        """Show the brush outline (diameter = brush size in image pixels) at ``view_pt`` on every panel."""
        self._last_view_pt = view_pt
        show = view_pt is not None and self.enabled and self._mode() in BRUSH_MODES
        for outline in self.cursors:
            outline.setVisible(show)
            if show:
                d = float(self._brush_size())
                outline.setRect(QRectF(view_pt.x() - d / 2, view_pt.y() - d / 2, d, d))

    # -- events ------------------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = kind == QEvent.Type.KeyPress
            return False
        panel = self._panel_of(obj)
        if panel is None:
            return False
        if kind == QEvent.Type.Leave:
            self.update_cursor(None)
            if (handler := self.clicks.get(self._mode())) is not None:
                handler.hover(None, 1.0)
            return False
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease,
                        QEvent.Type.MouseButtonDblClick):
            return False
        view_pt = self.view_point(panel, event.position())
        if self._refused and kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
                self._refused = False
            return True
        if kind == QEvent.Type.MouseMove:
            self.update_cursor(view_pt)
            if self._pending is not None:
                self._pending_move(event.position(), view_pt)
                return True
            if self._drag is not None:
                self._drag.send(self.doc_point(view_pt))
                self._extend_lasso(view_pt)
                return True
            if self.enabled and (handler := self.clicks.get(self._mode())) is not None:
                handler.hover(self.doc_point(view_pt), self.screen_scale(panel))
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if kind == QEvent.Type.MouseButtonRelease:
            if self._pending is not None:
                pending, self._pending = self._pending, None
                pending.handler.click(self.doc_point(view_pt), self.screen_scale(panel))
                return True
            if self._drag is None:
                return False
            self.end_drag()
            return True
        # press or double click
        if self._space or self._mode() == Mode.PAN or self._drag is not None:
            return False
        if self._refuse is not None and self._refuse():  # asked even while disabled: say why nothing paints
            self._refused = True
            return True
        if not self.enabled:
            return False
        if (handler := self.clicks.get(self._mode())) is not None:
            if kind == QEvent.Type.MouseButtonDblClick:
                handler.double_click(self.doc_point(view_pt), self.screen_scale(panel))
            else:
                self._pending = _PendingClick(handler, panel, (event.position().x(), event.position().y()),
                                              [view_pt])
            return True
        return self._begin(view_pt)

    def _pending_move(self, pos: QPointF, view_pt: QPointF) -> None:
        """A move after a press in a click mode: past the slop it becomes the mode's drag (the lasso), unless
        a click polygon is in progress (then the release still counts as a click, where it happens: a shaky
        click must not fill a lasso)."""
        pending = self._pending
        if pending.handler.in_progress or not moved_beyond_slop(pending.press, (pos.x(), pos.y())):
            pending.view_points.append(view_pt)
            return
        self._pending = None
        if self._begin(pending.view_points[0]):
            for pt in [*pending.view_points[1:], view_pt]:
                self._drag.send(self.doc_point(pt))
                self._extend_lasso(pt)

    def _begin(self, view_pt: QPointF) -> bool:
        """Start the active mode's drag at ``view_pt`` (the press paints); False when the mode has none."""
        self._pressing = True  # the press itself paints (the handler is primed inside start)
        try:
            self._drag = self._start(self.doc_point(view_pt))
        finally:
            self._pressing = False
        if self._drag is not None and self._mode() in LASSO_MODES | BOX_MODES:
            self._lasso_path = QPainterPath(view_pt)
            self._box_from = view_pt if self._mode() in BOX_MODES else None
            self._extend_lasso(view_pt)
        return self._drag is not None

    def _extend_lasso(self, view_pt: QPointF) -> None:
        if self._lasso_path is None:
            return
        if self._box_from is not None:  # GrabCut: the box from the press to the cursor
            closed = QPainterPath()
            closed.addRect(QRectF(self._box_from, view_pt).normalized())
        else:
            self._lasso_path.lineTo(view_pt)
            closed = QPainterPath(self._lasso_path)
            closed.closeSubpath()
        for item in self.lassos:
            item.setPath(closed)
            item.setVisible(True)

    def refresh_cursor(self) -> None:
        """Redraw the outline where the cursor was (after a brush-size or tool change)."""
        self.update_cursor(self._last_view_pt)

    def reset(self) -> None:
        """Finish the drag and discard every click mode's work in progress (tool / image change, undo)."""
        self.end_drag()
        for handler in self.clicks.values():
            handler.cancel()

    def end_drag(self) -> None:
        """Finish the drag in progress (release, focus loss, image switch)."""
        drag, self._drag = self._drag, None
        self._pending = None
        self._lasso_path = None
        for item in self.lassos:
            item.setVisible(False)
        if drag is not None:
            drag.close()
            self._finished()

    @property
    def dragging(self) -> bool:
        """True from the press (including the paint it does) to the release."""
        return self._drag is not None or self._pressing
