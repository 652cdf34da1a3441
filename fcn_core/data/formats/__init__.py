"""Dataset formats: one module per layout, each a detector plus a reader, and one registry that picks one.

A reader lists files and returns a :class:`~fcn_core.data.datasets.Dataset` (``Sample``s plus class names,
palette and void value); it decodes nothing. Labels that need mapping (Cityscapes label ids, ADE20K's shift
by one, ...) carry a picklable ``Dataset.label_decoder`` that the dataset calls on access.

``FORMATS`` is the registry: ``(name, detect, open, layout)`` entries, **order = priority** (the first whose
``detect(root)`` is true opens the folder). Specific layouts come first, sidecar formats before the layouts
they describe, and the original layouts (VOC, labelme, index PNGs, plain images) last, so a folder that
opened before opens the same way.

To add a format: a module here with ``detect(root) -> bool`` and ``open_root(root, *, void_value,
labels_dir) -> Dataset``, and one line in ``FORMATS``.

The export writers (``fcn export --format voc|index-png|cityscapes|cvat-mask``) are in ``writers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from fcn_core.data.datasets import Dataset
from fcn_core.data.errors import DataError


class Format(NamedTuple):
    """One registry entry: a name for ``--format``, a cheap detector, a lazy reader, the layout."""

    name: str
    detect: Callable[[Path], bool]  # looks at folder names only (and at most one small sidecar file)
    open: Callable[..., Dataset]  # (root, *, void_value=None, labels_dir=None) -> Dataset
    layout: str  # what the folder must hold, for error messages and --help


def _registry() -> list[Format]:
    from fcn_core.data.formats import (
        ade20k,
        camvid,
        cityscapes,
        kitti,
        legacy,
        mapillary,
        nyud,
        sidecars,
        siftflow,
    )

    return [
        nyud.FORMAT,  # NYUDv2 as fcn.berkeleyvision.org reads it (data/images, data/depth, data/hha, .mat)
        siftflow.FORMAT,  # SIFT Flow (Images/, SemanticLabels/, GeoLabels/ .mat)
        cityscapes.FORMAT,
        kitti.FORMAT,
        ade20k.SCENE_PARSING,
        ade20k.FULL,
        mapillary.FORMAT,
        *mapillary.VERSION_FORMATS,  # only when chosen by name: "mapillary" detects first
        camvid.SEGNET,
        camvid.CAMVID32_FORMAT,
        # Sidecar formats (CVAT labelmap.txt, Datumaro dataset_meta.json, Kaggle labelmap.csv) and SBD:
        # before the original layouts they sit in, so their class names and colours win.
        *sidecars.SIDECAR_FORMATS,  # cvat-mask, datumaro, kaggle, sbd
        *legacy.FORMATS,  # voc, labelme, index, images (always detects: the fallback)
    ]


_FORMATS: list[Format] | None = None


def formats() -> list[Format]:
    """The registry, in priority order."""
    global _FORMATS
    if _FORMATS is None:
        _FORMATS = _registry()
    return _FORMATS


def format_names() -> list[str]:
    """Names accepted by ``open_dataset(..., format=NAME)`` and ``--format NAME``."""
    return [f.name for f in formats()]


def get_format(name: str) -> Format:
    """The entry called ``name`` (case-insensitive); ValueError listing the names otherwise."""
    for f in formats():
        if f.name == name.lower():
            return f
    raise ValueError(f"unknown dataset format {name!r}; known formats: {', '.join(format_names())}")


def _root(path: str | os.PathLike[str]) -> Path:
    root = Path(path)
    if root.is_file() and root.name == "dataset.json":
        root = root.parent
    if not root.exists():
        raise DataError(root, "dataset folder not found")
    if not root.is_dir():
        raise DataError(root, "not a folder (give the dataset's folder)")
    return root


def detect_format(path: str | os.PathLike[str]) -> Format:
    """The first registry entry that recognises the folder (the plain-image fallback at worst)."""
    root = _root(path)
    for f in formats():
        if f.detect(root):
            return f
    raise DataError(root, "no dataset format recognises this folder")  # unreachable: "images" takes all


def detect_formats(path: str | os.PathLike[str]) -> list[Format]:
    """Every entry that recognises the folder, in priority order, leaving out the plain-image fallback
    ("images", which takes any folder) and variants opened only by name (``mapillary-v1.2``, ...): one entry
    means the folder is unambiguous; none or several, a user may want to choose."""
    from fcn_core.data.formats import mapillary

    root = _root(path)
    by_name_only = {"images", *(f.name for f in mapillary.VERSION_FORMATS)}
    return [f for f in formats() if f.name not in by_name_only and f.detect(root)]


def open_with_format(path: str | os.PathLike[str], *, format: str | None = None,
                     void_value: int | None = None,
                     labels_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Open ``path`` as ``format`` (detected when None). A forced format the folder does not have is a
    DataError saying what the format expects and what the folder looks like instead."""
    root = _root(path)
    if format is None:
        entry = detect_format(root)
    else:
        entry = get_format(format)
        if not entry.detect(root):
            seen = detect_format(root).name
            raise DataError(root, f"not a {entry.name} dataset: expected {entry.layout} "
                                  f"(this folder looks like {seen!r}; leave the format out to detect it)")
    labels = Path(labels_dir) if labels_dir is not None else None
    return entry.open(root, void_value=void_value, labels_dir=labels)


__all__ = ["Format", "detect_format", "detect_formats", "format_names", "formats", "get_format",
           "open_with_format"]
