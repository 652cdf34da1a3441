"""Opening datasets, models and stored predictions in the main window (File menu, drops, recent files) and
what follows once the background scan or the inference thread answers: the browser's rows, the classes,
the first image. A mixin of ``app.main_window.MainWindow``, whose attributes and signals it uses."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer

from app import dataset_loading, file_actions, settings, split_filter

#: Datasets with more images fill the browser after their first photo is on screen (100,000 rows take ~1 s).
BIG_DATASET = 20_000


class OpeningMixin:
    """``open_dataset`` / ``open_models`` / ``open_predictions`` and their answers."""

    def _ask_dataset(self) -> None:
        path = file_actions.ask_dataset(self)
        if not path:
            return
        chosen, data_format = file_actions.ask_format(self, path)
        if chosen:
            self.open_dataset(path, format=data_format)

    def _ask_predictions(self) -> None:
        folder = file_actions.ask_predictions(self)
        if folder:
            self.open_predictions(folder)

    def _ask_models(self) -> None:
        paths = file_actions.ask_models(self)
        if paths:
            self.open_models(paths)

    def _open_from_evaluation(self, stem: str) -> None:
        if not self.browser.select_stem(stem):  # filtered out of the table: open it directly
            self.show_stem(stem)

    def open_dataset(self, path: str | Path, *, format: str | None = None) -> None:
        """Scan a dataset folder in the background (as ``format``, a ``fcn_core.data.formats`` name; None:
        detected), then show its first image."""
        if not self._may_leave_image(then=lambda: self.open_dataset(path, format=format)):
            return
        path = Path(path)
        self.status_bar.showMessage(f"Opening dataset {path} …")
        for job in self.jobs.running("class scan"):
            job.cancel()  # the old dataset's scan is of no use any more
        self.jobs.start(dataset_loading.open_dataset_job(path, format), name="open dataset",
                        on_done=lambda ds: self._on_dataset(ds, path),
                        on_error=lambda msg: self._dataset_failed(f"Cannot open dataset {path}: {msg}"))

    def _dataset_failed(self, message: str) -> None:
        self.report_error(message)
        self.dataset_failed.emit(message)

    def open_models(self, paths: list[str | Path]) -> None:
        """Load checkpoint(s) on the inference thread: one multi-stride file or one file per stride."""
        paths = [str(p) for p in paths]
        self._waiting_models = True
        self.status_bar.showMessage("Loading model " + ", ".join(Path(p).name for p in paths) + " …")
        self._requested_models = paths
        self._predictions_folder = None
        self.client.load_models(paths, self.device, self.precision, self.memory_mb, self.backend)

    def open_predictions(self, folder: str | Path) -> None:
        """Use stored predictions (``app.prediction_set``: label images of any model, or ``fcn predict
        --stride all``'s 32s/16s/8s folders) instead of a model; read on the inference thread with the
        dataset's classes, so they wait for a dataset to be open."""
        self._predictions_folder = str(folder)
        self._waiting_models = True
        if self.dataset is None:
            self.status_bar.showMessage(f"Predictions {folder} open with the next dataset (they hold class "
                                        "indices; names and colours are the dataset's)")
            return
        self.status_bar.showMessage(f"Loading predictions {folder} …")
        self.client.load_predictions(self._predictions_folder)

    def _on_dataset(self, dataset, path: Path) -> None:
        settings.add_recent("datasets", [str(path)])
        self.client.set_dataset(dataset)
        if self._predictions_folder is not None:  # read (again) with this dataset's classes
            self._waiting_models = True
            self.client.load_predictions(self._predictions_folder)
        self._shown_req = -1
        self.workspace.open_dataset(dataset)
        self._apply_classes()
        corrected = {s.stem for s in dataset.samples if getattr(s, "corrected", False)}
        split = split_filter.initial_split(dataset.splits, self.split_choice)
        self.evaluation.show_split(split, len(split_filter.labelled_stems(dataset, split)), dataset)
        self.status_bar.showMessage(f"Opened {path}: {len(dataset.stems)} images ({dataset.kind})", 5000)
        if len(dataset.stems) > BIG_DATASET and dataset.stems:
            # photo first: a table of 100,000 rows takes seconds to build on this thread, so it is filled
            # once the first image is on screen
            self.browser.set_dataset([], self.class_names, set(), {}, split_filter.ALL)
            self._fill_browser_later = lambda: self._fill_browser(dataset, corrected, split)
            self.dataset_opened.emit(dataset)
            stems = split_filter.split_stems(dataset, split) or dataset.stems
            first = self.initial_stem if self.initial_stem in dataset.stems else stems[0]
            self.initial_stem = None
            self.show_stem(first)
            return
        self._fill_browser(dataset, corrected, split)
        self.dataset_opened.emit(dataset)
        if dataset.stems:
            first = self.initial_stem if self.initial_stem in dataset.stems else (
                self.browser.first_stem() or dataset.stems[0])
            self.initial_stem = None
            if not self.browser.select_stem(first):
                self.show_stem(first)

    def _fill_browser(self, dataset, corrected: set, split: str) -> None:
        """The browser's rows for ``dataset`` (and the background scan of the classes each label holds)."""
        if self.dataset is not dataset:
            return  # another dataset was opened meanwhile
        self.browser.set_dataset(dataset.stems, self.class_names, corrected, dataset.splits, split)
        if self.current_stem is not None:
            self.browser.select_stem(self.current_stem, emit=False)

        def classes_found(chunk) -> None:
            if self.dataset is dataset:
                for stem, classes in chunk:
                    self.browser.model.update_row(stem, classes=classes)

        self.jobs.start(dataset_loading.class_scan_job(dataset), name="class scan", on_progress=classes_found)

    def _on_models_loaded(self, models) -> None:
        self._waiting_models = False
        stored = not getattr(models, "predictors", True)  # app.prediction_set.PredictionSet: read from disk
        settings.add_recent("predictions" if stored else "models", [str(p) for p in models.paths])
        self.workspace.set_models(models)
        note = "" if getattr(models, "has_confidence", True) else "no confidence stored"
        self.browser.model.set_confidence_note(note)
        self.grid.set_confidence_note(note)
        self.readout.confidence_note = note
        self.controls.strides.set_available(models.strides)
        self._apply_classes()
        self.update_title()
        runtime = {getattr(p, "backend", "torch") for p in models.predictors}
        self.device_label.setText(" · ".join([models.device, models.precision, *sorted(runtime - {"torch"})]))
        notes = [p.backend_note for p in models.predictors if getattr(p, "backend_note", None)]
        if notes:  # e.g. ONNX Runtime not installed: running torch, and why
            self.status_bar.showMessage(f"Model loaded with torch: {notes[0]}", 10000)
        what = "Predictions" if stored else "Model"
        self.status_bar.showMessage(f"{what} loaded: {models.describe()}", 8000)
        self.set_stride(self.current_stride if self.current_stride in models.strides else min(models.strides))
        self.models_opened.emit(models)
        stem = self.current_stem or self._requested_stem
        if stem is not None:
            self._request(stem)

    def _on_models_failed(self, message: str) -> None:
        self._waiting_models = False
        if self._predictions_folder is not None:
            self._predictions_folder = None
            self.report_error(f"Cannot open predictions: {message}")
            return
        self.report_error(f"Cannot load model: {message}")
        if not self._first_view_sent and self.current_image is not None and self.model_set is None:
            self._first_view_sent = True  # the photo came first and no prediction will follow
            QTimer.singleShot(0, self.first_view_ready.emit)
