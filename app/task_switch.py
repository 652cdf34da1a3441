"""The Task toggle of a two-headed net (SIFT Flow: semantic / geometric) and the extra input panels.

The task is workspace state (``Workspace.set_task``): the window's ``dataset`` and ``model_set`` become that
task's views (its labels, classes, palette and corrections folder ``corrections/geo/``; the net's head, with a
model id of its own so predictions are cached per task), and each task keeps its own ScoreBook. This
controller does the window's part: it saves edits first (``before_image_change``), hands the views to the
inference worker, re-applies classes (legend, palette, class selector), refills the browser's scores from the
task's book, keeps each task's evaluation result, and asks for the image again (its task labels and head).
It also shows the extra input channels (depth, HHA) the worker read with each image in their own panels.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from app import class_check, split_filter
from app.views.task_selector import TaskSelector
from fcn_core.data.task_view import task_title


class TaskSwitch(QObject):
    """Created by the window (one line); see the module docstring."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._results: dict = {}  # task -> its last evaluation result
        # beside the stride toggle (like it, it chooses which output is shown); only for a two-headed net
        self.selector = TaskSelector(window.controls)
        window.controls.layout().insertWidget(2, self.selector)
        self.selector.hide()
        self.selector.task_selected.connect(self.set_task)
        window.dataset_opened.connect(lambda _d: self._available())
        window.models_opened.connect(lambda _m: self._available())
        window.workspace.dataset_opened.connect(lambda _d: self._sync_worker())
        window.workspace.models_loaded.connect(lambda _m: self._sync_worker())
        window.client.image_ready.connect(self._show_inputs)
        window.client.result_ready.connect(self._show_inputs)

    @property
    def task(self) -> str:
        return self.window.workspace.task

    def _available(self) -> None:
        ws = self.window.workspace
        self._results = {}
        self.selector.set_tasks(ws.tasks)
        self.selector.set_task(ws.task)
        self._show_selector(len(ws.tasks) > 1)

    def _show_selector(self, shown: bool) -> None:
        self.selector.setVisible(shown)
        self.window.controls.adjustSize()

    def _sync_worker(self) -> None:
        """A new dataset or model opens on the semantic task: the worker drops the other task's views."""
        ws, client = self.window.workspace, self.window.client
        if ws.task != "sem" or ws.base_dataset is None and ws.base_models is None:
            return
        worker = client.worker
        if ws.dataset is not None and getattr(worker, "dataset", None) is not ws.dataset:
            client.set_dataset(ws.dataset)
        held = getattr(worker, "models", None)
        if ws.models is not None and held is not None and held is not ws.models:
            client.adopt(ws.models)

    def _show_inputs(self, r) -> None:
        if r.req_id == self.window.client.latest_id and r.stem == self.window.current_stem:
            self.window.grid.set_inputs(r.inputs, r.input_errors)

    def set_task(self, task: str) -> None:
        """Show ``task``'s labels, head, classes and scores (unsaved edits are saved first)."""
        w = self.window
        ws = w.workspace
        if task == ws.task or task not in ws.tasks:
            self.selector.set_task(ws.task)
            return
        if not w._may_leave_image(then=lambda: self.set_task(task)):
            self.selector.set_task(ws.task)  # waits for the save; the switch happens then
            return
        if w.evaluation.running:
            w.evaluation.cancel()
        self._results[ws.task] = w.evaluation.result
        stem = w.current_stem
        ws.set_task(task)
        w.client.set_dataset(ws.dataset)
        w.client.adopt(ws.models)
        self.selector.set_task(task)
        class_check.apply_classes(w)
        w.editing._refresh_classes()
        ds = ws.dataset
        split = w.browser.split_name()
        corrected = {s.stem for s in ds.samples if s.corrected}
        w.browser.set_dataset(ds.stems, w.class_names, corrected, ds.splits, split)
        for s, row in ws.book.rows.items():
            w.browser.model.update_row(s, scores=row)
        for s, message in ws.book.failed.items():
            w.browser.model.update_row(s, error=message)
        self._restore_result(task, split)
        w.status_bar.showMessage(f"Task: {task_title(task)} ({', '.join(w.class_names)})", 6000)
        if stem is not None:
            w._request(stem)

    def _restore_result(self, task: str, split: str) -> None:
        """The task's own last evaluation (or none) in the evaluation panel."""
        w, ev = self.window, self.window.evaluation
        result = self._results.get(task)
        ws = w.workspace
        if result is not None and result.book is ws.book:
            ev.result, ev._result_dataset = result, ws.dataset
            ev.show_split(split, len(split_filter.labelled_stems(ws.dataset, split)), ws.dataset)
            ev.totals_changed()
        else:
            ev.clear_result(f"Evaluate to see the {task_title(task)} task's scores.")
            ev.show_split(split, len(split_filter.labelled_stems(ws.dataset, split)), ws.dataset)
