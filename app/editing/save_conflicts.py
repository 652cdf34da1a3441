"""Another window or process wrote the correction file this window is about to save (two windows on one
dataset, two machines on a shared folder): never overwrite it silently.

``SaveGuard`` remembers each correction file's stamp (mtime, size, sha1) when the image was opened and after
each write of ours; before a write it compares with the disk and, when someone else changed the file, asks
through ``Saver.ask_conflict`` ("overwrite" / "copy" / "cancel"). The file comparison is Qt-free
(``storage.file_stamp`` / ``changed_on_disk`` / ``conflict_copy``).
"""

from __future__ import annotations

from pathlib import Path

from app.editing import storage


class SaveGuard:
    """The saver's memory of what each correction file held when this window last read or wrote it."""

    def __init__(self, saver):
        self.saver = saver
        # resolved correction path -> its stamp when last read or written here (None: it did not exist)
        self.known: dict[str, storage.FileStamp | None] = {}

    @staticmethod
    def _key(path: str | Path) -> str:
        return str(Path(path).resolve())

    def opened(self, stem: str, folder: Path, dataset) -> None:
        """A document was opened: note what its correction file holds now when the labels came from it,
        else that it did not exist for us (a file appearing later was written by someone else)."""
        path = storage.correction_path(folder, stem)
        key = self._key(path)
        opened_from = dataset is not None and stem in dataset.stems
        label_path = dataset.sample(stem).label_path if opened_from else None
        if label_path is not None and self._key(label_path) == key:
            self.known[key] = storage.file_stamp(path)
        elif key not in self.known:  # (a file this window wrote keeps its stamp)
            self.known[key] = None

    def target(self, stem: str, folder: Path) -> tuple[Path, str, bool] | None:
        """``(folder, stem, is_copy)`` to write, after asking when another writer changed the file; None
        when the user cancelled (nothing is written, the edits stay)."""
        path = storage.correction_path(folder, stem)
        other = storage.changed_on_disk(path, self.known.get(self._key(path)))
        if other is None:
            return folder, stem, False
        choice = self.saver.ask_conflict(path, other)
        if choice == "overwrite":
            return folder, stem, False
        if choice == "copy":
            copy_folder, copy_stem = storage.conflict_copy(folder, stem)
            return copy_folder, copy_stem, True
        self.saver.window.status_bar.showMessage(
            f"Not saved: {path} was changed by another window or program; your edits are kept here.", 10000)
        return None

    def write(self, folder: Path, stem: str, labels, palette, is_copy: bool) -> Path:
        """Write the correction (any thread) and remember what this window wrote before anyone asks again
        (a later synchronous save must not take our own background write for someone else's)."""
        path = storage.save_correction(folder, stem, labels, palette)
        if not is_copy:
            self.known[self._key(path)] = storage.file_stamp(path)
        return path
