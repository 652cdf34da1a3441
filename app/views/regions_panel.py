"""The Regions dock: the error regions of the dataset (from the evaluation) and of the image on screen, as a
table sortable by any column (click a header; again reverses), filtered by class pair (the combo, or a click
on a confusion-matrix cell of the Evaluation dock), with next / previous / accept / reviewed buttons.
State lives in ``app.region_list.RegionList``; this widget only shows it and forwards clicks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.region_list import RegionEntry, RegionList
from fcn_core.regions import LABEL_SUSPECT

COLUMNS = (("Image", "image"), ("Area", "area"), ("Classes", "pair"), ("Conf.", "confidence"),
           ("Wrong", "verdict"), ("✓", "reviewed"))
HEADER_TIPS = ("The image (and the stride, in the row's tooltip)", "Pixels in the region",
               "Label → prediction: the labelled class and the predicted class",
               "Mean max-softmax of the prediction in the region",
               "Which is more likely wrong: the label (label-suspect) or the model (docs/REGIONS.md)",
               "Reviewed (M)")
MAX_ROWS = 2000  # a table of every region of a big dataset would be slow to fill; N walks them all
SUSPECT_BG = QColor(255, 236, 200)


class RegionsPanel(QWidget):
    """``region_activated(key)`` on a row click; ``pair_chosen(pair or None)``; button signals."""

    region_activated = Signal(str)
    pair_chosen = Signal(object)
    sort_chosen = Signal(str)
    hide_reviewed_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.class_names: list[str] = []
        self.summary = QLabel("Error regions appear with the prediction (this image) and the evaluation "
                              "(all images).")
        self.summary.setWordWrap(True)
        self.pair_combo = QComboBox()
        self.pair_combo.setToolTip("Show only the regions of one class pair (label → prediction); a click on "
                                   "a confusion-matrix cell of the Evaluation dock chooses it too")
        self.pair_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.pair_combo.setMinimumContentsLength(8)
        self.pair_combo.activated.connect(lambda i: self.pair_chosen.emit(self.pair_combo.itemData(i)))
        self.hide_reviewed = QCheckBox("Hide reviewed")
        self.hide_reviewed.toggled.connect(self.hide_reviewed_changed)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c for c, _k in COLUMNS])
        for c, tip in enumerate(HEADER_TIPS):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumWidth(80)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the class pair takes what is left
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.sectionClicked.connect(lambda c: self.sort_chosen.emit(COLUMNS[c][1]))
        self.table.cellClicked.connect(self._clicked)
        self.prev_button, self.next_button = QToolButton(), QToolButton()
        self.accept_button, self.reviewed_button = QToolButton(), QToolButton()
        for button, text in ((self.prev_button, "◀ Previous"), (self.next_button, "Next ▶"),
                             (self.accept_button, "Accept"), (self.reviewed_button, "Reviewed")):
            button.setText(text)
        for button, tip in ((self.prev_button, "Previous region (,)"), (self.next_button, "Next region (.)"),
                            (self.accept_button, "The labels in the region take the prediction (Y)"),
                            (self.reviewed_button, "Mark the region reviewed; again to unmark (M)")):
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        filters = QHBoxLayout()  # narrow enough for the right dock on a 900-px window
        filters.addWidget(QLabel("Pair:"))
        filters.addWidget(self.pair_combo, 1)
        buttons = QGridLayout()  # two rows: the dock stays narrow
        for i, b in enumerate((self.prev_button, self.next_button, self.accept_button, self.reviewed_button)):
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(b, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addLayout(filters)
        layout.addWidget(self.hide_reviewed)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._keys: list[str] = []

    def name(self, c: int) -> str:
        return self.class_names[c] if 0 <= c < len(self.class_names) else f"class {c}"

    def show_list(self, regions: RegionList, current: str | None, shown_stem: str | None) -> None:
        """Refill the table from ``regions`` (at most ``MAX_ROWS`` rows) and select ``current``."""
        entries = regions.entries()
        self._fill_pairs(regions)
        col = next(i for i, (_t, k) in enumerate(COLUMNS) if k == regions.sort_key)
        order = Qt.SortOrder.DescendingOrder if regions.descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(col, order)
        suspects = sum(e.region.verdict == LABEL_SUSPECT for e in entries)
        here = sum(e.stem == shown_stem for e in entries)
        self.summary.setText(f"{len(entries)} regions shown of {regions.total} ({suspects} label-suspect; "
                             f"{here} in this image; {len(regions.reviewed)} reviewed). Keys: . / , next / "
                             "previous, Y accept the prediction, M reviewed.")
        shown = entries[:MAX_ROWS]
        self.table.setUpdatesEnabled(False)
        self.table.clearContents()
        self.table.setRowCount(len(shown))
        self._keys = [e.key for e in shown]
        for row, e in enumerate(shown):
            for c, text in enumerate(self._cells(e, e.key in regions.reviewed)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{e.stem}, stride {e.region.stride}: {text}")
                if c in (1, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if e.region.verdict == LABEL_SUSPECT:
                    item.setBackground(QBrush(SUSPECT_BG))
                    item.setForeground(QBrush(QColor(0, 0, 0)))
                self.table.setItem(row, c, item)
        self.table.setUpdatesEnabled(True)
        self.select(current)

    def _cells(self, e: RegionEntry, reviewed: bool) -> list[str]:
        r = e.region
        conf = "–" if r.confidence is None else f"{r.confidence:.2f}"
        verdict = "label" if r.verdict == LABEL_SUSPECT else "model"
        return [e.stem, f"{r.area}", f"{self.name(r.true_class)} → {self.name(r.predicted_class)}", conf,
                verdict, "✓" if reviewed else ""]

    def _fill_pairs(self, regions: RegionList) -> None:
        combo = self.pair_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("all class pairs", None)
        pairs = regions.pairs()
        if regions.pair is not None and regions.pair not in pairs:
            pairs.insert(0, regions.pair)
        for t, p in pairs:
            combo.addItem(f"{self.name(t)} → {self.name(p)}", (t, p))
        combo.setCurrentIndex(0 if regions.pair is None else 1 + pairs.index(regions.pair))
        combo.blockSignals(False)

    def select(self, key: str | None) -> None:
        if key in self._keys:
            row = self._keys.index(key)
            self.table.blockSignals(True)
            self.table.selectRow(row)
            self.table.blockSignals(False)
            self.table.scrollToItem(self.table.item(row, 0))
        else:
            self.table.clearSelection()

    def _clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._keys):
            self.region_activated.emit(self._keys[row])
