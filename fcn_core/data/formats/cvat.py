"""CVAT "Segmentation mask 1.1": a VOC tree whose colours and class names come from ``labelmap.txt``.

Layout (what CVAT exports; ``JPEGImages/`` only when exported with images)::

    labelmap.txt                    # "# label:color_rgb:parts:actions", then one "name:r,g,b::" per class
    ImageSets/Segmentation/*.txt    # one subset per file (CVAT: default.txt)
    SegmentationClass/<stem>.png    # RGB colour masks in the labelmap's colours
    SegmentationObject/<stem>.png   # instance masks (not read: instance ids are not classes)
    JPEGImages/<stem>.jpg

CVAT always lists ``background`` first (0,0,0). A label named ``ignored`` (Datumaro's VOC void) is void.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats.sidecar_common import (
    ClassTable,
    build_table,
    list_files,
    make_dataset,
    read_split_files,
)
from fcn_core.data.images import IMAGE_SUFFIXES

LABELMAP = "labelmap.txt"
HEADER = "# label:color_rgb:parts:actions"
LAYOUT = "labelmap.txt and SegmentationClass/ (CVAT Segmentation mask 1.1; JPEGImages/ optional)"


def detect(root: Path) -> bool:
    """A CVAT mask export: ``labelmap.txt`` beside ``SegmentationClass/``."""
    return (root / LABELMAP).is_file() and (root / "SegmentationClass").is_dir()


def parse_labelmap(path: Path) -> ClassTable:
    """Classes and colours of a ``labelmap.txt`` (``name:r,g,b:parts:actions`` lines; ``#`` comments)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read the label map ({exc})") from exc
    entries: list[tuple[int, str, tuple[int, int, int] | None]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != 4:
            raise DataError(path, f"line {number} {line!r} has {len(fields)} ':'-separated fields; "
                                  "expected 4 (name:r,g,b:parts:actions)")
        name, colour = fields[0].strip(), fields[1].strip()
        rgb = None
        if colour:
            try:
                rgb = tuple(int(v) for v in colour.split(","))
            except ValueError:
                rgb = None
            if rgb is None or len(rgb) != 3:
                raise DataError(path, f"line {number}: colour {colour!r} of {name!r} is not 'r,g,b'")
        entries.append((len(entries), name, rgb))
    return build_table(path, entries)


def labelmap_text(names: list[str], colours: np.ndarray, void_colour: tuple[int, int, int] | None) -> str:
    """The ``labelmap.txt`` CVAT reads: the header, one ``name:r,g,b::`` line per class, then ``ignored``
    with ``void_colour`` when given. Names holding ':' or line breaks cannot be written."""
    lines = [HEADER]
    for name, c in zip(names, np.asarray(colours).reshape(-1, 3).tolist()):
        if ":" in name or "\n" in name or "\r" in name or not name.strip():
            raise ValueError(f"class name {name!r} cannot be written to {LABELMAP} (empty, ':' or newline)")
        lines.append(f"{name}:{c[0]},{c[1]},{c[2]}::")
    if void_colour is not None:
        lines.append(f"ignored:{void_colour[0]},{void_colour[1]},{void_colour[2]}::")
    return "\n".join(lines) + "\n"


def open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None) -> Dataset:
    """Open a CVAT Segmentation mask export (see the module docstring)."""
    table = parse_labelmap(root / LABELMAP)
    masks = list_files(root / "SegmentationClass", (".png",))
    has_images = (root / "JPEGImages").is_dir()
    images = list_files(root / "JPEGImages", IMAGE_SUFFIXES)
    if has_images:
        orphans = sorted(set(masks) - set(images))
        if orphans:
            raise DataError(masks[orphans[0]], f"mask has no image in JPEGImages/ ({len(orphans)} such "
                                               f"masks: {', '.join(orphans[:5])})")
    stems = sorted(set(images) | set(masks))
    if not stems:
        raise DataError(root / "SegmentationClass", "no masks (and no images) found")
    samples = [Sample(s, images.get(s), masks.get(s), False, masks.get(s)) for s in stems]
    split_files = list_files(root / "ImageSets" / "Segmentation", (".txt",))
    splits = read_split_files(split_files, set(stems))
    return make_dataset(root, "cvat-mask", table, samples, splits=splits, split_files=split_files,
                        void_value=void_value, labels_dir=labels_dir)
