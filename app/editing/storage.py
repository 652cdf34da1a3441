"""Files the editor writes: corrections, the optional overwrite of the original (with a backup) and
recovery snapshots of unsaved edits. No widgets here, so tests call these directly."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fcn_core.data.atomic import atomic_write_bytes
from fcn_core.data.labels import write_index_png, write_palette_png

RECOVERY_SUFFIX = ".recovery.npz"


def correction_path(corrections_dir: str | os.PathLike[str], stem: str) -> Path:
    """Where the corrected label of ``stem`` is saved (a palette PNG, void 255)."""
    return Path(corrections_dir) / f"{stem}.png"


def save_correction(corrections_dir: str | os.PathLike[str], stem: str, labels: np.ndarray,
                    palette: np.ndarray | None) -> Path:
    """Write ``labels`` as the correction of ``stem`` atomically.

    Raises OSError when the folder is not writable or the disk is full (any previous file stays untouched).
    """
    path = correction_path(corrections_dir, stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_palette_png(path, labels, palette)
    return path


@dataclass(frozen=True)
class FileStamp:
    """What a correction file held when this window last read or wrote it."""

    mtime_ns: int
    size: int
    digest: str  # sha1 of the bytes: a rewrite with the same size and time still shows


def file_stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The file's stamp, None when it does not exist."""
    path = Path(path)
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return FileStamp(st.st_mtime_ns, st.st_size, hashlib.sha1(data).hexdigest())


def changed_on_disk(path: str | os.PathLike[str], known: FileStamp | None) -> FileStamp | None:
    """The file's stamp when someone else wrote it since ``known`` (None: it did not exist then), else None.

    A file deleted since is no conflict (nothing of anyone's would be lost by writing it again)."""
    now = file_stamp(path)
    if now is None or (known is not None and now.digest == known.digest):
        return None
    return now


def conflict_copy(corrections_dir: str | os.PathLike[str], stem: str) -> tuple[Path, str]:
    """(folder, stem) for "Save as a copy": ``<corrections>/conflicts/<stem>-<time>.png``, a folder the
    dataset never reads as labels, so the other version stays the correction in use."""
    folder = Path(corrections_dir) / "conflicts"
    name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = name, 1
    while correction_path(folder, candidate).exists():
        candidate, n = f"{name}-{n}", n + 1
    return folder, candidate


def overwrite_original(label_path: str | os.PathLike[str], labels: np.ndarray, *, label_format: str,
                       palette: np.ndarray | None, void_value: int) -> Path:
    """Replace the dataset's own label file with ``labels`` in its own format, keeping a backup
    ``<name>.bak-<timestamp>`` next to it. Returns the backup's path."""
    path = Path(label_path)
    if label_format not in ("palette", "index") or path.suffix.lower() != ".png":
        raise ValueError(f"{path}: labels stored as {label_format!r} cannot be overwritten in place; "
                         "save them as corrections instead")
    backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while backup.exists():  # two overwrites in one second keep both backups
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    shutil.copy2(path, backup)
    if label_format == "palette":
        write_palette_png(path, labels, palette)
    else:
        write_index_png(path, labels, void_value=void_value)
    return backup


# -- recovery ---------------------------------------------------------------------------------------------
def recovery_dir() -> Path:
    """The recovery folder: ``$FCN_STUDIO_RECOVERY_DIR`` (tests), else ``<AppDataLocation>/recovery``."""
    env = os.environ.get("FCN_STUDIO_RECOVERY_DIR")
    if env:
        return Path(env)
    from PySide6.QtCore import QStandardPaths

    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".local" / "share" / "fcn-studio") / "recovery"


PathLike = str | os.PathLike[str]


def recovery_path(folder: PathLike, dataset_root: PathLike | None, stem: str, task: str = "sem") -> Path:
    """One recovery file per (dataset, image, task): a two-headed net's geometric labels have their own."""
    key = f"{Path(dataset_root).resolve() if dataset_root else ''}\n{stem}"
    if task != "sem":
        key += f"\n{task}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:60]
    tag = "" if task == "sem" else "".join(c if c.isalnum() else "_" for c in task)[:12] + "-"
    return Path(folder) / f"{safe}-{tag}{digest}{RECOVERY_SUFFIX}"


@dataclass
class Recovery:
    """An unsaved edit found on disk."""

    path: Path
    dataset_root: str | None
    stem: str
    saved_at: float
    labels: np.ndarray
    original: np.ndarray | None
    task: str = "sem"

    def describe(self) -> str:
        """One line for the restore dialog."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        where = Path(self.dataset_root).name if self.dataset_root else "no dataset"
        what = "" if self.task == "sem" else f", {self.task} labels"
        return f"{self.stem} ({where}{what}, {when})"


def write_recovery(path: PathLike, labels: np.ndarray, *, dataset_root: PathLike | None,
                   stem: str, original: np.ndarray | None = None, task: str = "sem") -> None:
    """Write an atomic snapshot: labels, the original they were edited from, and a JSON header."""
    meta = {"stem": stem, "dataset_root": str(dataset_root) if dataset_root else None, "time": time.time(),
            "shape": list(labels.shape), "format": 1, "task": task}
    arrays = {"labels": labels, "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
    if original is not None:
        arrays["original"] = original
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_recovery(path: str | os.PathLike[str]) -> Recovery:
    """Read one recovery file; raises ValueError naming the file when it is damaged."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            labels = np.ascontiguousarray(z["labels"], dtype=np.uint8)
            original = np.ascontiguousarray(z["original"], dtype=np.uint8) if "original" in z else None
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: damaged recovery file ({exc})") from exc
    if labels.ndim != 2:
        raise ValueError(f"{path}: recovery labels are not a 2-D map")
    stem = str(meta.get("stem", path.stem))
    return Recovery(path, meta.get("dataset_root"), stem, float(meta.get("time", 0)), labels, original,
                    str(meta.get("task") or "sem"))


def list_recoveries(folder: str | os.PathLike[str]) -> list[Recovery]:
    """Readable recovery files in ``folder``, oldest first (damaged ones are skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for p in sorted(folder.glob(f"*{RECOVERY_SUFFIX}")):
        try:
            found.append(read_recovery(p))
        except ValueError:
            continue
    return sorted(found, key=lambda r: r.saved_at)


def remove_recovery(path: str | os.PathLike[str]) -> None:
    """Delete a recovery file if present."""
    try:
        Path(path).unlink()
    except FileNotFoundError:
        pass
