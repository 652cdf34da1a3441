"""Where corrected labels live: ``<dataset>/corrections`` when writable, else a per-dataset user folder.

The original ground truth is never the default target: corrections sit beside it, and ``open_dataset(...,
labels_dir=corrections_dir_for(root))`` makes them the labels in use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def user_data_dir() -> Path:
    """The app's per-user data folder (QStandardPaths AppDataLocation when Qt is up, else ~/.local/share)."""
    env = os.environ.get("FCN_STUDIO_DATA_DIR")
    if env:
        return Path(env)
    try:
        from PySide6.QtCore import QStandardPaths

        loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
        if loc:
            return Path(loc) / "fcn-studio"
    except ImportError:  # pragma: no cover - the app always has PySide6
        pass
    return Path.home() / ".local" / "share" / "fcn-studio"


def _writable(folder: Path) -> bool:
    """True when a file can really be created in the existing ``folder``; a probe, not os.access, because
    read-only mounts and ACLs fool os.access."""
    if not folder.is_dir():
        return False
    try:
        fd, name = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(name)
        return True
    except OSError:
        return False


def corrections_dir_for(dataset_root: str | os.PathLike[str]) -> Path:
    """The corrections folder for a dataset: ``<root>/corrections`` when writable, else
    ``<user data>/corrections/<name>-<hash of the absolute root>``."""
    root = Path(dataset_root).resolve()
    beside = root / "corrections"
    if beside.is_dir() and _writable(beside):
        return beside
    if not beside.exists() and _writable(root):
        return beside
    digest = hashlib.sha1(str(root).encode("utf-8")).hexdigest()[:10]
    return user_data_dir() / "corrections" / f"{root.name or 'dataset'}-{digest}"
