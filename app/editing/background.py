"""File → Export dataset… and Tools → Fine-tune on corrections…: both run fcn_core code as jobs of the
window's ``app.jobs.JobRunner`` with a progress dialog and a Cancel button; a finished fine-tune loads the
new checkpoint into the window. Closing the window while one runs asks first."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.editing.finetune_plan import FinetunePlan, format_duration, plan_finetune, seconds_per_iteration
from app.jobs import Job

#: ``fcn export --format`` choices as File → Export dataset… names them.
EXPORT_FORMATS = {
    "voc": "VOC (palette PNGs, ImageSets)",
    "index-png": "Index PNGs (mode L, void 255) + dataset.json",
    "cityscapes": "Cityscapes (leftImg8bit / gtFine labelTrainIds + colour)",
    "cvat-mask": "CVAT Segmentation mask 1.1 (labelmap.txt)",
}


class _FolderForm(QDialog):
    """A small form: output folder plus extra fields."""

    def __init__(self, title: str, out: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        self.out = QLineEdit(str(out))
        # wide enough for the whole path (up to 640 px); the tooltip always has all of it
        self.out.setMinimumWidth(min(max(self.out.fontMetrics().horizontalAdvance(str(out)) + 24, 320), 640))
        self.out.textChanged.connect(self.out.setToolTip)
        self.out.setToolTip(str(out))
        self.out.setCursorPosition(0)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out, 1)
        row.addWidget(browse)
        self.form.addRow("Output folder", row)
        buttons = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        self.buttons = QDialogButtonBox(buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", str(Path(self.out.text()).parent))
        if folder:
            self.out.setText(folder)

    def finish(self) -> None:
        self.form.addRow(self.buttons)


class BackgroundJobs(QObject):
    """Export and fine-tune for the editing controller; one job at a time."""

    def __init__(self, controller):
        super().__init__(controller)
        self.c = controller
        self.window = controller.window
        self.task: Job | None = None
        self.progress: QProgressDialog | None = None
        self.last_result = None
        self.last_error: str | None = None
        self.last_plan: FinetunePlan | None = None  # what the last fine-tune was told it would do
        self._announce_model: Path | None = None  # a fine-tuned checkpoint to name once the window loaded it
        self.window.models_opened.connect(self._models_opened)

    # -- dialogs -------------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        """Ask where to export, then :meth:`start_export`."""
        ds = self.window.dataset
        if ds is None:
            self.window.report_error("Open a dataset before exporting it.", modal_box=False)
            return
        root = Path(ds.root)
        form = _FolderForm("Export dataset", root.parent / f"{root.name}-corrected", self.window)
        split = QLineEdit()
        split.setPlaceholderText("keep the dataset's splits, or e.g. train=0.8,val=0.2")
        form.form.addRow("New split", split)
        seed = QSpinBox()
        seed.setRange(0, 2**31 - 1)
        form.form.addRow("Seed", seed)
        fmt = QComboBox()
        for key, text in EXPORT_FORMATS.items():
            fmt.addItem(text, key)
        fmt.setToolTip("Layout written (every label is read back and compared; see manifest.json)")
        form.form.addRow("Format", fmt)
        self.export_form = form  # (tests fill it in)
        form.finish()
        if form.exec() == QDialog.DialogCode.Accepted and form.out.text().strip():
            self.start_export(Path(form.out.text().strip()), split=split.text().strip() or None,
                              seed=seed.value(), format=fmt.currentData())

    def finetune_dialog(self) -> None:
        """Ask for an output folder and a budget, then :meth:`start_finetune`."""
        ds, ms = self.window.dataset, getattr(self.window, "model_set", None)
        if ds is None or ms is None or not ms.predictors:  # stored predictions have no weights to train
            self.window.report_error("Open a dataset and a model before fine-tuning.", modal_box=False)
            return
        form = _FolderForm("Fine-tune on corrections", Path(ds.root).parent / "finetuned", self.window)
        iters = QSpinBox()
        iters.setRange(1, 1_000_000)
        iters.setValue(500)
        form.form.addRow("Iterations", iters)
        minutes = QDoubleSpinBox()
        minutes.setRange(0.0, 10_000.0)
        minutes.setSpecialValueText("no limit")
        form.form.addRow("Time limit (minutes)", minutes)
        plan = QLabel()
        plan.setObjectName("finetune_plan")
        plan.setWordWrap(True)
        plan.setMinimumWidth(420)

        def describe() -> None:  # said before anything starts: what is used, what is left out, how long
            plan.setText(self.plan(iters.value(), minutes.value() or None).message())

        iters.valueChanged.connect(describe)
        minutes.valueChanged.connect(describe)
        describe()
        form.form.addRow(plan)
        form.finish()
        self._finetune_form = form  # tests reach it here
        if form.exec() == QDialog.DialogCode.Accepted and form.out.text().strip():
            self.start_finetune(Path(form.out.text().strip()), max_iters=iters.value(),
                                minutes=minutes.value() or None)

    # -- jobs ----------------------------------------------------------------------------------------------
    def start_export(self, out: Path, *, split: str | None = None, seed: int = 0,
                     force: bool = False, format: str = "voc") -> bool:
        """Save pending edits, then export the dataset with its corrections to ``out`` in the background."""
        if self.busy() or not self.c.saver.leave_image():
            return False
        from fcn_core.export import export_dataset

        ds, labels_dir = self.window.dataset, self.c.saver.corrections_dir()
        return self._start("export", "Exporting dataset", lambda progress, stop: export_dataset(
            ds, out, labels_dir=labels_dir, split=split, seed=seed, force=force, progress=progress,
            should_stop=stop, format=format), self._exported)

    def start_finetune(self, out: Path, *, max_iters: int | None = 500, minutes: float | None = None,
                       device: str | None = None) -> bool:
        """Train the loaded model further on the corrected labels; on success load the new checkpoint."""
        ms = getattr(self.window, "model_set", None)
        ds = self.window.dataset
        if self.busy() or ds is None or ms is None or not ms.predictors or not self.c.saver.leave_image():
            return False
        from fcn_core.train import train

        config = self._finetune_config(out, max_iters, minutes, device)
        self.last_plan = plan = self.plan(max_iters, minutes, config)
        self.window.status_bar.showMessage(f"Fine-tuning started. {plan.message()}".replace("\n", " "), 15000)
        return self._start("fine-tune", "Fine-tuning on corrections",
                           lambda progress, stop: train(config, progress, stop), self._trained)

    def _finetune_config(self, out: Path, max_iters: int | None, minutes: float | None,
                         device: str | None = None):
        from fcn_core.train import TrainConfig

        ms, ds = self.window.model_set, self.window.dataset
        loaded = ms.predictors[0].loaded
        options = dict(getattr(loaded, "options", {}) or {})
        splits = set(getattr(ds, "splits", {}) or {})
        train_split = "train" if "train" in splits else ("trainval" if "trainval" in splits else "train")
        return TrainConfig(
            data=Path(ds.root), out=Path(out), arch=ms.arch if len(ms.paths) == 1 else loaded.arch,
            init_from=Path(ms.paths[0]), labels_dir=self.c.saver.corrections_dir(), max_iters=max_iters,
            minutes=minutes, train_split=train_split, val_split="val" if "val" in splits else train_split,
            width=options.get("width"), batch_norm=options.get("batch_norm"),
            device=device or getattr(self.window, "device", None), show_progress=False,
            # No loader processes: forking a multi-threaded Qt process can deadlock the child.
            num_workers=0)

    def plan(self, max_iters: int | None, minutes: float | None, config=None) -> FinetunePlan:
        """What fine-tuning with this budget uses, leaves out and probably takes (see ``finetune_plan``)."""
        if config is None:
            config = self._finetune_config(Path("."), max_iters, minutes)
        c = config.resolved()
        image = getattr(self.window, "current_image", None)
        per_iter = seconds_per_iteration(getattr(self.window, "_last_prediction_s", None),
                                         None if image is None else image.shape[:2],
                                         batch_size=c.batch_size, crop=c.crop)
        val = c.val_split if c.val_split != c.train_split else None
        return plan_finetune(self.window.dataset, train_split=c.train_split, val_split=val,
                             iterations=c.max_iters, minutes=c.minutes, seconds_per_iter=per_iter)

    def busy(self) -> bool:
        return self.task is not None and self.task.isRunning()

    def cancel(self) -> None:
        """Stop the running job at its next check (export leaves the destination untouched)."""
        if self.task is not None:
            self.task.cancel()

    def _start(self, name: str, title: str, fn, on_success) -> bool:
        self.last_result, self.last_error = None, None
        task = Job(fn, name)
        dialog = QProgressDialog(title + " …", "Cancel", 0, 0, self.window)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(task.cancel)
        task.progressed.connect(lambda info: self._progress(dialog, title, info))
        task.succeeded.connect(on_success)
        task.failed.connect(lambda msg: self._failed(title, msg))
        task.finished.connect(dialog.reset)
        self.task, self.progress = task, dialog
        dialog.show()
        self.window.jobs.adopt(task)
        return True

    @staticmethod
    def _progress(dialog: QProgressDialog, title: str, info) -> None:
        if isinstance(info, tuple) and len(info) == 2:  # export: (done, total)
            done, total = info
            dialog.setMaximum(int(total))
            dialog.setValue(int(done))
            dialog.setLabelText(f"{title}: {done}/{total} images")
        elif isinstance(info, dict) and info.get("event") == "iteration":
            total = int(info.get("max_iters") or 0)
            dialog.setMaximum(total)
            dialog.setValue(min(int(info.get("iteration", 0)), total) if total else 0)
            loss = info.get("loss")
            done, elapsed = int(info.get("iteration") or 0), info.get("elapsed")
            left = (f", about {format_duration(elapsed / done * (total - done))} left"
                    if total and done and isinstance(elapsed, float) else "")  # measured, not estimated
            dialog.setLabelText(f"{title}: {info.get('stage', '')} iteration {info.get('iteration')}"
                                + (f"/{total}" if total else "")
                                + (f", loss {loss:.3f}" if isinstance(loss, float) else "") + left)

    def _failed(self, title: str, message: str) -> None:
        self.last_error = message
        self.window.report_error(f"{title} failed: {message.splitlines()[0] if message else 'unknown error'}")

    def _exported(self, manifest) -> None:
        self.last_result = manifest
        if isinstance(manifest, dict) and manifest.get("stopped"):
            self.window.status_bar.showMessage("Export cancelled; the destination was left as it was.", 8000)
        else:
            self.window.status_bar.showMessage("Export finished.", 8000)

    def _trained(self, best: Path) -> None:
        self.last_result = best
        if self.task is not None and self.task.cancelled:
            self.window.status_bar.showMessage(f"Fine-tuning stopped; last checkpoint {best}", 8000)
        self._announce_model = Path(best)
        self.window.open_models([str(best)])  # the window reloads predictions with the new weights

    def _models_opened(self, _models) -> None:
        """Name the fine-tuned model once the window has loaded it (which model is on screen now)."""
        best, self._announce_model = self._announce_model, None
        paths = [Path(p) for p in (getattr(self.window.model_set, "paths", None) or [])]
        if best is None or best not in paths:
            return
        text = f"Now using the fine-tuned model {best.parent.name}/{best.name} ({best})"
        self.window.status_bar.showMessage(text, 15000)

        def again() -> None:  # the image's new predictions replaced the message: say it once more
            self.window.predictions_changed.disconnect(again)
            self.window.status_bar.showMessage(text, 15000)

        self.window.predictions_changed.connect(again)
