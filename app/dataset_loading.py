"""Background dataset work for the window: opening (with the corrections folder) and the class scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def corrections_dir(root: Path) -> Path | None:
    """The corrections folder for a dataset (issue 6's helper), when that module is present."""
    try:
        from app.corrections import corrections_dir_for
    except ImportError:
        return None
    return corrections_dir_for(root)


def scan_classes(dataset, report, should_stop) -> int:
    """Classes present in each ground-truth label, sent in chunks (for the browser's class filter)."""
    chunk: list[tuple[str, list[int]]] = []
    for stem in dataset.stems:
        if should_stop():
            break
        try:
            gt = dataset.label(stem)
        except Exception:  # noqa: BLE001 - bad files are reported when the image is opened
            continue
        if gt is not None:
            chunk.append((stem, np.flatnonzero(np.bincount(gt.ravel(), minlength=256)[:255]).tolist()))
        if len(chunk) >= 32:
            report(chunk)
            chunk = []
    if chunk:
        report(chunk)
    return len(dataset.stems)


def open_dataset_job(path: Path, format: str | None = None):
    """A job (``app.jobs``) that lists the dataset at ``path`` (corrected labels replacing originals), as
    ``format`` (a ``fcn_core.data.formats`` name) or detected."""
    from fcn_core.data import open_dataset

    def job(_progress, _should_stop):
        labels_dir = corrections_dir(path) if path.is_dir() else None
        return open_dataset(path, labels_dir=labels_dir, format=format)

    return job


def class_scan_job(dataset):
    """A job reporting ``[(stem, classes present)]`` chunks for every labelled image of ``dataset``."""
    return lambda progress, should_stop: scan_classes(dataset, progress, should_stop)
