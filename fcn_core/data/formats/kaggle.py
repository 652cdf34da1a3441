"""Kaggle-style mask folders with a colour table CSV (``labelmap.csv`` or ``class_dict.csv``).

The CSV has a header and one ``name,r,g,b`` row per class, in class order (the Kaggle CamVid release's
``class_dict.csv``; Datumaro's Kaggle image-mask format). Folders: ``images/`` + ``masks/`` (or ``labels/``,
``annotations/``), or one pair per split, ``<split>/`` + ``<split>_labels/`` (Kaggle CamVid: train, val,
test). A mask is named like its image, or with ``_L`` / ``_mask`` appended (CamVid's ``0001TP_006690_L.png``).
Colour masks are decoded through the CSV's colours; single-channel masks hold class indices.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats.sidecar_common import ClassTable, build_table, list_files, make_dataset
from fcn_core.data.images import IMAGE_SUFFIXES

TABLES = ("labelmap.csv", "class_dict.csv")
PAIRS = (("images", "masks"), ("images", "labels"), ("images", "annotations"))
MASK_SUFFIXES = ("_L", "_mask")
LAYOUT = "labelmap.csv or class_dict.csv (name,r,g,b) with images/ + masks/ or <split>/ + <split>_labels/"


def _table_file(root: Path) -> Path | None:
    return next((root / n for n in TABLES if (root / n).is_file()), None)


def _pairs(root: Path) -> list[tuple[str | None, Path, Path]]:
    for a, b in PAIRS:
        if (root / a).is_dir() and (root / b).is_dir():
            return [(None, root / a, root / b)]
    return [(d.name, d, root / f"{d.name}_labels") for d in sorted(root.iterdir())
            if d.is_dir() and not d.name.endswith("_labels") and (root / f"{d.name}_labels").is_dir()]


def detect(root: Path) -> bool:
    """A colour table CSV beside image/mask folders."""
    return _table_file(root) is not None and bool(_pairs(root))


def parse_csv(path: Path) -> ClassTable:
    """The classes of a ``name,r,g,b`` CSV (a header row is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        rows = [r for r in csv.reader(lines) if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(path, f"cannot read the class table ({exc})") from exc
    entries: list[tuple[int, str, tuple[int, int, int] | None]] = []
    for number, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if number == 1 and not all(c.lstrip("-").isdigit() for c in cells[1:4]):
            continue  # header: name,r,g,b
        if len(cells) != 4 or not all(c.isdigit() and int(c) <= 255 for c in cells[1:]):
            raise DataError(path, f"row {number} {','.join(cells)!r} is not name,r,g,b with values 0..255")
        entries.append((len(entries), cells[0], (int(cells[1]), int(cells[2]), int(cells[3]))))
    return build_table(path, entries)


def _split_samples(images_dir: Path, masks_dir: Path) -> dict[str, Sample]:
    images = list_files(images_dir, IMAGE_SUFFIXES)
    samples = {s: Sample(s, p, None) for s, p in images.items()}
    for mstem, mpath in list_files(masks_dir, (".png", ".bmp", ".tif", ".tiff")).items():
        bases = [mstem] + [mstem[: -len(x)] for x in MASK_SUFFIXES if mstem.endswith(x)]
        stem = next((b for b in bases if b in images), None)
        if stem is None:
            raise DataError(mpath, f"mask has no image in {images_dir} (looked for {' or '.join(bases)})")
        if samples[stem].label_path is not None:
            raise DataError(mpath, f"second mask for image {stem!r} (also {samples[stem].label_path.name})")
        samples[stem].label_path = samples[stem].original_label_path = mpath
    return samples


def open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None) -> Dataset:
    """Open a Kaggle-style mask dataset (see the module docstring)."""
    source = _table_file(root)
    if source is None:
        raise DataError(root, f"no {' or '.join(TABLES)}")
    table = parse_csv(source)
    samples: dict[str, Sample] = {}
    splits: dict[str, list[str]] = {}
    for split, images_dir, masks_dir in _pairs(root):
        part = _split_samples(images_dir, masks_dir)
        for stem, sample in part.items():
            if stem in samples:
                raise DataError(sample.image_path, f"image name {stem!r} is also in another split")
            samples[stem] = sample
        if split is not None:
            splits[split] = sorted(part)
    if not samples:
        raise DataError(root, "no images found")
    return make_dataset(root, "kaggle", table, list(samples.values()), splits=splits, split_files={},
                        void_value=void_value, labels_dir=labels_dir)
