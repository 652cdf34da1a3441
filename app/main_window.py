"""The inspection window: linked panels, stride toggle, image browser, legend, evaluation, status bar.

The window is layout and wiring: the open workspace's state lives in ``self.workspace`` (``app.workspace``,
Qt-free); the attributes the editing controller reads (``dataset``, ``current_gt``, ``model_set``, …; see
docs/ARCHITECTURE.md, "app: the contract between the inspection window and editing") are views of it.
Decoding, prediction and evaluation run on the inference worker's thread (the one owner of the model);
one-shot jobs (dataset scans) on the thread pool.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from app import class_check, file_actions, split_filter, window_layout
from app.auto_evaluation import AutoEvaluation
from app.editing import EditingController
from app.inference_client import InferenceClient
from app.jobs import JobRunner
from app.live_scores import LiveScores
from app.preview_switch import FastPreviewSwitch
from app.region_review import RegionReview
from app.task_switch import TaskSwitch
from app.views.compare_notice import CompareNotice
from app.views.error_box import ErrorBox
from app.window_opening import OpeningMixin
from app.workers import ImageResult
from app.workspace import Workspace


def _workspace_attr(name: str, doc: str) -> property:
    """A window attribute that is the workspace's (kept for the editing controller and tests)."""
    return property(lambda self: getattr(self.workspace, name),
                    lambda self, value: setattr(self.workspace, name, value), doc=doc)


class MainWindow(OpeningMixin, QMainWindow):
    """FCN Studio's main window."""

    current_image_changed = Signal(str)
    predictions_changed = Signal()
    stride_changed = Signal(int)
    gt_labels_changed = Signal(object)  # (y0, y1, x0, x1) or None
    first_view_ready = Signal()  # the first image (with predictions when a model is loaded) is on screen
    dataset_opened = Signal(object)
    dataset_failed = Signal(str)  # the dataset could not be opened (the message names it)
    models_opened = Signal(object)
    error_reported = Signal(str)

    dataset = _workspace_attr("dataset", "The open fcn_core Dataset (or None).")
    model_set = _workspace_attr("models", "The loaded app.model_set.ModelSet (or None).")
    current_stride = _workspace_attr("stride", "The stride shown.")
    class_names = _workspace_attr("class_names", "The dataset's class names (the model's without a dataset).")
    palette = _workspace_attr("palette", "256x3 uint8 colours of the classes.")
    classes_differ = _workspace_attr("classes_differ", "Model and dataset class names differ: no scores.")
    pred_class_names = _workspace_attr("pred_class_names", "Names of the predicted class indices.")
    score_by_index = _workspace_attr("score_by_index", "(dataset, model) pair scored by class index.")
    cache = _workspace_attr("cache", "Per-(image, model, stride) predictions (app.stride_cache.StrideCache).")

    @property
    def current_stem(self) -> str | None:
        return self.workspace.shown.stem

    @property
    def current_image(self) -> np.ndarray | None:
        return self.workspace.shown.image

    @property
    def current_gt(self) -> np.ndarray | None:
        """The labels on screen (the editor's document array while editing), void 255."""
        return self.workspace.shown.gt

    @property
    def current_results(self) -> dict | None:
        """``{stride: StrideResult}`` of the image on screen (its own prediction), or None."""
        return self.workspace.shown.results

    @current_results.setter
    def current_results(self, results: dict | None) -> None:
        s = self.workspace.shown
        self.workspace.show(s.stem, s.image, s.gt, results, self.workspace.model_id)

    @property
    def loaded_models(self) -> list:
        return [] if self.model_set is None else [p.loaded for p in self.model_set.predictors]

    def __init__(self, *, device: str | None = None, precision: str = "fp32", backend: str = "torch",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("FCN Studio")
        self.setAcceptDrops(True)
        self.device, self.precision = device, precision
        self.memory_mb: float | None = None  # working memory of one forward pass (larger images: tiles)
        self.backend = backend  # "torch", or "auto"/"onnxruntime": ONNX Runtime on the CPU (same labels)
        self.prediction_note = ""  # what the shown prediction did beyond one pass (tiles)
        self.workspace = Workspace()
        self.current_scores: dict[int, dict] = {}  # the shown image's scores (live while editing)
        self._last_prediction_s: float | None = None
        self._side_docks_sized = False
        self._shown_req = -1  # request whose photo is on screen (its prediction may still come)
        self._fill_browser_later = None  # a big dataset's browser rows, filled after its first photo
        self.before_image_change: list = []
        self.client = InferenceClient(self)
        self._waiting_models = False
        self._requested_stem: str | None = None
        self._predictions_folder: str | None = None  # stored predictions open or waiting for a dataset
        self.initial_stem: str | None = None  # shown first when the next dataset opens (--image)
        self.split_choice: str | None = None  # split picked in this session (--split); None: "val" or all
        self._first_view_sent = False
        self.jobs = JobRunner(self)  # every one-shot background job (scans, saves, export, fine-tune)
        self.error_box = ErrorBox(self)
        window_layout.build_widgets(self)
        window_layout.build_menus(self)
        self.auto_evaluation = AutoEvaluation(self)
        self._connect()
        self.fast_preview = FastPreviewSwitch(self)  # View → Fast preview (int8): shown first, never scored
        # EditingController(self) is created here by issue 6 (one line).
        self.editing = EditingController(self)
        self.regions = RegionReview(self)  # the Regions dock and its keys (issue 13)
        self.compare_notice = CompareNotice(self)  # marks View → Show original ground truth (O)
        self.task_switch = TaskSwitch(self)  # two-headed nets: the Task toggle; depth / HHA panels

    # ------------------------------------------------------------------ construction
    def _connect(self) -> None:
        a = self.actions
        a.open_dataset.triggered.connect(self._ask_dataset)
        a.open_models.triggered.connect(self._ask_models)
        a.open_predictions.triggered.connect(self._ask_predictions)
        a.save_screenshot.triggered.connect(lambda: file_actions.save_screenshot(self))
        a.quit.triggered.connect(self.close)
        for s in (32, 16, 8):
            a[f"stride_{s}"].triggered.connect(lambda _=False, s=s: self.set_stride(s))
        a.next_image.triggered.connect(lambda: self.browser.step(1))
        a.prev_image.triggered.connect(lambda: self.browser.step(-1))
        a.show_error.toggled.connect(lambda _on: self._extras_toggled())
        a.show_confidence.toggled.connect(lambda _on: self._extras_toggled())
        a.reset_view.triggered.connect(self.fit_view)
        a.evaluate.triggered.connect(self.evaluate_dataset)
        self.evaluation.follow_split_name(a.evaluate)  # "Evaluate val": names the split it scores
        a.cancel_evaluation.triggered.connect(self.evaluation.cancel)
        a.about.triggered.connect(lambda: QMessageBox.about(
            self, "FCN Studio", "FCN-32s/16s/8s inspection and label correction (Long, Shelhamer, Darrell)."))
        self.controls.strides.stride_selected.connect(self.set_stride)
        self.controls.opacity_changed.connect(self.grid.set_opacity)
        self.controls.error_mode_changed.connect(lambda m: self.grid.set_modes(error_mode=m))
        self.controls.confidence_mode_changed.connect(lambda m: self.grid.set_modes(confidence_mode=m))
        self.legend.only_class_changed.connect(lambda c: self.grid.set_only_class(None if c < 0 else c))
        self.browser.stem_activated.connect(self.show_stem)
        self.browser.split_changed.connect(self._on_split_changed)
        self.client.image_ready.connect(self._on_image_ready)
        self.client.result_ready.connect(self._on_result)
        self.client.tile_progress.connect(self._on_tile_progress)
        self.scores = LiveScores(self)
        self.client.failed.connect(self._on_failed)
        self.client.models_loaded.connect(self._on_models_loaded)
        self.client.models_failed.connect(self._on_models_failed)
        self.evaluation.run_button.clicked.connect(self.evaluate_dataset)
        self.evaluation.image_scored.connect(
            lambda stem, _sc, cl: self.browser.model.update_row(stem, classes=cl))
        self.evaluation.evaluation_finished.connect(self._on_evaluation_finished)
        self.evaluation.open_image.connect(self._open_from_evaluation)
        self.gt_labels_changed.connect(self.grid.gt_changed)
        for panel in self.panels.values():
            panel.graphics_view.scene().sigMouseMoved.connect(lambda pos, p=panel: self._mouse_moved(p, pos))

    def _apply_classes(self) -> None:
        class_check.apply_classes(self)

    def score_by_class_index(self) -> None:
        """The banner's "Score by class index" (see ``class_check.score_by_class_index``)."""
        class_check.score_by_class_index(self)

    # ------------------------------------------------------------------ images
    def show_stem(self, stem: str) -> None:
        """Switch to image ``stem`` (asks ``before_image_change`` hooks first)."""
        if stem == self._requested_stem and self.current_image is not None:
            return  # already shown or on its way
        if not self._may_leave_image(then=lambda: self.show_stem(stem)):
            if self.current_stem is not None:
                self.browser.select_stem(self.current_stem, emit=False)
            return
        self._request(stem)

    def _request(self, stem: str) -> int:
        ms = self.model_set
        need = ms is not None and self.cache.get_all(stem, ms.model_id, ms.strides) is None
        self._requested_stem = stem
        self.status_bar.showMessage(f"Loading {stem} …")
        return self.client.request(stem, need_predictions=need, prefetch=self.browser.neighbours(stem, 2))

    def _on_image_ready(self, r: ImageResult) -> None:
        """The photo and its labels, before the prediction: on screen at once."""
        if r.req_id != self.client.latest_id:
            return
        self._put_on_screen(r)
        self.panels["pred"].set_subtitle("Prediction: computing …")

    def _put_on_screen(self, r: ImageResult) -> None:
        self.prediction_note = ""
        shape_changed = self.current_image is None or self.current_image.shape != r.image.shape
        self._shown_req = r.req_id
        own = r.results if r.model_id == self.workspace.model_id else None
        self.workspace.show(r.stem, r.image, r.gt, own, r.model_id)
        self.current_scores = dict(self.workspace.book.rows.get(r.stem, {}))
        self.grid.set_image(r.image, r.gt, reset_view=shape_changed)
        self.browser.select_stem(r.stem, emit=False)
        self.update_title()
        self.current_image_changed.emit(r.stem)
        self._show_stride()
        if self._fill_browser_later is not None:  # a big dataset's table, once its first photo shows
            fill, self._fill_browser_later = self._fill_browser_later, None
            QTimer.singleShot(0, fill)

    def _on_result(self, r: ImageResult) -> None:
        self.scores.record_result(r)
        if r.req_id != self.client.latest_id:
            return  # the user has moved on; the answer only fed the cache
        ms = self.model_set
        if self._shown_req == r.req_id and self.current_stem == r.stem:  # photo already shown: add prediction
            if r.results and ms is not None and r.model_id == ms.model_id:
                self.workspace.store_results(r.stem, r.model_id, r.results)
            self.rescore_current()
            self._show_stride()
        else:
            self._put_on_screen(r)
        if r.prediction_error:  # stored predictions: this image has none (the file is named)
            self.panels["pred"].set_subtitle("Prediction: none stored for this image")
            self.status_bar.showMessage(r.prediction_error, 15000)
            self.error_reported.emit(r.prediction_error)
        results = self.current_results
        msg = f"{r.stem}: {r.image.shape[1]}×{r.image.shape[0]}"
        if r.results:
            msg += f", predicted in {1000 * r.seconds:.0f} ms"
        if r.note:  # a large image predicted in tiles within the memory cap: same labels, said so
            msg += f" ({r.note}, labels as one pass)"
        self.prediction_note = r.note if r.results else ""
        if r.note:
            self._show_stride()
        if not r.prediction_error:
            self.status_bar.showMessage(msg, 4000)
        if results is not None:
            if r.results:
                self._last_prediction_s = r.seconds
                self.auto_evaluation.on_prediction(r.seconds)
            self.predictions_changed.emit()
        elif ms is not None and r.model_id != ms.model_id:
            self._request(r.stem)  # answered before the model arrived: ask again with predictions
        answered = results is not None or bool(r.prediction_error and ms is not None)
        if not self._first_view_sent and (answered or (ms is None and not self._waiting_models)):
            self._first_view_sent = True
            QTimer.singleShot(0, self.first_view_ready.emit)

    def _on_tile_progress(self, req_id: int, stem: str, done: int, total: int) -> None:
        if req_id == self.client.latest_id:
            self.status_bar.showMessage(f"Predicting {stem} in {total} tiles (a large image): {done}/{total}")

    def update_title(self, *, modified: bool | None = None) -> None:
        """"FCN Studio — image — model files (or "predictions FOLDER")[ *]"; ``modified`` marks unsaved
        edits (None: as marked last for this image)."""
        if modified is None and self.current_stem != getattr(self, "_title_stem", None):
            modified = False  # another image: its own edits will be marked by the editor
        if modified is not None:
            self._title_modified, self._title_stem = modified, self.current_stem
        parts = ["FCN Studio"]
        if self.current_stem:
            parts.append(self.current_stem)
        if self.model_set is not None:
            names = ", ".join(Path(p).name for p in self.model_set.paths)
            parts.append(names if getattr(self.model_set, "predictors", True) else f"predictions {names}")
        self.setWindowTitle(" — ".join(parts) + (" *" if getattr(self, "_title_modified", False) else ""))

    def _on_failed(self, req_id: int, stem: str, message: str) -> None:
        if req_id == self.client.latest_id:
            self._requested_stem = None  # selecting it again retries
        self.browser.model.update_row(stem, error=message)
        self.report_error(f"{stem}: {message}")

    # ------------------------------------------------------------------ strides and views
    def set_stride(self, stride: int) -> None:
        """Show another stride from the cache (no recomputation)."""
        if self.model_set is not None and stride not in self.model_set.strides:
            return
        self.current_stride = stride
        self.controls.strides.set_stride(stride)
        for s in (32, 16, 8):
            self.actions[f"stride_{s}"].setChecked(s == stride)
        self.browser.model.set_stride(stride)
        self._show_stride()
        self.stride_changed.emit(stride)

    def _show_stride(self) -> None:
        res = None
        # until the exact prediction arrives, the int8 preview of this image at every stride (marked)
        preview = None if self.current_results is not None else self.fast_preview.state.result(
            self.current_stem, self.current_stride)
        marker = "" if preview is None else self.fast_preview.state.marker()
        if preview is not None:
            res = preview
        elif self.model_set is not None and self.current_stem is not None:
            res = self.cache.get(self.current_stem, self.model_set.model_id, self.current_stride)
        if res is None:  # evicted (tiny cache) or not a model result: what the image arrived with
            res = (self.current_results or {}).get(self.current_stride)
        self.grid.set_prediction(res, preview_note=marker)
        title = "Prediction (no model)" if self.model_set is None else "Prediction"
        if res is not None:
            title = f"Prediction FCN-{self.current_stride}s"
            if marker:
                title += f" · {marker}"
            elif self.prediction_note:
                title += f" · {self.prediction_note.removeprefix('predicted ')}"
        self.panels["pred"].set_subtitle(title, highlight=bool(marker))
        scores = self.current_scores.get(self.current_stride, {}) if self.current_scores else {}
        self.legend.set_iu(scores.get("per_class_iu"))
        if self.evaluation.result_is_for_shown_split():  # never another split's IU as if for this one
            self.legend.set_iu(self.evaluation.per_class_iu(self.current_stride), dataset=True)
        else:
            self.legend.set_iu(None, dataset=True)

    def _extras_toggled(self) -> None:
        self.grid.set_extra_panels(error=self.actions.show_error.isChecked(),
                                   confidence=self.actions.show_confidence.isChecked())

    def fit_view(self) -> None:
        """Zoom all panels to the whole image."""
        self.grid.fit()

    def _mouse_moved(self, panel, scene_pos) -> None:
        if self.current_image is None:
            return
        pt: QPointF = panel.view_box.mapSceneToView(scene_pos)
        x, y = int(math.floor(pt.x())), int(math.floor(pt.y()))
        self.readout.show_at(x, y, self.current_image.shape[:2], self.class_names, self.current_gt,
                             self.current_results, self.current_stride, self.pred_class_names)

    # ------------------------------------------------------------------ editing contract
    def set_current_gt(self, labels: np.ndarray | None) -> None:
        """Replace the ground truth shown (e.g. the editor's document array) and repaint."""
        self.workspace.set_shown_gt(labels)
        self.grid.set_gt(labels)

    def rescore_current(self) -> None:
        """Recompute the shown image's scores from ITS prediction after an edit (see ``app.live_scores``)."""
        self.scores.rescore_current()

    def labels_committed(self, stem: str, labels: np.ndarray) -> None:
        """``stem``'s labels were saved or restored: its row, the dataset totals and the order follow."""
        self.scores.labels_committed(stem, labels)

    def mark_corrected(self, stem: str, corrected: bool) -> None:
        """Set the browser's "corrected" column for ``stem`` (and forget the worker's stale copy)."""
        self.browser.model.update_row(stem, corrected=corrected)
        self.client.forget(stem)

    def _on_split_changed(self, split: str) -> None:
        """The user picked another split: remember it, re-label the evaluation, keep the image when in it."""
        self.split_choice = split
        self.evaluation.show_split(split, len(split_filter.labelled_stems(self.dataset, split)), self.dataset)
        self._show_stride()
        if self.current_stem is not None and self.browser.shows(self.current_stem):
            self.browser.select_stem(self.current_stem, emit=False)
        elif self.browser.first_stem() is not None:
            self.browser.select_stem(self.browser.first_stem())

    def _may_leave_image(self, then=None) -> bool:
        """Ask the ``before_image_change`` hooks. A hook may answer False while it finishes in the background
        (saving edits off the GUI thread) and call ``then()`` when done: the navigation happens then."""
        return all(hook(then=then) for hook in list(self.before_image_change))

    # ------------------------------------------------------------------ evaluation
    def evaluate_dataset(self, *, show_panel: bool = True) -> None:
        """Score the labelled images of the browser's split at every stride in the background
        (``show_panel``: open the evaluation dock)."""
        if self.dataset is None or self.model_set is None:
            self.report_error("Open a dataset with labels and a model before evaluating.", modal_box=False)
            return
        if self.classes_differ:
            self.report_error("Not evaluated: the model's classes differ from the dataset's, so the scores "
                              "would not mean anything.", modal_box=False)
            return
        if not self._may_leave_image(then=lambda: self.evaluate_dataset(show_panel=show_panel)):
            return  # unsaved edits are saved first (off the GUI thread): the evaluation scores what is shown
        if show_panel:
            self.docks["evaluation"].show()
        split = self.browser.split_name()
        stems = (split_filter.labelled_stems(self.dataset, split)
                 or split_filter.split_stems(self.dataset, split))
        self.evaluation.start(self.dataset, self.model_set, stems, self.palette, split)

    def _on_evaluation_finished(self, result) -> None:
        if not self.auto_evaluation.finished(result):
            return  # a probe found the dataset too slow to evaluate unasked: the status bar offers it
        self.browser.sort_worst_first()  # worst first; the image on screen stays in view
        self._show_stride()
        self.status_bar.showMessage(self.evaluation.summary.text(), 8000)

    # ------------------------------------------------------------------ errors, files, closing
    def report_error(self, message: str, *, modal_box: bool = True) -> None:
        """Show an error in the status bar and (non-modal) message box; the window keeps working."""
        self.status_bar.showMessage(message, 15000)
        self.error_reported.emit(message)
        if modal_box:
            self.error_box.add(message)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._side_docks_sized:  # once, at the size the window opens with; later the user's sizes
            self._side_docks_sized = True
            window_layout.size_side_docks(self)

    def ask_stop_jobs(self, names: list[str]) -> bool:
        """Closing while an export or fine-tune runs: stop it and quit (True), or keep working."""
        what = " and ".join(dict.fromkeys(names))
        answer = QMessageBox.question(
            self, "Quit FCN Studio", f"The {what} is still running. Stop it and quit? (An export that is "
            "stopped leaves its destination as it was; a fine-tune keeps its last checkpoint.)")
        return answer == QMessageBox.StandardButton.Yes

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        file_actions.open_dropped(self, [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._may_leave_image(then=self.close):
            event.ignore()
            return
        long_jobs = self.jobs.running("export", "fine-tune")
        if long_jobs and not self.ask_stop_jobs([j.name for j in long_jobs]):
            event.ignore()
            return
        self.jobs.shutdown()  # cancels and joins every job
        self.fast_preview.shutdown()
        self.evaluation.shutdown()
        self.client.shutdown()
        super().closeEvent(event)
