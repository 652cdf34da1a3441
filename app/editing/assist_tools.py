"""The assisted tools' Qt side for the editing controller: background GrabCut / SAM (``run``), the
superpixels of the image on screen (SLIC once per image, in the background), the scissors' clicks, and the
Segment Anything tool's enabled state (disabled, with a tooltip saying what it needs, unless the optional
package and a checkpoint are there)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QToolButton

from app import settings
from app.editing.scissors_input import ScissorsClicks
from app.tools import Mode
from app.tools import sam as sam_tool
from app.tools.assist_edit import apply_edit

LANE = "assist"  # GrabCut, SAM and SLIC jobs run one after another, never two at once


def add_assist_button(bar, actions: list) -> QToolButton:
    """One tool-bar button for the assisted tools: it shows (and a click picks) the last one used, its arrow
    lists them all. The first action is the bar's own (so an overflowed button is still in a menu)."""
    bar.addAction(actions[0])
    button = bar.widgetForAction(actions[0])
    menu = QMenu(button)
    menu.setToolTipsVisible(True)  # a disabled tool's tooltip says what it needs (Segment Anything)
    for action in actions:
        menu.addAction(action)
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
    return button


class AssistTools(QObject):
    """Owned by ``EditingController``; ``controller.assist``."""

    def __init__(self, controller, view_boxes):
        super().__init__(controller)
        self.c = controller
        self.window = controller.window
        self.scissors = ScissorsClicks(view_boxes, context=controller._tool_context,
                                       finished=controller.after_edit, polygon=controller.polygon,
                                       message=self.message)
        self.superpixels = None  # Superpixels of self._sp_stem
        self._sp_stem: str | None = None
        self._sp_pending: str | None = None
        self.pending = 0  # background edits not applied yet (tests wait on it)
        # the superpixel outlines over the edited panels while the superpixel brush is the tool
        self.outlines: list[pg.ImageItem] = []
        for box in view_boxes:
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(50)
            item.setVisible(False)
            box.addItem(item, ignoreBounds=True)
            self.outlines.append(item)
        controller._action("Segment Anything &checkpoint…", "edit", (), self.ask_sam_checkpoint,
                           tip="The SAM checkpoint for the click-to-segment tool (nothing is downloaded)")
        self.refresh_sam()

    def ask_sam_checkpoint(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self.window, "Segment Anything checkpoint",
                                              settings.sam_checkpoint() or "", "Checkpoints (*.pth *.pt)")
        if path:
            settings.set_sam_checkpoint(path)
            self.refresh_sam()

    def message(self, text: str) -> None:
        self.window.status_bar.showMessage(text, 6000)

    # -- Segment Anything ------------------------------------------------------------------------------
    def refresh_sam(self) -> None:
        """Enable the SAM tool only with the package and a checkpoint; else say what it needs."""
        checkpoint = settings.sam_checkpoint()
        reason = sam_tool.missing(checkpoint)
        action = self.c.tool_actions[Mode.SAM]
        action.setEnabled(reason is None)
        sam_tool.configure(checkpoint if reason is None else None)
        tip = reason or action.statusTip()
        action.setToolTip(f"{tip} (Shift+S)")
        if reason is not None and self.c.mode == Mode.SAM:
            self.c.set_mode(Mode.PAN)

    # -- background edits -------------------------------------------------------------------------------
    def run(self, compute: Callable[[], object], name: str) -> None:
        """Compute an AssistEdit off the GUI thread; apply it (one undo step) if the document is unchanged."""
        doc, state = self.c.document, self.c.document.state_id
        self.pending += 1
        self.message(f"{name}: working…")

        def done(edit) -> None:
            self.pending -= 1
            if self.c.document is not doc or doc.state_id != state:
                self.message(f"{name}: the labels changed meanwhile; its result was dropped")
                return
            if apply_edit(doc, edit) is None:
                self.message(f"{name}: nothing to change")
            else:
                self.message(f"{name}: done")
            self.c.after_edit()

        def failed(msg: str) -> None:
            self.pending -= 1
            self.window.report_error(f"{name} failed: {msg}", modal_box=False)

        self.window.jobs.start(lambda _progress, _stop: compute(), name=f"assist: {name}", lane=LANE,
                               on_done=done, on_error=failed)

    # -- superpixels ------------------------------------------------------------------------------------
    def superpixels_for(self, stem: str | None):
        """The image's superpixels when computed (None: not yet; the computation is started)."""
        if stem is not None and self._sp_stem == stem:
            return self.superpixels
        self.prepare()
        return None

    def prepare(self) -> None:
        """Start computing the superpixels of the image on screen (once per image)."""
        stem, image = self.c.stem, self.window.current_image
        if stem is None or image is None or stem in (self._sp_stem, self._sp_pending) or \
                not self.window.isVisible():
            return
        self._sp_pending = stem
        self.pending += 1
        self.message("Superpixel brush: computing the superpixels of this image…")

        def compute(_progress, _stop):
            from app.tools.superpixels import Superpixels

            return Superpixels(image)

        def done(sp, stem=stem) -> None:
            self.pending -= 1
            if self._sp_pending == stem:
                self._sp_pending = None
            if self.c.stem == stem:
                self.superpixels, self._sp_stem = sp, stem
                self.message(f"Superpixel brush: {sp.count} superpixels ready")
                self.show_outlines()

        def failed(msg: str) -> None:
            self.pending -= 1
            self._sp_pending = None
            self.window.report_error(f"Superpixels failed: {msg}", modal_box=False)

        self.window.jobs.start(compute, name="assist: superpixels", lane=LANE, on_done=done, on_error=failed)

    def show_outlines(self) -> None:
        """Draw the superpixels' outlines while the superpixel brush is the tool (hidden otherwise)."""
        sp = self.superpixels if self.c.mode == Mode.SUPERPIXEL and self._sp_stem == self.c.stem else None
        if sp is not None:
            seg = sp.segments
            edge = np.zeros(seg.shape, bool)
            edge[:, 1:] |= seg[:, 1:] != seg[:, :-1]
            edge[1:, :] |= seg[1:, :] != seg[:-1, :]
            rgba = np.zeros((*seg.shape, 4), np.uint8)
            rgba[edge] = (255, 255, 255, 110)
            for item in self.outlines:
                item.setImage(rgba, autoLevels=False, levels=(0, 255))
        for item in self.outlines:
            item.setVisible(sp is not None)

    def mode_changed(self, mode: Mode) -> None:
        button = getattr(self.c, "assist_button", None)
        if button is not None and mode in self.c.tool_actions and button.menu() is not None \
                and self.c.tool_actions[mode] in button.menu().actions():
            button.setDefaultAction(self.c.tool_actions[mode])
        if mode == Mode.SUPERPIXEL:
            self.prepare()
        self.show_outlines()

    def image_changed(self) -> None:
        if self._sp_stem != self.c.stem:
            self.superpixels, self._sp_stem = None, None
        if self.c.mode == Mode.SUPERPIXEL:
            self.prepare()
        self.show_outlines()
