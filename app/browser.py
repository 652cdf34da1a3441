"""Failure-case browser: every image with its scores, sortable (worst first), filterable by dataset split
and by class present."""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelectionModel,
    Qt,
    Signal,
)
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

from app.browser_model import COLUMNS, SORT_ROLE, ImageFilterProxy, ImageTableModel
from app.split_filter import ALL, SplitCombo


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

    def first_stem(self) -> str | None:
        """The first row as the table shows it (cheap: 100,000 rows listed take seconds)."""
        return self.proxy.index(0, 0).data(SORT_ROLE) if self.proxy.rowCount() else None

    def shows(self, stem: str) -> bool:
        """``stem``'s row passes the split and class filters."""
        src = self.model.row_of(stem)
        return src is not None and self.proxy.mapFromSource(self.model.index(src, 0)).isValid()

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

