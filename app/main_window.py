"""The inspection window: linked panels, stride toggle, image browser, legend, evaluation, status bar.

The window only wires widgets together and keeps the state the editing controller reads (see
docs/ARCHITECTURE.md, "app: the contract between the inspection window and editing"). Decoding and
prediction run on the inference worker's thread; dataset scans on the thread pool.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from app import class_check, dataset_loading, file_actions, settings, split_filter, window_layout
from app.auto_evaluation import AutoEvaluation
from app.editing import EditingController
from app.stride_cache import StrideCache
from app.views.compare_notice import CompareNotice
from app.views.error_box import ErrorBox
from app.workers import BackgroundTask, ImageResult, InferenceClient


class MainWindow(QMainWindow):
    """FCN Studio's main window."""

    current_image_changed = Signal(str)
    predictions_changed = Signal()
    stride_changed = Signal(int)
    gt_labels_changed = Signal(object)  # (y0, y1, x0, x1) or None
    first_view_ready = Signal()  # the first image (with predictions when a model is loaded) is on screen
    dataset_opened = Signal(object)
    models_opened = Signal(object)
    error_reported = Signal(str)

    def __init__(self, *, device: str | None = None, precision: str = "fp32", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("FCN Studio")
        self.setAcceptDrops(True)
        self.device, self.precision = device, precision
        # -- state read by the editing controller --
        self.dataset = None
        self.current_stem: str | None = None
        self.current_image: np.ndarray | None = None
        self.current_gt: np.ndarray | None = None
        self.current_results: dict | None = None
        self.current_stride = 8
        self.current_scores: dict[int, dict] = {}
        self.model_set = None
        self.loaded_models: list = []
        self.class_names: list[str] = []
        self.palette = np.zeros((256, 3), np.uint8)
        self.classes_differ = False  # model and dataset class names differ: no scores, model colours
        self.pred_class_names: list[str] = []  # names of predicted indices (the model's when they differ)
        self.score_by_index: tuple | None = None  # (dataset, model) pair the user chose to score by index
        self._last_prediction_s: float | None = None
        self._side_docks_sized = False
        self.before_image_change: list = []
        self.cache = StrideCache()
        self.client = InferenceClient(self)
        self._waiting_models = False
        self._requested_stem: str | None = None
        self.initial_stem: str | None = None  # shown first when the next dataset opens (--image)
        self.split_choice: str | None = None  # split picked in this session (--split); None: "val" or all
        self._first_view_sent = False
        self._tasks: list[BackgroundTask] = []
        self.error_box = ErrorBox(self)
        window_layout.build_widgets(self)
        window_layout.build_menus(self)
        self.auto_evaluation = AutoEvaluation(self)
        self._connect()
        # EditingController(self) is created here by issue 6 (one line).
        self.editing = EditingController(self)
        self.compare_notice = CompareNotice(self)  # marks View → Show original ground truth (O)

    # ------------------------------------------------------------------ construction
    def _connect(self) -> None:
        a = self.actions
        a.open_dataset.triggered.connect(self._ask_dataset)
        a.open_models.triggered.connect(self._ask_models)
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
        self.client.result_ready.connect(self._on_result)
        self.client.failed.connect(self._on_failed)
        self.client.models_loaded.connect(self._on_models_loaded)
        self.client.models_failed.connect(self._on_models_failed)
        self.evaluation.run_button.clicked.connect(self.evaluate_dataset)
        self.evaluation.image_scored.connect(lambda stem, sc, cl: self.browser.model.update_row(
            stem, scores=sc, classes=cl))
        self.evaluation.image_failed.connect(lambda stem, msg: self.browser.model.update_row(stem, error=msg))
        self.evaluation.evaluation_finished.connect(self._on_evaluation_finished)
        self.evaluation.open_image.connect(self._open_from_evaluation)
        self.gt_labels_changed.connect(self.grid.gt_changed)
        for panel in self.panels.values():
            panel.graphics_view.scene().sigMouseMoved.connect(lambda pos, p=panel: self._mouse_moved(p, pos))

    # ------------------------------------------------------------------ opening things
    def _ask_dataset(self) -> None:
        path = file_actions.ask_dataset(self)
        if path:
            self.open_dataset(path)

    def _ask_models(self) -> None:
        paths = file_actions.ask_models(self)
        if paths:
            self.open_models(paths)

    def _open_from_evaluation(self, stem: str) -> None:
        if not self.browser.select_stem(stem):  # filtered out of the table: open it directly
            self.show_stem(stem)

    def open_dataset(self, path: str | Path) -> None:
        """Scan a dataset folder in the background, then show its first image."""
        if not self._may_leave_image():
            return
        path = Path(path)
        self.status_bar.showMessage(f"Opening dataset {path} …")
        task = dataset_loading.open_dataset_task(path)
        task.signals.done.connect(lambda ds: self._on_dataset(ds, path))
        task.signals.failed.connect(lambda msg: self.report_error(f"Cannot open dataset {path}: {msg}"))
        self._keep(task).start()

    def open_models(self, paths: list[str | Path]) -> None:
        """Load checkpoint(s) on the inference thread: one multi-stride file or one file per stride."""
        paths = [str(p) for p in paths]
        self._waiting_models = True
        self.status_bar.showMessage("Loading model " + ", ".join(Path(p).name for p in paths) + " …")
        self._requested_models = paths
        self.client.load_models(paths, self.device, self.precision)

    def _on_dataset(self, dataset, path: Path) -> None:
        self.dataset = dataset
        settings.add_recent("datasets", [str(path)])
        self.cache.clear()
        self.client.set_dataset(dataset)
        self._apply_classes()
        corrected = {s.stem for s in dataset.samples if getattr(s, "corrected", False)}
        split = split_filter.initial_split(dataset.splits, self.split_choice)
        self.browser.set_dataset(dataset.stems, self.class_names, corrected, dataset.splits, split)
        self.evaluation.show_split(split, len(split_filter.labelled_stems(dataset, split)), dataset)
        self.status_bar.showMessage(f"Opened {path}: {len(dataset.stems)} images ({dataset.kind})", 5000)
        scan = dataset_loading.class_scan_task(dataset)
        scan.signals.progress.connect(lambda chunk: [self.browser.model.update_row(s, classes=c)
                                                     for s, c in chunk] if self.dataset is dataset else None)
        self._keep(scan).start()
        self.dataset_opened.emit(dataset)
        if dataset.stems:
            shown = self.browser.stems_in_order() or dataset.stems
            first = self.initial_stem if self.initial_stem in dataset.stems else shown[0]
            self.initial_stem = None
            if not self.browser.select_stem(first):
                self.show_stem(first)

    def _on_models_loaded(self, models) -> None:
        self._waiting_models = False
        self.model_set = models
        self.loaded_models = [p.loaded for p in models.predictors]
        settings.add_recent("models", [str(p) for p in models.paths])
        self.cache.clear()
        self.controls.strides.set_available(models.strides)
        self._apply_classes()
        self.device_label.setText(f"{models.device} · {models.precision}")
        self.status_bar.showMessage(f"Model: {models.describe()}", 5000)
        self.set_stride(self.current_stride if self.current_stride in models.strides else min(models.strides))
        self.models_opened.emit(models)
        stem = self.current_stem or self._requested_stem
        if stem is not None:
            self._request(stem)

    def _on_models_failed(self, message: str) -> None:
        self._waiting_models = False
        self.report_error(f"Cannot load model: {message}")

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
        if not self._may_leave_image():
            if self.current_stem is not None:
                self.browser.select_stem(self.current_stem, emit=False)
            return
        self._request(stem)

    def _request(self, stem: str) -> int:
        ms = self.model_set
        need = ms is not None and self.cache.get_all(stem, ms.model_id, ms.strides) is None
        self._requested_stem = stem
        self.status_bar.showMessage(f"Loading {stem} …")
        self.evaluation.worker.hold()  # a background evaluation waits until this image is on screen
        return self.client.request(stem, need_predictions=need, prefetch=self.browser.neighbours(stem, 2))

    def _on_result(self, r: ImageResult) -> None:
        ms = self.model_set
        if r.results and ms is not None and r.model_id == ms.model_id:
            self.cache.put_all(r.stem, r.model_id, r.results)
        if self.classes_differ:  # indices mean different classes: only the confidence is meaningful
            r.scores = {s: {"mean_conf": v["mean_conf"]} for s, v in r.scores.items() if "mean_conf" in v}
        if r.scores:
            self.browser.model.update_row(r.stem, scores=r.scores, classes=r.classes_present)
        if r.req_id != self.client.latest_id:
            return  # the user has moved on; the answer only fed the cache
        self.evaluation.worker.release()
        shape_changed = self.current_image is None or self.current_image.shape != r.image.shape
        self.current_stem, self.current_image, self.current_gt = r.stem, r.image, r.gt
        row = self.browser.model.row_of(r.stem)
        self.current_scores = dict(self.browser.model.rows[row].scores) if row is not None else dict(r.scores)
        self.grid.set_image(r.image, r.gt, reset_view=shape_changed)
        self.browser.select_stem(r.stem, emit=False)
        self.setWindowTitle(f"FCN Studio — {r.stem}")
        self.current_image_changed.emit(r.stem)
        results = None
        if ms is not None:
            results = self.cache.get_all(r.stem, ms.model_id, ms.strides)
        self.current_results = results
        self._show_stride()
        msg = f"{r.stem}: {r.image.shape[1]}×{r.image.shape[0]}"
        if r.results:
            msg += f", predicted in {1000 * r.seconds:.0f} ms"
        self.status_bar.showMessage(msg, 4000)
        if results is not None:
            if r.results:
                self._last_prediction_s = r.seconds
                self.auto_evaluation.on_prediction(r.seconds)
            self.predictions_changed.emit()
        elif ms is not None and r.model_id != ms.model_id:
            self._request(r.stem)  # answered before the model arrived: ask again with predictions
        if not self._first_view_sent and (results is not None or (ms is None and not self._waiting_models)):
            self._first_view_sent = True
            QTimer.singleShot(0, self.first_view_ready.emit)

    def _on_failed(self, req_id: int, stem: str, message: str) -> None:
        if req_id == self.client.latest_id:
            self._requested_stem = None  # selecting it again retries
            self.evaluation.worker.release()
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
        if self.model_set is not None and self.current_stem is not None:
            res = self.cache.get(self.current_stem, self.model_set.model_id, self.current_stride)
        if res is None:  # evicted (tiny cache) or not a model result: what the image arrived with
            res = (self.current_results or {}).get(self.current_stride)
        self.grid.set_prediction(res)
        title = "Prediction (no model)" if self.model_set is None else "Prediction"
        if res is not None:
            title = f"Prediction FCN-{self.current_stride}s"
        self.panels["pred"].set_subtitle(title)
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
        self.current_gt = labels
        self.grid.set_gt(labels)

    def rescore_current(self) -> None:
        """Recompute the current image's scores after an edit and refresh its browser row."""
        if self.current_stem is None or not self.current_results or self.current_gt is None \
                or self.classes_differ:
            return
        from app.workers import score_image

        n = self.model_set.num_classes if self.model_set else len(self.class_names)
        self.current_scores = score_image(self.current_gt, self.current_results, n)
        self.browser.model.update_row(self.current_stem, scores=self.current_scores)
        self._show_stride()

    def mark_corrected(self, stem: str, corrected: bool) -> None:
        """Set the browser's "corrected" column for ``stem`` (and forget the worker's stale copy)."""
        self.browser.model.update_row(stem, corrected=corrected)
        self.client.forget(stem)

    def _on_split_changed(self, split: str) -> None:
        """The user picked another split: remember it, re-label the evaluation, keep the image when in it."""
        self.split_choice = split
        self.evaluation.show_split(split, len(split_filter.labelled_stems(self.dataset, split)), self.dataset)
        self._show_stride()
        shown = self.browser.stems_in_order()
        if self.current_stem in shown:
            self.browser.select_stem(self.current_stem, emit=False)
        elif shown:
            self.browser.select_stem(shown[0])

    def _may_leave_image(self) -> bool:
        return all(hook() for hook in list(self.before_image_change))

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

    def _keep(self, task: BackgroundTask) -> BackgroundTask:
        self._tasks.append(task)
        task.signals.done.connect(lambda _o, t=task: self._tasks.remove(t) if t in self._tasks else None)
        task.signals.failed.connect(lambda _m, t=task: self._tasks.remove(t) if t in self._tasks else None)
        return task

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._side_docks_sized:  # once, at the size the window opens with; later the user's sizes
            self._side_docks_sized = True
            window_layout.size_side_docks(self)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        file_actions.open_dropped(self, [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self._may_leave_image():
            event.ignore()
            return
        for task in self._tasks:
            task.cancel()
        self.evaluation.shutdown()
        self.client.shutdown()
        super().closeEvent(event)
