"""The browser's table: one row per image with its scores (``ImageTableModel``) and the sorting / split /
class filter over it (``ImageFilterProxy``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

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
        self.confidence_note = ""  # e.g. "no confidence stored": the Conf column says so instead of numbers

    def set_confidence_note(self, note: str) -> None:
        """Say ``note`` in the Conf column instead of numbers ("" = show the mean confidence)."""
        self.confidence_note = note
        if self.rows:
            self.dataChanged.emit(self.index(0, 4), self.index(len(self.rows) - 1, 4))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 4, 4)

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

    def resort(self, stem: str) -> None:
        """``stem``'s labels were saved (or it was re-scored): it sorts by its new scores now, even while held
        (edits stay put as they are made; a save is a deliberate change and moves the row)."""
        i = self._index.get(stem)
        if i is None:
            return
        if stem == self.held:
            row = self.rows[i]
            self._held_scores = {s: dict(v) for s, v in row.scores.items()}
            self._held_corrected = row.corrected
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1), [SORT_ROLE])

    def clear_scores(self) -> None:
        """Another model (or dataset): every score shown so far belonged to the old one."""
        for row in self.rows:
            row.scores = {}
            row.error = ""
        self._held_scores = {}
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

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
            if section == 4 and self.confidence_note:
                return f"{COLUMN_TIPS[section]}: {self.confidence_note}"
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
        if col == 4 and self.confidence_note:
            return None
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
            if col == 4 and self.confidence_note:
                return "n/a"
            if v is None:
                return ""
            return f"{100 * v:.1f}" if col in (1, 2, 3) else f"{v:.2f}"
        if role == SORT_ROLE:
            return self.value(row, col, for_sort=True)
        if role == Qt.ItemDataRole.ToolTipRole and row.error:
            return row.error
        if role == Qt.ItemDataRole.ToolTipRole and col == 4 and self.confidence_note:
            return self.confidence_note
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
