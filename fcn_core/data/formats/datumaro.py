"""Datumaro's "common semantic segmentation" layout: ``images/`` + ``masks/`` + ``dataset_meta.json``.

``dataset_meta.json``: ``{"label_map": {"0": "background", "1": "cat"}, "segmentation_colors": [[0, 0, 0],
[255, 0, 0]], "background_label": "0"}`` (``label_map`` keys are class indices, ``segmentation_colors[i]`` is
class i's colour; a plain ``"labels": [...]`` list is accepted too). Masks are colour PNGs decoded through
those colours, or single-channel PNGs of class indices. Datumaro's subset variant (``<subset>/`` folders,
each with its own meta file, images/ and masks/) opens with one split per subset.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats.sidecar_common import ClassTable, build_table, list_files, make_dataset
from fcn_core.data.images import IMAGE_SUFFIXES

META = "dataset_meta.json"
LAYOUT = "dataset_meta.json with images/ and masks/ (or <subset>/ folders holding all three)"


def _is_css(folder: Path) -> bool:
    return (folder / META).is_file() and (folder / "images").is_dir() and (folder / "masks").is_dir()


def _subsets(root: Path) -> list[Path]:
    try:
        with os.scandir(root) as entries:  # d_type: no stat per file in a big image folder
            dirs = sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []
    return [d for d in dirs if _is_css(d)]


def detect(root: Path) -> bool:
    """``dataset_meta.json`` beside ``images/`` and ``masks/``, or subset folders that each hold them."""
    return _is_css(root) or (not (root / "JPEGImages").is_dir() and bool(_subsets(root)))


def _colour(path: Path, key: str, value: object) -> tuple[int, int, int]:
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)):
        raise DataError(path, f"segmentation_colors[{key}] is {value!r}, not [r, g, b] with values 0..255")
    return (value[0], value[1], value[2])


def parse_meta(path: Path) -> ClassTable:
    """The class table of a ``dataset_meta.json``."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"cannot read the dataset meta file ({exc})") from exc
    if not isinstance(meta, dict):
        raise DataError(path, "dataset meta file must be a JSON object")
    colours = meta.get("segmentation_colors") or []
    if not isinstance(colours, list):
        raise DataError(path, "segmentation_colors must be a list of [r, g, b]")
    label_map = meta.get("label_map")
    entries: list[tuple[int, str, tuple[int, int, int] | None]] = []
    if label_map:
        if not isinstance(label_map, dict):
            raise DataError(path, "label_map must be an object {index: name}")
        for key, name in label_map.items():
            if not str(key).isdigit() or not isinstance(name, str):
                raise DataError(path, f"label_map entry {key!r}: {name!r} is not index: name")
            i = int(key)
            if colours and i >= len(colours):
                raise DataError(path, f"label_map has class {i} ({name!r}) but segmentation_colors has only "
                                      f"{len(colours)} colours")
            entries.append((i, name, _colour(path, key, colours[i]) if colours else None))
    else:
        labels = meta.get("labels")
        if not isinstance(labels, list) or not all(isinstance(n, str) for n in labels):
            raise DataError(path, "has neither a label_map {index: name} nor a labels list of names")
        if colours and len(colours) != len(labels):
            raise DataError(path, f"{len(labels)} labels but {len(colours)} segmentation_colors")
        entries = [(i, n, _colour(path, str(i), colours[i]) if colours else None)
                   for i, n in enumerate(labels)]
    background = meta.get("background_label")
    if background is not None and not (str(background).isdigit() and int(background) < len(entries)):
        raise DataError(path, f"background_label {background!r} is not one of the class indices")
    return build_table(path, entries)


def _samples(folder: Path) -> dict[str, Sample]:
    images = list_files(folder / "images", IMAGE_SUFFIXES)
    masks = list_files(folder / "masks", (".png", ".bmp", ".tif", ".tiff"))
    orphans = sorted(set(masks) - set(images))
    if orphans:
        raise DataError(masks[orphans[0]], f"mask has no image in {folder / 'images'} ({len(orphans)} such "
                                           f"masks: {', '.join(orphans[:5])})")
    return {s: Sample(s, p, masks.get(s), False, masks.get(s)) for s, p in images.items()}


def open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None) -> Dataset:
    """Open a Datumaro common-semantic-segmentation folder (see the module docstring)."""
    if _is_css(root):
        table = parse_meta(root / META)
        samples = _samples(root)
        splits: dict[str, list[str]] = {}
    else:
        table, samples, splits = None, {}, {}
        for sub in _subsets(root):
            sub_table = parse_meta(sub / META)
            if table is None:
                table = sub_table
            elif sub_table.names != table.names or str(sub_table.colours) != str(table.colours):
                raise DataError(sub / META, f"classes differ from those of {table.source}")
            for stem, sample in _samples(sub).items():
                if stem in samples:
                    raise DataError(sample.image_path, f"image name {stem!r} is also in another subset")
                samples[stem] = sample
            splits[sub.name] = sorted(s for s in _samples(sub))
    if not samples:
        raise DataError(root, "no images found in images/")
    return make_dataset(root, "datumaro", table, list(samples.values()), splits=splits, split_files={},
                        void_value=void_value, labels_dir=labels_dir)
