"""Refusing labels that would be read silently wrong: instance-id maps given as class maps, and colour
labels decoded through a palette that is not theirs.

Instance maps (VOC/CVAT ``SegmentationObject/``, SBD ``inst/``, Cityscapes ``*_instanceIds.png``) number the
objects 1, 2, ... in each image; read as classes they score nonsense, so they are refused by name. Colour
labels are decoded through a colour table found beside them (``labelmap.txt``, ``dataset_meta.json``,
``labelmap.csv`` / ``class_dict.csv``, a ``dataset.json`` palette); VOC's colours are used only when the
classes are VOC's, never as a guess.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core import VOID
from fcn_core.data.datasets import Dataset
from fcn_core.data.errors import DataError
from fcn_core.data.formats.sidecar_common import ClassTable, build_table
from fcn_core.data.labels import labels_from_colours, read_label
from fcn_core.data.names import name_key
from fcn_core.data.palette import VOC_CLASSES, known_palette

INSTANCE_FOLDERS = {"segmentationobject": "VOC/CVAT SegmentationObject (object ids 1, 2, ... per image)",
                    "inst": "SBD inst/ (object ids, not classes)"}


def instance_map_problem(path: Path) -> str | None:
    """Why ``path`` (a label folder or file) holds instance ids rather than classes, or None."""
    folder = path if path.is_dir() else path.parent
    what = INSTANCE_FOLDERS.get(folder.name.lower())
    if what is not None:
        return f"is an instance-id folder: {what}; class labels are in SegmentationClass/ (SBD: cls/)"
    names = [path.name] if path.is_file() else [p.name for p in sorted(path.glob("*.png"))[:20]]
    if names and all(n.endswith("_instanceIds.png") for n in names):
        return ("holds Cityscapes *_instanceIds.png files (class*1000 + instance ids); class labels are the "
                "*_labelTrainIds.png or *_labelIds.png files")
    return None


def refuse_instance_maps(path: Path, role: str) -> None:
    """DataError naming ``path`` when it holds instance maps (``role`` says what it was given as)."""
    problem = instance_map_problem(path)
    if problem is not None:
        raise DataError(path, f"given as {role}, but it {problem}")


def _table_from_descriptor(path: Path) -> ClassTable | None:
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"cannot read dataset descriptor ({exc})") from exc
    if not isinstance(desc, dict) or not desc.get("palette") or not desc.get("class_names"):
        return None
    names, pal = [str(n) for n in desc["class_names"]], desc["palette"]
    try:
        colours = [tuple(int(v) for v in pal[i]) for i in range(len(names))]
    except (TypeError, ValueError, IndexError) as exc:
        raise DataError(path, "palette must give an [r, g, b] colour for every class") from exc
    return build_table(path, [(i, n, c) for i, (n, c) in enumerate(zip(names, colours))])


def colour_table_near(folder: Path) -> ClassTable | None:
    """The colour table in ``folder`` or its parent (the first found, nearest first), else None."""
    from fcn_core.data.formats import cvat, datumaro, kaggle

    for place in (folder, folder.parent):
        if (place / cvat.LABELMAP).is_file():
            return cvat.parse_labelmap(place / cvat.LABELMAP)
        if (place / datumaro.META).is_file():
            return datumaro.parse_meta(place / datumaro.META)
        for name in kaggle.TABLES:
            if (place / name).is_file():
                return kaggle.parse_csv(place / name)
        if (place / "dataset.json").is_file():
            table = _table_from_descriptor(place / "dataset.json")
            if table is not None:
                return table
    return None


class NearbyColourTable:
    """The colour table beside a label folder, looked up once and only when needed: a broken table file
    stops the run only when a colour label needs it."""

    def __init__(self, folder: Path, fallback: NearbyColourTable | None = None) -> None:
        self.folder = folder
        self.fallback = fallback  # asked when there is no table here (a broken one is an error)
        self._looked = False
        self._table: ClassTable | None = None
        self._error: DataError | None = None

    def get(self) -> ClassTable | None:
        """The table, None when there is none; the table file's DataError when it cannot be read."""
        if not self._looked:
            self._looked = True
            try:
                self._table = colour_table_near(self.folder)
            except DataError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        if self._table is None and self.fallback is not None:
            return self.fallback.get()
        return self._table

    def names(self) -> list[str] | None:
        """The table's class names, or None (also when the table cannot be read)."""
        try:
            table = self.get()
        except DataError:
            return None
        return None if table is None else list(table.names)


def _is_voc(names: Sequence[str] | None) -> bool:
    return names is not None and [name_key(n) for n in names] == [name_key(n) for n in VOC_CLASSES]


def read_folder_label(path: Path, *, table: NearbyColourTable | None, class_names: Sequence[str] | None,
                      void_value: int = VOID, num_classes: int | None = None) -> np.ndarray:
    """A label PNG from a folder of labels (``fcn evaluate --pred/--gt``), void 255.

    Index PNGs are read as they are. A colour (RGB) label is decoded through ``table``; without one, only
    when the classes are VOC's (VOC colours); otherwise it is refused rather than guessed.
    """
    try:
        with Image.open(path) as img:
            mode = img.mode
    except (OSError, ValueError, SyntaxError):
        mode = None  # read_label says what is wrong
    if mode not in ("RGB", "RGBA"):
        return read_label(path, void_value=void_value, num_classes=num_classes)
    table = table.get() if table is not None else None
    if table is not None:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        try:
            return labels_from_colours(rgb, table.palette, path, len(table.names),
                                       void_colour=table.void_colour is not None)
        except DataError as exc:
            raise DataError(path, f"{exc.problem} (colours from {table.source})") from exc
    if _is_voc(class_names):
        return read_label(path, num_classes=num_classes or len(VOC_CLASSES))
    raise DataError(path, "is an RGB colour label, but no colour table was found beside it (labelmap.txt, "
                          "dataset_meta.json, labelmap.csv / class_dict.csv, or a dataset.json palette) and "
                          "the classes are not VOC's: decoding it through VOC's colours would be a guess. "
                          "Add the colour table, or save class-index PNGs (mode P or L)")


def refuse_guessed_colours(dataset: Dataset) -> None:
    """DataError when ``dataset`` (an original layout) has colour (RGB) label files but no stated colours:
    no ``dataset.json`` palette, no known class list, and classes that are not VOC's in a VOC tree. Decoding
    them through VOC's colours would be a guess that can silently give the wrong classes."""
    if dataset.label_format != "rgb" or getattr(dataset, "table", None) is not None:
        return
    desc = dataset.root / "dataset.json"
    if desc.is_file():
        try:
            if json.loads(desc.read_text(encoding="utf-8")).get("palette") is not None:
                return
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return  # the layout reader reports a broken descriptor itself
    if known_palette(dataset.class_names) is not None:
        return
    stated = any((dataset.root / n).is_file() for n in ("class_names.txt", "labels.txt"))
    if _is_voc(dataset.class_names) and (dataset.kind == "voc" or stated):
        return
    raise DataError(dataset.root, "labels are RGB colour images but the dataset states no colours for its "
                                  "classes; decoding them through VOC's colours would be a guess. Add a "
                                  "dataset.json with \"class_names\" and \"palette\" (or a labelmap.csv "
                                  "of name,r,g,b beside images/ and masks/)")
