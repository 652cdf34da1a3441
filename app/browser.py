"""Failure-case browser: every image with its scores, sortable (worst first), filterable by dataset split
and by class present."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.split_filter import ALL, SplitCombo

COLUMNS = ("Image", "IU %", "Acc %", "Err %", "Conf", "Fixed")
COLUMN_TIPS = ("Image stem", "Mean IU of the image at the shown stride", "Pixel accuracy",
               "Fraction of non-void pixels predicted wrong", "Mean top softmax probability",
               "The label was corrected (a corrected label replaces the original)")
SCORE_KEYS = (None, "mean_iu", "pixel_acc", "error_frac", "mean_conf", None)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class ImageRow:
    """What the browser knows about one image."""

    stem: str
    scores: dict[int, dict] = field(default_factory=dict)  # {stride: {mean_iu, pixel_acc, ...}}
    classes: frozenset[int] | None = None  # classes present in the ground truth, None = not scanned yet
    corrected: bool = False
    error: str = ""


class ImageTableModel(QAbstractTableModel):
    """Rows = images of the dataset; score columns show the currently selected stride.

    The row of the image on screen is *held*: it shows its new scores at once (an edit re-scores it on every
    stroke) but sorts by the scores it had when it became current, so a sorted table does not move the row
    being edited under the user's eyes. Scores it did not have yet (first prediction) sort at once; the
    rest takes effect when another image becomes current (:meth:`hold`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[ImageRow] = []
        self._index: dict[str, int] = {}
        self.stride = 8
        self.held: str | None = None
        self._held_scores: dict[int, dict] = {}
        self._held_corrected = False

    def hold(self, stem: str | None) -> None:
        """Freeze the sort keys of ``stem`` (the image on screen); the row held before sorts by what it
        shows now."""
        if stem == self.held:
            return
        old, self.held = self.held, None
        if stem is not None and stem in self._index:
            row = self.rows[self._index[stem]]
            self.held = stem
            self._held_scores = {s: dict(v) for s, v in row.scores.items()}
            self._held_corrected = row.corrected
        if old is not None and old in self._index:  # re-sorts the released row where it now belongs
            i = self._index[old]
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1), [SORT_ROLE])

    def set_stems(self, stems: list[str], corrected: set[str] | None = None) -> None:
        """A new dataset."""
        self.beginResetModel()
        corrected = corrected or set()
        self.rows = [ImageRow(s, corrected=s in corrected) for s in stems]
        self._index = {s: i for i, s in enumerate(stems)}
        self.held = None
        self.endResetModel()

    def set_stride(self, stride: int) -> None:
        """Show another stride's scores."""
        self.stride = stride
        if self.rows:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.rows) - 1, 4))

    def row_of(self, stem: str) -> int | None:
        return self._index.get(stem)

    def update_row(self, stem: str, *, scores: dict[int, dict] | None = None, classes=None,
                   corrected: bool | None = None, error: str | None = None) -> None:
        """Change what is known about one image and refresh its row."""
        i = self._index.get(stem)
        if i is None:
            return
        row = self.rows[i]
        if scores is not None:
            row.scores.update(scores)
            if stem == self.held:  # only scores the held row did not have yet move it
                for stride, values in scores.items():
                    held = self._held_scores.setdefault(stride, {})
                    for key, v in values.items():
                        held.setdefault(key, v)
        if classes is not None:
            row.classes = frozenset(int(c) for c in classes)
        if corrected is not None:
            row.corrected = corrected
        if error is not None:
            row.error = error
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def value(self, row: ImageRow, col: int, *, for_sort: bool = False):
        """Raw value of one cell (float, bool, str or None when unknown); ``for_sort``: the held row's
        frozen value."""
        held = for_sort and row.stem == self.held
        if col == 0:
            return row.stem
        if col == 5:
            return self._held_corrected if held else row.corrected
        scores = self._held_scores if held else row.scores
        v = scores.get(self.stride, {}).get(SCORE_KEYS[col])
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        v = self.value(row, col)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.stem + ("  ⚠" if row.error else "")
            if col == 5:
                return "yes" if v else ""
            if v is None:
                return ""
            return f"{100 * v:.1f}" if col in (1, 2, 3) else f"{v:.2f}"
        if role == SORT_ROLE:
            return self.value(row, col, for_sort=True)
        if role == Qt.ItemDataRole.ToolTipRole and row.error:
            return row.error
        if role == Qt.ItemDataRole.ForegroundRole and row.error:
            return QColor(220, 80, 80)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ImageFilterProxy(QSortFilterProxyModel):
    """Sorts numerically with unknown values always last; filters by split (a set of stems) and by a class
    present in the ground truth."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.class_filter: int | None = None
        self.split_stems: frozenset[str] | None = None  # None = every image
        self.setSortRole(SORT_ROLE)

    def _change_filter(self, **values) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter() is deprecated there
            self.beginFilterChange()
            for name, value in values.items():
                setattr(self, name, value)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            for name, value in values.items():
                setattr(self, name, value)
            self.invalidateFilter()

    def set_class_filter(self, class_index: int | None) -> None:
        self._change_filter(class_filter=class_index)

    def set_split_stems(self, stems) -> None:
        """Show only these stems (None: all)."""
        self._change_filter(split_stems=None if stems is None else frozenset(stems))

    def filterAcceptsRow(self, source_row, source_parent) -> bool:
        row = self.sourceModel().rows[source_row]
        if self.split_stems is not None and row.stem not in self.split_stems:
            return False
        if self.class_filter is None:
            return True
        classes = row.classes
        return classes is not None and self.class_filter in classes

    def lessThan(self, left, right) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:  # unknown sorts last in either direction
            if a is None and b is None:
                return False
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return (a is None) == descending
        return a < b


class ImageBrowser(QWidget):
    """Table of images; emits ``stem_activated(str)`` when the current row changes and ``split_changed(str)``
    when the user picks another split (``app.split_filter.ALL`` = every image)."""

    stem_activated = Signal(str)
    split_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ImageTableModel(self)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Show only images whose ground truth contains this class")
        self.split_combo = SplitCombo()
        self.split_label = QLabel("Split:")
        self.splits: dict[str, list[str]] = {}
        self.count_label = QLabel("")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        # a narrow browser keeps the end of each name, which tells images apart ("demo_…0004", "0016…07959")
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(36)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(c, 46)
        top = QHBoxLayout()
        top.addWidget(self.split_label)
        top.addWidget(self.split_combo, 1)
        top.addWidget(QLabel("Class:"))
        top.addWidget(self.class_combo, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.class_combo.currentIndexChanged.connect(self._class_chosen)
        self.split_combo.split_chosen.connect(self._split_chosen)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        # a re-sort (a score arrived, an evaluation finished) keeps the current row where the user sees it
        self._anchor: int | None = None
        self.proxy.layoutAboutToBeChanged.connect(self._remember_anchor)
        self.proxy.layoutChanged.connect(self._restore_anchor)

    def set_dataset(self, stems: list[str], class_names: list[str], corrected: set[str] | None = None,
                    splits: dict[str, list[str]] | None = None, split: str = ALL) -> None:
        """Fill the table for a dataset (scores unknown until images are viewed or evaluated), showing the
        images of ``split`` (a key of ``splits``, or ALL)."""
        self.model.set_stems(stems, corrected)
        known = set(stems)
        self.splits = {name: [s for s in members if s in known] for name, members in (splits or {}).items()}
        self.split_combo.set_splits(self.splits, len(stems), split)
        for w in (self.split_combo, self.split_label):
            w.setVisible(bool(self.splits))
        self._apply_split()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("all classes", -1)
        for i, name in enumerate(class_names):
            self.class_combo.addItem(f"{i} {name}", i)
        self.class_combo.blockSignals(False)
        self.proxy.set_class_filter(None)
        self._update_count()

    def split_name(self) -> str:
        """The split shown (ALL when every image is)."""
        return self.split_combo.current_split()

    def set_split(self, split: str) -> bool:
        """Show ``split`` (False when the dataset has no such split); emits ``split_changed``."""
        i = self.split_combo.findData(split)
        if i < 0:
            return False
        if i != self.split_combo.currentIndex():
            self.split_combo.setCurrentIndex(i)  # -> _split_chosen
        return True

    def stems_in_order(self) -> list[str]:
        """Stems as the table shows them (sorted and filtered)."""
        return [self.proxy.index(r, 0).data(SORT_ROLE) for r in range(self.proxy.rowCount())]

    def current_stem(self) -> str | None:
        idx = self.table.currentIndex()
        return idx.siblingAtColumn(0).data(SORT_ROLE) if idx.isValid() else None

    def select_stem(self, stem: str, *, emit: bool = True) -> bool:
        """Make ``stem`` the current row (False when it is filtered out or unknown)."""
        src = self.model.row_of(stem)
        if src is None:
            return False
        idx = self.proxy.mapFromSource(self.model.index(src, 0))
        if not idx.isValid():
            self.model.hold(stem)  # on screen though filtered out: the row held before sorts freely again
            return False
        if not emit:
            self.table.selectionModel().blockSignals(True)
        self.table.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().blockSignals(False)
        self.model.hold(stem)  # may re-sort the row left: scroll to where the current row is now
        self.scroll_to_current()
        return True

    def scroll_to_current(self) -> None:
        """Scroll the table so the current row is visible (no scrolling when it already is)."""
        idx = self.table.currentIndex()
        if idx.isValid():
            self.table.scrollTo(idx, QAbstractItemView.ScrollHint.EnsureVisible)

    def step(self, delta: int) -> str | None:
        """Move the current row by ``delta`` in the table's order; returns the new stem."""
        n = self.proxy.rowCount()
        if n == 0:
            return None
        idx = self.table.currentIndex()
        row = 0 if not idx.isValid() else min(max(idx.row() + delta, 0), n - 1)
        self.select_stem(self.proxy.index(row, 0).data(SORT_ROLE))
        return self.current_stem()

    def neighbours(self, stem: str, count: int = 2) -> list[str]:
        """The next ``count`` stems after ``stem`` in the table's order (for prefetching)."""
        src = self.model.row_of(stem)
        if src is None:
            return []
        idx = self.proxy.mapFromSource(self.model.index(src, 0))
        if not idx.isValid():  # filtered out (opened from the evaluation's list): nothing follows it here
            return []
        row = idx.row()
        return [self.proxy.index(r, 0).data(SORT_ROLE) for r in range(row + 1, min(row + 1 + count,
                                                                                  self.proxy.rowCount()))]

    def sort_worst_first(self) -> None:
        """Sort by mean IU ascending (images without scores last); the current row stays in view."""
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.scroll_to_current()

    def _class_chosen(self, _i: int) -> None:
        data = self.class_combo.currentData()
        self.proxy.set_class_filter(None if data is None or data < 0 else int(data))
        self._update_count()
        self.scroll_to_current()

    def _apply_split(self) -> None:
        split = self.split_name()
        self.proxy.set_split_stems(None if split == ALL else self.splits.get(split, []))
        self._update_count()

    def _split_chosen(self, split: str) -> None:
        self._apply_split()
        self.split_changed.emit(split)

    def _row_changed(self, current, _previous) -> None:
        if current.isValid():
            stem = current.siblingAtColumn(0).data(SORT_ROLE)
            self.model.hold(stem)
            self.scroll_to_current()
            self.stem_activated.emit(stem)

    def _visible_offset(self) -> int | None:
        """Rows between the top of the viewport and the current row; None when the row is out of view."""
        idx = self.table.currentIndex()
        if not idx.isValid():
            return None
        rect = self.table.visualRect(idx)
        if not rect.isValid() or not self.table.viewport().rect().intersects(rect):
            return None
        return idx.row() - max(self.table.rowAt(0), 0)

    def _remember_anchor(self, *args) -> None:
        self._anchor = self._visible_offset()

    def _restore_anchor(self, *args) -> None:
        """After a re-sort: put the current row back at the same height in the viewport (it was in view);
        a user who had scrolled it out of view keeps the scroll position."""
        offset, self._anchor = self._anchor, None
        idx = self.table.currentIndex()
        if offset is None or not idx.isValid():
            return
        top = self.proxy.index(max(idx.row() - offset, 0), 0)
        self.table.scrollTo(top, QAbstractItemView.ScrollHint.PositionAtTop)
        self.scroll_to_current()  # near the end of the list the top row cannot be placed; keep it in view

    def _update_count(self, *args) -> None:
        split = self.split_name()
        in_split = self.model.rowCount() if split == ALL else len(self.splits.get(split, []))
        self.count_label.setText(f"{self.proxy.rowCount()} / {in_split}")
        where = "all images" if split == ALL else f"split {split} ({self.model.rowCount()} in the dataset)"
        self.count_label.setToolTip(f"{self.proxy.rowCount()} shown of {in_split} images in {where}")

