"""Dataset splits in the app: which split the browser shows and the evaluation scores.

``ALL`` stands for every image. A dataset opens on the split chosen last in this session when it has
one, else on "val" when it has one (what an ML engineer scores), else on all images.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

ALL = "all"
#: Split shown when a dataset opens and nothing else was chosen in this session.
DEFAULT_SPLIT = "val"


def initial_split(splits: dict[str, list[str]], remembered: str | None) -> str:
    """The split a newly opened dataset shows: ``remembered`` when it has it, else "val", else all."""
    if remembered == ALL or (remembered and remembered in splits):
        return remembered
    return DEFAULT_SPLIT if DEFAULT_SPLIT in splits else ALL


def split_stems(dataset, split: str) -> list[str]:
    """Stems of ``split`` in ``dataset`` (every stem for ``ALL`` or an unknown split)."""
    if split == ALL or split not in dataset.splits:
        return list(dataset.stems)
    known = set(dataset.stems)
    return [s for s in dataset.splits[split] if s in known]


def labelled_stems(dataset, split: str) -> list[str]:
    """Stems of ``split`` that have a ground-truth label (what an evaluation scores)."""
    stems = set(split_stems(dataset, split))
    return [s.stem for s in dataset.samples if s.stem in stems and s.label_path is not None]


def describe(split: str, count: int) -> str:
    """"val, 101 images" / "all images, 468"."""
    return f"all images, {count}" if split == ALL else f"{split}, {count} images"


def unknown_split_message(split: str, dataset_path, splits: dict[str, list[str]]) -> str | None:
    """Why ``split`` cannot be shown for the dataset at ``dataset_path`` (None when it can)."""
    if split == ALL or split in splits:
        return None
    have = ", ".join(f"{n} ({len(s)})" for n, s in sorted(splits.items())) or "none (no split files)"
    return f"split {split!r} not found in {dataset_path}; its splits: {have} (or '{ALL}')"


class SplitCombo(QComboBox):
    """"all images" plus each split with its size; disabled (and hidden) when the dataset has none."""

    split_chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setToolTip("Show (and evaluate) only the images of this split")
        self.currentIndexChanged.connect(lambda _i: self.split_chosen.emit(self.current_split()))

    def set_splits(self, splits: dict[str, list[str]], total: int, current: str = ALL) -> None:
        """Fill for a dataset (no signal); ``current`` is selected when present."""
        self.blockSignals(True)
        self.clear()
        self.addItem(f"all images ({total})", ALL)
        for name in sorted(splits):
            self.addItem(f"{name} ({len(splits[name])})", name)
        i = self.findData(current)
        self.setCurrentIndex(max(i, 0))
        self.blockSignals(False)
        self.setEnabled(bool(splits))

    def current_split(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) else ALL
