"""EditingController: puts the label tools, the document, saving and recovery onto the MainWindow.

It only uses the window's editing contract (docs/ARCHITECTURE.md, last section): panels, current_* state,
signals, ``set_current_gt``, ``gt_labels_changed``, ``before_image_change``, menus, tool bar, status bar.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QSpinBox

from app.document import VOID, LabelDocument, Point
from app.editing.assist_tools import AssistTools, add_assist_button
from app.editing.canvas import CanvasInput
from app.editing.class_selector import ClassSelector
from app.editing.image_histories import ImageHistories
from app.editing.live_preview import preview_rect
from app.editing.polygon_input import PolygonClicks
from app.editing.saving import Saver
from app.editing.score_gate import ScoreGate
from app.editing.shortcuts import TOOL_BAR_TEXT, TOOL_SHORTCUTS, ShortcutSheet
from app.tools import ASSIST_MODES, Drag, Mode, ToolContext, start_drag
from app.views.compare_notice import PAINT_REFUSED

BRUSH_SIZES = (1, 2, 3, 5, 8, 12, 16, 20, 30, 45, 64, 96, 128)


class EditingController(QObject):
    """Owns the ``LabelDocument`` of the image on screen and everything that edits or saves it."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.document: LabelDocument | None = None
        self.stem: str | None = None
        self.mode = Mode.PAN
        self.brush_size = 12.0
        self.label = 1
        self._stroke_rect: tuple[int, int, int, int] | None = None  # previewed, window repaint pending
        self.saver = Saver(self)
        self._build_actions()
        self._build_tool_bar()
        edited = [window.panels["gt"], window.panels["overlay"]]
        self.polygon = PolygonClicks([p.view_box for p in edited], context=self._tool_context,
                                     finished=self.after_edit, make_action=self._action,
                                     message=lambda text: window.status_bar.showMessage(text, 5000))
        self.assist = AssistTools(self, [p.view_box for p in edited])
        self.histories = ImageHistories(self)
        self.canvas = CanvasInput(edited, mode=lambda: self.mode, brush_size=lambda: self.brush_size,
                                  start=self._start_drag, finished=self.after_edit,
                                  clicks={Mode.POLYGON: self.polygon, Mode.SCISSORS: self.assist.scissors},
                                  refuse=self._refuse_press, parent=self)
        window.before_image_change.append(self._before_image_change)
        window.current_image_changed.connect(self._on_image)
        window.dataset_opened.connect(lambda _ds: self._refresh_classes())
        window.models_opened.connect(lambda _m: self._refresh_classes())
        for signal in (window.predictions_changed, window.stride_changed):  # the read-out names them
            signal.connect(lambda *_a: self.refresh_readout())
        self._refresh_classes()
        self.score_gate = ScoreGate(self)
        self.update_actions()
        QTimer.singleShot(0, self.saver.offer_recovery)

    # -- actions -------------------------------------------------------------------------------------------
    def _action(self, text: str, menu: str | None, keys: tuple[str, ...] = (), slot=None, *,
                checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({', '.join(keys)})" if keys else tip)
        if slot is not None:
            action.triggered.connect(slot)
        if menu is not None and menu in self.window.menus:
            end = self.window.actions.menu_end(menu) if hasattr(self.window, "actions") else None
            if end is not None:  # File: before Quit, which stays last
                self.window.menus[menu].insertAction(end, action)
            else:
                self.window.menus[menu].addAction(action)
        else:
            self.window.addAction(action)  # keyboard-only actions still need a widget to live on
        self._mine.append(action)
        return action

    def _build_actions(self) -> None:
        self._mine: list[QAction] = []
        w, menus = self.window, self.window.menus
        self.tool_actions: dict[Mode, QAction] = {}
        self.tool_group = QActionGroup(self)
        if "tools" in menus:
            menus["tools"].addSeparator()
        for mode, text, key, tip in TOOL_SHORTCUTS:
            a = self._action(text, "tools", (key,), lambda _=False, m=mode: self.set_mode(m), checkable=True,
                             tip=tip)
            self.tool_group.addAction(a)
            self.tool_actions[mode] = a
        self.tool_actions[self.mode].setChecked(True)
        self.undo_action = self._action("&Undo edit", "edit", ("Ctrl+Z",), self.undo)
        self.redo_action = self._action("&Redo edit", "edit", ("Ctrl+Shift+Z", "Ctrl+Y"), self.redo)
        self._action("Replace &class…", "edit", (), self.replace_class_dialog,
                     tip="Turn every pixel of one class into another in this image")
        self._action("Brush &smaller", "edit", ("[",), lambda: self.step_brush(-1))
        self._action("Brush &bigger", "edit", ("]",), lambda: self.step_brush(1))
        for d in range(10):
            self._action(f"Class {d}", None, (str(d),), lambda _=False, d=d: self.select_class(d))
        self.save_action = self._action("&Save corrections", "file", ("Ctrl+S",), self.saver.save,
                                        tip="Write the corrected labels to the dataset's corrections folder")
        self.overwrite_action = self._action("Overwrite &original ground truth…", "file", (),
                                             self.saver.overwrite_original,
                                             tip="Replace the dataset's own label file (a backup is kept)")
        from app.editing.background import BackgroundJobs

        self.jobs = BackgroundJobs(self)
        self._action("&Export dataset…", "file", (), self.jobs.export_dialog,
                     tip="Write the dataset with its corrections in VOC layout (fcn export)")
        if (quit_action := w.actions.menu_end("file")) is not None and "file" in menus:
            menus["file"].insertSeparator(quit_action)  # … Export dataset…, separator, Quit
        self._action("Fine-tune on &corrections…", "tools", (), self.jobs.finetune_dialog,
                     tip="Train the loaded model further on the corrected labels (fcn train)")
        self.compare_action = self._action("Show &original ground truth", "view", ("O",), self._compare,
                                           checkable=True, tip="Compare the corrections with the original")
        self._action("&Keyboard shortcuts", "help", ("F1",), self.show_shortcuts,
                     tip="Every key of the window, read from its actions")
        w.status_bar.showMessage("Editing tools: B brush, E eraser, F fill (F1: every key)", 4000)

    def _build_tool_bar(self) -> None:
        bar = getattr(self.window, "edit_tool_bar", None) or self.window.tool_bar
        bar.addWidget(QLabel(" Tools "))
        for mode, _text, _key, _tip in TOOL_SHORTCUTS:
            action = self.tool_actions[mode]
            action.setIconText(TOOL_BAR_TEXT.get(mode, action.text().replace("&", "")))
            if mode not in ASSIST_MODES:
                bar.addAction(action)
        bar.addSeparator()
        self.size_box = QSpinBox()
        self.size_box.setRange(1, 256)
        self.size_box.setValue(int(self.brush_size))
        self.size_box.setPrefix("Brush ")
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Brush diameter in image pixels ([ and ])")
        self.size_box.valueChanged.connect(self.set_brush_size)
        bar.addWidget(self.size_box)
        self.class_selector = ClassSelector()
        self.class_selector.class_selected.connect(self._class_chosen)
        bar.addWidget(self.class_selector)
        bar.addSeparator()  # the assisted tools last: one drop-down button (all are in the Tools menu too)
        self.assist_button = add_assist_button(bar, [self.tool_actions[m] for m, *_r in TOOL_SHORTCUTS
                                                     if m in ASSIST_MODES])

    def _refresh_classes(self) -> None:
        names = list(self.window.class_names or [])
        if names:
            self.class_selector.set_classes(names, np.asarray(self.window.palette))
            self.label = self.class_selector.current()

    # -- state changes -------------------------------------------------------------------------------------
    def set_mode(self, mode: Mode) -> None:
        """Switch the active tool (left-drag pans only in ``Mode.PAN``)."""
        self.canvas.reset()
        self.mode = mode
        self.tool_actions[mode].setChecked(True)
        self.assist.mode_changed(mode)
        self.canvas.refresh_cursor()
        self._show_edited_labels_on_overlay()
        action = self.tool_actions[mode]
        name = action.text().replace("&", "")
        self.window.status_bar.showMessage(f"Tool: {name} — {action.statusTip()}", 6000)

    def _show_edited_labels_on_overlay(self) -> None:
        """With a painting tool the overlay panel lays the labels being edited over the photo (what you
        paint is what you see there, as in labelme / CVAT); in Navigate it shows the prediction again."""
        grid = getattr(self.window, "grid", None)
        if grid is not None and hasattr(grid, "set_overlay_source"):
            grid.set_overlay_source("prediction" if self.mode == Mode.PAN else "labels")

    def set_brush_size(self, size: float) -> None:
        """Brush diameter in image pixels (1–256)."""
        self.brush_size = float(min(max(size, 1), 256))
        if self.size_box.value() != int(self.brush_size):
            self.size_box.setValue(int(self.brush_size))
        if hasattr(self, "canvas"):
            self.canvas.refresh_cursor()

    def step_brush(self, direction: int) -> None:
        """``[`` / ``]``: the next smaller / bigger size of a geometric ladder."""
        size = self.brush_size
        if direction > 0:
            bigger = [s for s in BRUSH_SIZES if s > size]
            self.set_brush_size(bigger[0] if bigger else BRUSH_SIZES[-1])
        else:
            smaller = [s for s in BRUSH_SIZES if s < size]
            self.set_brush_size(smaller[-1] if smaller else BRUSH_SIZES[0])

    def select_class(self, index: int) -> None:
        """Digits: select class ``index`` when the dataset has it."""
        if not self.class_selector.select(index) and not self.window.class_names:
            self.label = index

    def _class_chosen(self, index: int) -> None:
        self.label = index

    # -- the document --------------------------------------------------------------------------------------
    def _on_image(self, stem: str) -> None:
        """A new image is on screen: edit its ground truth (or a void map when it has none)."""
        self.canvas.reset()
        w = self.window
        if self.compare_action.isChecked():  # a new image opens showing (and editing) its labels
            self.compare_action.setChecked(False)
            self.canvas.enabled = True
        self._stroke_rect = None
        gt, image = w.current_gt, w.current_image
        if gt is None:
            if image is None:
                self.histories.leave(self.stem, self.document)
                self.document = self.stem = None
                return
            gt = np.full(image.shape[:2], VOID, np.uint8)
        original = None
        ds = w.dataset
        if ds is not None and stem in ds.stems and getattr(ds.sample(stem), "corrected", False):
            try:
                original = ds.original_label(stem)
            except Exception:  # noqa: BLE001 - an unreadable original only disables the comparison
                original = None
        if original is not None and original.shape != gt.shape:
            original = None
        self.histories.leave(self.stem, self.document)
        doc = self.histories.restore(stem, gt) or LabelDocument(gt, original=original)
        if doc.labels is not w.current_gt:
            w.set_current_gt(doc.labels)
        doc.add_listener(self._labels_changed)
        self.document, self.stem = doc, stem
        self.saver.new_document()
        self.assist.image_changed()
        self.refresh_readout()  # a still cursor now points into another image
        self.update_actions()

    def _prediction(self) -> np.ndarray | None:
        if getattr(self.window, "classes_differ", False):
            return None  # the model's class indices are not the dataset's: nothing to accept
        res = (self.window.current_results or {}).get(self.window.current_stride)
        return None if res is None else res.labels

    def _tool_context(self) -> ToolContext | None:
        """What a tool edits now; None without a document or while the original is shown."""
        if self.document is None or self.compare_action.isChecked():
            return None
        ctx = ToolContext(self.document, label=self.label, brush_size=self.brush_size,
                          prediction=self._prediction(), on_pick=self.class_selector.select,
                          image=self.window.current_image, run=self.assist.run, message=self.assist.message)
        if self.mode == Mode.SUPERPIXEL:
            ctx.superpixels = self.assist.superpixels_for(self.stem)
        return ctx

    def _refuse_press(self) -> bool:
        """An editing press while the original ground truth is compared (read-only): refused, and said why
        (instead of a silent pan)."""
        if not self.compare_action.isChecked():
            return False
        self.window.status_bar.showMessage(PAINT_REFUSED, 6000)
        return True

    def _start_drag(self, pos: Point) -> Drag | None:
        ctx = self._tool_context()
        return None if ctx is None else start_drag(self.mode, ctx, pos)

    def _labels_changed(self, rect: tuple[int, int, int, int]) -> None:
        """During a drag only the GT panel's dirty rectangle is recoloured (live preview, well under a
        millisecond on 2048²); the window's full ``gt_labels_changed`` repaint (GT, error map) runs once for
        the stroke's whole rectangle when the button is released. Clicks, undo and redo repaint at once."""
        if self.canvas.dragging and preview_rect(self.window, self.document.labels, rect):
            self._stroke_rect = rect if self._stroke_rect is None else (
                min(self._stroke_rect[0], rect[0]), max(self._stroke_rect[1], rect[1]),
                min(self._stroke_rect[2], rect[2]), max(self._stroke_rect[3], rect[3]))
            return
        self.window.gt_labels_changed.emit(rect)

    def after_edit(self) -> None:
        """After a stroke / click / undo: repaint what the stroke changed, rescore, refresh the actions."""
        rect, self._stroke_rect = self._stroke_rect, None
        if rect is not None:
            self.window.gt_labels_changed.emit(rect)
        self.window.rescore_current()
        self.refresh_readout()
        self.saver.edited()
        self.update_actions()

    def refresh_readout(self) -> None:
        """The labels (or what is shown) changed under a still cursor: the read-out describes them anew."""
        w = self.window
        if w.current_image is not None:
            w.readout.refresh(w.current_image.shape[:2], w.class_names, w.current_gt, w.current_results,
                              w.current_stride, w.pred_class_names)

    def undo(self) -> None:
        """Ctrl+Z: revert the last stroke or operation (a polygon in progress is discarded)."""
        self.canvas.reset()
        if self.document is not None and self.document.undo() is not None:
            self.after_edit()

    def redo(self) -> None:
        """Ctrl+Shift+Z: re-apply the last undone step."""
        self.canvas.reset()
        if self.document is not None and self.document.redo() is not None:
            self.after_edit()

    def update_actions(self) -> None:
        """Enable undo/redo/save to match the document; mark unsaved edits in the title."""
        doc = self.document
        self.undo_action.setEnabled(doc is not None and doc.can_undo)
        self.histories.describe(self.undo_action)
        self.redo_action.setEnabled(doc is not None and doc.can_redo)
        self.save_action.setEnabled(doc is not None)
        self.overwrite_action.setEnabled(doc is not None and self.window.dataset is not None)
        if self.stem is not None:
            self.window.update_title(modified=bool(doc and doc.is_modified))

    def replace_class_dialog(self) -> None:
        """Edit → Replace class…: pick both classes from searchable lists (for classes hard to click)."""
        from app.editing.replace_dialog import ReplaceClassDialog

        doc = self.document
        if doc is None or self.compare_action.isChecked():
            return
        names = list(self.window.class_names) or [str(i) for i in range(255)]
        present = np.bincount(doc.labels.ravel(), minlength=256) > 0
        dialog = ReplaceClassDialog(names, present, self.label, self.window)
        self._replace_dialog = dialog  # tests reach it here
        if dialog.exec() == dialog.DialogCode.Accepted and (pair := dialog.choice()) is not None:
            self.replace_class(*pair)

    def replace_class(self, old: int, new: int) -> None:
        """Replace class ``old`` by ``new`` in the whole image (one undo step)."""
        if self.document is not None and self.document.replace_class(old, new) is not None:
            self.after_edit()

    def _compare(self, on: bool) -> None:
        """View → Show original ground truth: display (not edit) the labels the document started from."""
        doc = self.document
        if doc is None:
            return
        self.canvas.reset()
        self.canvas.enabled = not on
        self.canvas.refresh_cursor()
        self.window.set_current_gt(doc.original.copy() if on else doc.labels)
        self.window.rescore_current()
        self.refresh_readout()

    def _before_image_change(self, then=None) -> bool:
        self.canvas.reset()
        return self.saver.leave_image(then=then)

    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts (F1)."""
        if getattr(self, "_sheet", None) is None:
            self._sheet = ShortcutSheet(self.window)
        self._sheet.show()
        self._sheet.raise_()
