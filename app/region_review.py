"""Reviewing error regions (issue 13, app side): the Regions dock, the keys that walk the regions and act on
them, the shown image's regions (computed off the GUI thread from ``workspace.shown.results`` at the shown
stride, again after each edit), the dataset-wide ones the evaluation sends (``ScoredImage.regions``: the
inference worker extracts them while it predicts every image, at the finest stride), the confusion-cell
filter, and the reviewed marks (``<corrections>/regions-reviewed.json``).

Keys: ``.`` / ``,`` next / previous region (N is the Navigate tool), ``Y`` accept the prediction in the
region (one undo step), ``M`` mark reviewed (again: unmark)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence, QPen
from PySide6.QtWidgets import QDockWidget, QGraphicsRectItem

from app.region_list import RegionEntry, RegionList, load_reviewed, save_reviewed, sidecar_path
from app.views.regions_panel import RegionsPanel

RECOMPUTE_MS = 250  # after an edit, the shown image's regions are recomputed once the edits pause
KEYS = {
    "next": ("Next error &region", ("N", "."), "Go to the next error region (switches image when needed)"),
    "previous": ("Previous error re&gion", ("Shift+N", ","), "Go to the previous error region"),
    "accept": ("Accept prediction in &region", ("Y",),
               "The labels inside the current error region take the prediction (one undo step)"),
    "reviewed": ("Mark region re&viewed", ("M",),
                 "Mark the current error region reviewed (kept per dataset); again to unmark"),
}


class RegionReview(QObject):
    """``window.regions``: owns ``regions`` (RegionList), ``panel`` (RegionsPanel) and ``current``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.regions = RegionList()
        self.current: RegionEntry | None = None
        self._index: int | None = None  # where ``current`` was in the list (it may vanish when accepted)
        self._pending: RegionEntry | None = None  # to frame once its image is on screen
        self._gen = 0  # generation of the shown image's region job (older results are dropped)
        self.computing = False
        self.error: str | None = None
        self.panel = RegionsPanel()
        dock = QDockWidget("Regions", window)
        dock.setObjectName("dock_regions")
        dock.setWidget(self.panel)
        # beside the image list (both are lists of places to go; the table needs the browser's width)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        if "browser" in window.docks:
            window.tabifyDockWidget(window.docks["browser"], dock)
            window.docks["browser"].raise_()
        window.docks["regions"] = dock
        self.dock = dock
        if "view" in window.menus:
            window.menus["view"].addAction(dock.toggleViewAction())
        self.actions: dict[str, QAction] = {}
        for name, (text, keys, tip) in KEYS.items():
            action = QAction(text, window)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({', '.join(keys)})")
            action.triggered.connect(getattr(self, name if name != "previous" else "prev"))
            menu = window.menus.get("view" if name in ("next", "previous") else "edit")
            if menu is not None:
                menu.addAction(action)
            window.addAction(action)
            self.actions[name] = action
        self.highlights: list[QGraphicsRectItem] = []
        pen = QPen(QColor(255, 220, 0))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        pen.setStyle(Qt.PenStyle.DashLine)
        for panel in window.panels.values():
            item = QGraphicsRectItem()
            item.setPen(pen)
            item.setZValue(90)
            item.setVisible(False)
            panel.view_box.addItem(item, ignoreBounds=True)
            self.highlights.append(item)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOMPUTE_MS)
        self._timer.timeout.connect(self.compute_shown)
        p = self.panel
        p.next_button.clicked.connect(self.next)
        p.prev_button.clicked.connect(self.prev)
        p.accept_button.clicked.connect(self.accept)
        p.reviewed_button.clicked.connect(self.reviewed)
        p.region_activated.connect(self.go_to_key)
        p.pair_chosen.connect(self.filter_pair)
        p.sort_chosen.connect(self.sort_by)
        p.hide_reviewed_changed.connect(self._hide_reviewed)
        window.dataset_opened.connect(self._dataset_opened)
        window.models_opened.connect(lambda _m: self._forget_all())
        window.current_image_changed.connect(self._image_changed)
        window.predictions_changed.connect(self.schedule)
        window.stride_changed.connect(lambda _s: self.schedule())
        window.gt_labels_changed.connect(lambda _r: self.schedule())
        window.client.scored.connect(self._scored)
        window.evaluation.confusion.cell_clicked.connect(self._cell_clicked)
        self._refresh()

    # -- list state ------------------------------------------------------------------------------------
    def _dataset_opened(self, dataset) -> None:
        self._forget_all()
        self.regions.reviewed = set()
        self.error = None
        try:
            self.regions.reviewed = load_reviewed(self.sidecar())
        except ValueError as exc:  # unreadable sidecar: said, and not overwritten until a mark is made
            self.error = str(exc)
            self.window.report_error(str(exc), modal_box=False)
        self._refresh()

    def _forget_all(self) -> None:
        self.regions.clear()
        self.current, self._index, self._pending = None, None, None
        self._gen += 1
        self._show_highlight(None)
        self._refresh()

    def sidecar(self):
        return sidecar_path(self.window.editing.saver.corrections_dir())

    def _refresh(self) -> None:
        w = self.window
        self.panel.class_names = list(w.class_names or [])
        key = None if self.current is None else self.current.key
        self.panel.show_list(self.regions, key, w.current_stem)
        enabled = self.current is not None
        for name in ("accept", "reviewed"):
            self.actions[name].setEnabled(enabled)
        self.panel.accept_button.setEnabled(enabled)
        self.panel.reviewed_button.setEnabled(enabled)

    def sort_by(self, key: str) -> None:
        self.regions.set_sort(key)
        self._refresh()

    def filter_pair(self, pair) -> None:
        """Show only regions of ``pair`` = (true, predicted) (None: all)."""
        self.regions.set_pair(pair)
        self._index = None
        self._refresh()

    def _cell_clicked(self, gt: int, pred: int) -> None:
        """A confusion-matrix cell of the evaluation panel: list that pair's regions."""
        if gt != pred:
            self.filter_pair((gt, pred))
            self.dock.show()
            self.dock.raise_()

    def _hide_reviewed(self, on: bool) -> None:
        self.regions.hide_reviewed = on
        self.regions.set_pair(self.regions.pair)  # drops the cached order
        self._refresh()

    # -- where regions come from -------------------------------------------------------------------------
    def _scored(self, item) -> None:
        """An evaluated image: its regions join the list (the shown image keeps those at the shown stride)."""
        regions = getattr(item, "regions", None)
        if regions is None or item.run_id <= 0 or item.model_id != self.window.workspace.model_id:
            return
        if item.stem == self.window.current_stem and self.regions.regions_of(item.stem):
            return
        self.regions.set_image(item.stem, regions)
        self._refresh()

    def schedule(self) -> None:
        """Recompute the shown image's regions soon (several edits in a row: once)."""
        self._timer.start()

    def compute_shown(self) -> None:
        """The shown image's own regions at the shown stride, off the GUI thread."""
        w = self.window
        shown = w.workspace.shown
        results, stride, stem = w.current_results, w.current_stride, w.current_stem
        if shown is None or not results or stride not in results or w.current_gt is None or w.classes_differ:
            return
        if not w.isVisible():  # closed (its jobs are shut down): start nothing new
            return
        self._gen += 1
        gen, image, gt = self._gen, w.current_image, w.current_gt.copy()
        self.computing = True

        def compute(_progress, _stop):
            from fcn_core.regions import extract_regions

            return extract_regions(image, gt, results, stride)

        def done(found) -> None:
            if gen != self._gen:
                return
            self.computing = False
            self.regions.set_image(stem, found)
            if self.current is not None and self.current.stem == stem:
                self.current = next((e for e in self.regions.regions_of(stem) if e.key == self.current.key),
                                    None)
                if self.current is None:
                    self._show_highlight(None)
            self._refresh()

        def failed(msg: str) -> None:
            if gen == self._gen:
                self.computing = False
                self.window.status_bar.showMessage(f"Error regions of {stem}: {msg}", 8000)

        w.jobs.start(compute, name="regions", lane="regions", on_done=done, on_error=failed)

    # -- navigation ------------------------------------------------------------------------------------
    def next(self) -> None:
        self.step(1)

    def prev(self) -> None:
        self.step(-1)

    def step(self, direction: int) -> None:
        key = None if self.current is None else self.current.key
        entry = self.regions.step(key, direction, self._index)
        if entry is None:
            self.window.status_bar.showMessage("No error regions (they come with the prediction and the "
                                               "evaluation)", 5000)
            return
        self.go_to(entry)

    def go_to_key(self, key: str) -> None:
        i = self.regions.find(key)
        if i is not None:
            self.go_to(self.regions.entries()[i])

    def go_to(self, entry: RegionEntry) -> None:
        """Make ``entry`` current: switch image when needed, then frame it in every panel."""
        self.current, self._index = entry, self.regions.find(entry.key)
        self._refresh()
        if entry.stem != self.window.current_stem:
            self._pending = entry
            self._show_highlight(None)
            self.window.show_stem(entry.stem)
        else:
            self.frame(entry)

    def _image_changed(self, stem: str) -> None:
        self._gen += 1  # a region job for the previous image is stale
        self.computing = False
        pending, self._pending = self._pending, None
        if pending is not None and pending.stem == stem:
            QTimer.singleShot(0, lambda: self.frame(pending))
        else:
            self._show_highlight(None)
        self.schedule()

    def frame(self, entry: RegionEntry) -> None:
        """Centre and zoom every panel on the region and outline it."""
        x0, y0, x1, y1 = entry.region.box
        self.window.grid.views.frame(x0, y0, x1, y1)
        self._show_highlight(entry.region.box)
        r = entry.region
        name = self.panel.name
        self.window.status_bar.showMessage(
            f"Region {self._index + 1 if self._index is not None else '?'} of {len(self.regions.entries())}: "
            f"{name(r.true_class)} labelled, {name(r.predicted_class)} predicted, {r.area} px, "
            f"{r.verdict.replace('_', ' ')}", 8000)

    def _show_highlight(self, box) -> None:
        for item in self.highlights:
            if box is not None:
                x0, y0, x1, y1 = box
                item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            item.setVisible(box is not None)

    # -- acting on the current region ------------------------------------------------------------------
    def accept(self) -> None:
        """The labels inside the current region take the prediction at its stride (one undo step)."""
        w, entry = self.window, self.current
        ed = w.editing
        if entry is None or entry.stem != w.current_stem or ed.document is None:
            return
        if w.classes_differ or ed.compare_action.isChecked():
            w.status_bar.showMessage("The prediction cannot be accepted here (classes differ, or the "
                                     "original is shown)", 6000)
            return
        result = (w.current_results or {}).get(entry.region.stride)
        doc = ed.document
        if result is None or result.labels.shape != doc.shape:
            w.status_bar.showMessage("The prediction for this region is not at hand yet", 5000)
            return
        if doc.set_region(entry.region.full_mask(doc.shape), result.labels) is not None:
            ed.after_edit()
        self.mark(entry.key, True)

    def reviewed(self) -> None:
        """Toggle the current region's reviewed mark (saved at once)."""
        if self.current is not None:
            self.mark(self.current.key, self.current.key not in self.regions.reviewed)

    def mark(self, key: str, on: bool) -> None:
        self.regions.set_reviewed(key, on)
        try:
            save_reviewed(self.sidecar(), self.regions.reviewed)
        except OSError as exc:
            self.window.report_error(f"{self.sidecar()}: cannot save the reviewed regions ({exc})",
                                     modal_box=False)
        self._refresh()
