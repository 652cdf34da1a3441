"""Whole-dataset evaluation in the background: progress, cancel, the paper's four metrics per stride,
an interactive confusion matrix (click a cell to list the images with that confusion), per-class IU bars."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.evaluation_run import EvaluationResult, EvaluationRun
from app.split_filter import ALL, describe
from app.views.metric_plots import ConfusionView, IUBarChart

METRIC_KEYS = ("pixel_acc", "mean_acc", "mean_iu", "fw_iu")
METRIC_NAMES = ("pixel acc.", "mean acc.", "mean IU", "f.w. IU")
METRIC_TIPS = ("pixel accuracy: correct pixels / all labelled pixels",
               "mean accuracy: per-class pixel accuracy, averaged over the classes",
               "mean IU: intersection over union per class, averaged over the classes",
               "frequency-weighted IU: per-class IU weighted by each class's share of the pixels")


class EvaluationPanel(QWidget):
    """Evaluate button, progress and cancel, metrics table, confusion heatmap, IU chart, image list."""

    image_scored = Signal(str, object, object)
    image_failed = Signal(str, str)
    open_image = Signal(str)
    evaluation_finished = Signal(object)

    def __init__(self, run: EvaluationRun, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: EvaluationResult | None = None
        self.shown_split, self.shown_count = ALL, 0  # the split the browser shows (what "Evaluate" scores)
        self._run_split, self._run_count = ALL, 0
        self.shown_dataset = self._run_dataset = self._result_dataset = None  # (compared by identity)
        self.palette = np.zeros((256, 3), np.uint8)
        self.worker = run  # the inference worker runs the model; this sends it the images
        self.worker.progress.connect(self._progress)
        self.worker.image_scored.connect(self.image_scored)
        self.worker.image_failed.connect(self.image_failed)
        self.worker.finished.connect(self._finished)
        self.selected_cell: tuple[int, int] | None = None  # the confusion whose images are listed
        self.run_actions: list[QAction] = []  # menu/tool-bar actions named like the run button
        self.run_button_tip = ""

        self.run_button = QPushButton("Evaluate all images")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m images")
        self.summary = QLabel("Not evaluated yet.")
        self.summary.setWordWrap(True)
        self.stride_group = QButtonGroup(self)
        stride_box = QHBoxLayout()
        stride_box.addWidget(QLabel("Plots for:"))
        for s in (32, 16, 8):
            b = QToolButton()
            b.setText(f"{s}s")
            b.setCheckable(True)
            self.stride_group.addButton(b, s)
            stride_box.addWidget(b)
        self.stride_group.button(8).setChecked(True)
        stride_box.addStretch(1)
        self.table = QTableWidget(0, len(METRIC_NAMES))
        self.table.setHorizontalHeaderLabels(list(METRIC_NAMES))
        for c, tip in enumerate(METRIC_TIPS):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        # the four metrics share the width (no scrolling to find f.w. IU); they scroll only below their names
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(48)
        self.table.verticalHeader().setDefaultSectionSize(24)
        # exactly the header + three stride rows: no scrolling, no empty band (the image list gets the rest)
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + 3 * 24
                                  + 2 * self.table.frameWidth())
        self.confusion = ConfusionView()
        self.iu_chart = IUBarChart()
        self.cell_label = QLabel("Click a confusion cell to list its images.")
        self.cell_list = QListWidget()

        top = QHBoxLayout()
        for w in (self.run_button, self.cancel_button, self.progress_bar):
            top.addWidget(w)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.summary)
        left.addLayout(stride_box)
        left.addWidget(self.table)
        left.addWidget(self.cell_label)
        left.addWidget(self.cell_list, 1)
        left_w = QWidget()
        left_w.setLayout(left)
        split = QSplitter()
        split.addWidget(left_w)
        split.addWidget(self.confusion)
        split.addWidget(self.iu_chart)
        split.setSizes([380, 380, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split)

        self.cancel_button.clicked.connect(self.cancel)
        self.stride_group.idClicked.connect(lambda _s: self._show_plots())
        self.confusion.cell_clicked.connect(self._cell_clicked)
        self.cell_list.itemActivated.connect(lambda it: self.open_image.emit(it.data(256)))
        self.cell_list.itemClicked.connect(lambda it: self.open_image.emit(it.data(256)))

    def start(self, dataset, models, stems: list[str], palette: np.ndarray, split: str = ALL) -> bool:
        """Begin evaluating ``stems`` (the labelled images of ``split``) in the background (False when one is
        already running)."""
        if self.running:
            return False
        self._run_split, self._run_count, self._run_dataset = split, len(stems), dataset
        self._set_title(f"Evaluating {describe(split, len(stems))}")
        self.palette = np.asarray(palette, np.uint8)
        self.progress_bar.setRange(0, len(stems))
        self.progress_bar.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setText(f"Evaluating {describe(split, len(stems))}…")
        self.worker.start(list(stems))
        if self.result is None:
            self._progress(0, len(stems))
        return True

    @property
    def running(self) -> bool:
        return self.worker.running

    def totals_changed(self) -> None:
        """A saved label changed the dataset's totals: the metrics, heatmap and IU bars follow at once."""
        if self.result is not None and not self.running and self.result.book is self.worker.workspace.book:
            self._fill_table()
            self._show_plots()

    def cancel(self) -> None:
        """Stop the running evaluation (partial results are still shown)."""
        self.worker.cancel()

    def shutdown(self) -> None:
        """Cancel the running evaluation (window closing; the inference worker's thread is joined there)."""
        self.worker.cancel()

    def _progress(self, done: int, total: int) -> None:
        self.progress_bar.setMaximum(total)
        self.progress_bar.setValue(done)
        if self.result is None and self.running:  # the plots say what runs instead of showing empty axes
            scope = self._run_split if self._run_split != ALL else "all images"
            status = f"Evaluating {scope}: {done} / {total} images."
            self.confusion.show_message(f"{status}\nThe confusion matrix appears when it finishes.")
            self.iu_chart.show_message(f"{status}\nPer-class IU appears when it finishes.")

    def follow_split_name(self, action: QAction) -> None:
        """Keep ``action``'s text and tip naming the split it evaluates, like the run button."""
        self.run_actions.append(action)
        action.changed.connect(lambda: self._keep_tip(action))
        self._name_run(self.shown_split, self.shown_count)

    def _keep_tip(self, action: QAction) -> None:
        """While enabled, the action's tip is the split's; a disabled one keeps the reason another part of
        the window gave (app.editing.score_gate restores the tip it saw at start-up when re-enabling)."""
        if action.isEnabled() and action.toolTip() != self.run_button_tip:
            action.setToolTip(self.run_button_tip)

    def _name_run(self, split: str, labelled: int) -> None:
        scope = "all images" if split == ALL else split
        tip = (f"Score all {labelled} labelled images at every stride" if split == ALL else
               f"Score the {labelled} labelled images of {split} at every stride")
        self.run_button_tip = tip
        self.run_button.setText(f"Evaluate {scope}")
        self.run_button.setToolTip(tip)
        for action in self.run_actions:
            action.setText(f"&Evaluate {scope}")
            action.setToolTip(tip)
            action.setStatusTip(tip)

    def clear_result(self, why: str) -> None:
        """Forget the result (e.g. a probe's few images): empty table, plots say ``why``."""
        self.result = None
        self.table.setRowCount(0)
        self.select_cell(None)
        self.confusion.show_message(why)
        self.iu_chart.show_message(why)

    def show_split(self, split: str, labelled: int, dataset=None) -> None:
        """The browser now shows ``split`` of ``dataset`` with ``labelled`` labelled images: say whether the
        numbers shown are for it, else that they are for another split (and offer to evaluate this one)."""
        self.shown_split, self.shown_count, self.shown_dataset = split, labelled, dataset
        self._name_run(split, labelled)
        if self.result is not None and not self.running:
            self._describe_result()
        elif not self.running:
            self._set_title(describe(split, labelled))

    def result_is_for_shown_split(self) -> bool:
        """A finished evaluation whose numbers belong to the split the browser shows."""
        return (self.result is not None and self.result.split == self.shown_split
                and self._result_dataset is self.shown_dataset)

    def _set_title(self, text: str) -> None:
        dock = self.parentWidget()
        if dock is not None and hasattr(dock, "setWidget"):  # the QDockWidget holding the panel
            dock.setWindowTitle(f"Evaluation — {text}")

    def _describe_result(self) -> None:
        result = self.result
        scope = describe(result.split, result.split_size)
        state = "cancelled after" if result.cancelled else "done:"
        fails = f", {len(result.failed)} failed" if result.failed else ""
        text = (f"Evaluation of {scope} {state} {result.images} images in {result.seconds:.1f} s{fails}.")
        self.summary.setToolTip(text)
        if self.result_is_for_shown_split():
            self._set_title(scope)
            self.summary.setStyleSheet("")
        else:  # one line: the panel has no room for more above the metrics table
            shown = describe(self.shown_split, self.shown_count)
            text = (f"These numbers are for {scope}, not for {shown}." if self._result_dataset is
                    self.shown_dataset else f"These numbers are for {scope} of the dataset opened before.")
            self.summary.setToolTip(f"{self.summary.toolTip()}\nThe browser shows {shown}: "
                                    f"\"{self.run_button.text()}\" scores it.")
            self._set_title(f"results for {scope} (browser shows {self.shown_split})")
            self.summary.setStyleSheet("color: #d08a30;")
        self.summary.setText(text)

    def _finished(self, result: EvaluationResult) -> None:
        result.split, result.split_size = self._run_split, self._run_count
        self._result_dataset = self._run_dataset
        self.result = result
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._describe_result()
        self.select_cell(None)
        self._fill_table()
        for s in (32, 16, 8):
            self.stride_group.button(s).setEnabled(s in result.strides)
        if self.stride_group.checkedId() not in result.strides and result.strides:
            self.stride_group.button(result.strides[-1]).setChecked(True)
        self._show_plots()
        self.evaluation_finished.emit(result)

    def _fill_table(self) -> None:
        result = self.result
        self.table.setRowCount(len(result.strides))
        self.table.setVerticalHeaderLabels([f"FCN-{s}s" for s in result.strides])
        scores = result.scores
        for r, s in enumerate(result.strides):
            for c, key in enumerate(METRIC_KEYS):
                v = scores[s].get(key, float("nan"))
                self.table.setItem(r, c, QTableWidgetItem(f"{100 * v:.1f}"))

    def plot_stride(self) -> int:
        return self.stride_group.checkedId()

    def per_class_iu(self, stride: int | None = None) -> list[float]:
        """Per-class IU of the last evaluation at ``stride`` (NaN where undefined)."""
        if self.result is None:
            return []
        s = stride if stride in self.result.scores else self.result.strides[-1]
        per_class = self.result.scores[s].get("per_class", {})
        return [float(per_class.get(name, {}).get("iu", float("nan"))) for name in self.result.class_names]

    def _show_plots(self) -> None:
        if self.result is None or not self.result.strides:
            return
        s = self.plot_stride()
        if s not in self.result.matrices:
            return
        if self.result.images == 0:
            why = ("Cancelled before any image was scored." if self.result.cancelled
                   else "No image could be scored (see the failed rows in the browser).")
            self.confusion.show_message(why)
            self.iu_chart.show_message(why)
            return
        self.confusion.set_matrix(self.result.matrices[s], self.result.class_names)
        self.iu_chart.set_values(self.per_class_iu(s), self.result.class_names, self.palette)
        if self.selected_cell is not None:  # another stride: list that stride's images of the same cell
            self._cell_clicked(*self.selected_cell)

    def select_cell(self, cell: tuple[int, int] | None) -> None:
        """Outline ``cell`` (gt, pred) and list its images; None clears both."""
        if cell is None:
            self.selected_cell = None
            self.confusion.select_cell(None)
            self.cell_label.setText("Click a confusion cell to list its images.")
            self.cell_list.clear()
        else:
            self._cell_clicked(*cell)

    def _cell_clicked(self, gt: int, pred: int) -> None:
        if self.result is None:
            return
        self.selected_cell = (gt, pred)
        self.confusion.select_cell((gt, pred))
        s = self.plot_stride()
        names = self.result.class_names
        items = self.result.images_with(s, gt, pred)
        self.cell_label.setText(f"{len(items)} images with {names[gt]} predicted as {names[pred]} ({s}s):")
        self.cell_list.clear()
        for stem, count in items:
            self.cell_list.addItem(f"{stem}   {count} px")
            self.cell_list.item(self.cell_list.count() - 1).setData(256, stem)
