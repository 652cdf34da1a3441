"""Cityscapes: ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with ``gtFine/<split>/<city>/*_gtFine_*.png``.

Per image the label is ``*_labelTrainIds.png`` when present (cityscapesScripts' createTrainIdLabelImgs output:
train ids 0..18, 255 ignore), else ``*_labelIds.png`` (label ids 0..33) or ``*_instanceIds.png`` (16-bit;
ids >= 1000 are ``label id * 1000 + instance``), both mapped to the 19 train classes through the official
table. ``gtCoarse/`` is used when there is no ``gtFine/``. Splits are the folders (train, val, test, ...).

Other classes: ``fcn export --format cityscapes`` of a dataset whose classes are not Cityscapes' writes
``dataset.json`` (``class_names``, ``palette``) and ``class_names.txt`` beside the folders, and its
``*_labelTrainIds.png`` hold those classes' indices. When the folder states classes other than the 19, they
are the dataset's classes, train ids 0..n-1 (255 void); a ``labelIds`` / ``instanceIds`` file then holds
official ids that are not those classes and is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.common import (
    apply_lut,
    build_dataset,
    child,
    file_names,
    make_lut,
    read_raw_label,
    read_text,
    split_order,
    subdirs,
)
from fcn_core.data.names import name_key
from fcn_core.data.palette import known_palette

# cityscapesScripts helpers/labels.py: (name, id, trainId, colour). "license plate" (id -1) never appears in
# label files and is left out.
LABELS: tuple[tuple[str, int, int, tuple[int, int, int]], ...] = (
    ("unlabeled", 0, 255, (0, 0, 0)),
    ("ego vehicle", 1, 255, (0, 0, 0)),
    ("rectification border", 2, 255, (0, 0, 0)),
    ("out of roi", 3, 255, (0, 0, 0)),
    ("static", 4, 255, (0, 0, 0)),
    ("dynamic", 5, 255, (111, 74, 0)),
    ("ground", 6, 255, (81, 0, 81)),
    ("road", 7, 0, (128, 64, 128)),
    ("sidewalk", 8, 1, (244, 35, 232)),
    ("parking", 9, 255, (250, 170, 160)),
    ("rail track", 10, 255, (230, 150, 140)),
    ("building", 11, 2, (70, 70, 70)),
    ("wall", 12, 3, (102, 102, 156)),
    ("fence", 13, 4, (190, 153, 153)),
    ("guard rail", 14, 255, (180, 165, 180)),
    ("bridge", 15, 255, (150, 100, 100)),
    ("tunnel", 16, 255, (150, 120, 90)),
    ("pole", 17, 5, (153, 153, 153)),
    ("polegroup", 18, 255, (153, 153, 153)),
    ("traffic light", 19, 6, (250, 170, 30)),
    ("traffic sign", 20, 7, (220, 220, 0)),
    ("vegetation", 21, 8, (107, 142, 35)),
    ("terrain", 22, 9, (152, 251, 152)),
    ("sky", 23, 10, (70, 130, 180)),
    ("person", 24, 11, (220, 20, 60)),
    ("rider", 25, 12, (255, 0, 0)),
    ("car", 26, 13, (0, 0, 142)),
    ("truck", 27, 14, (0, 0, 70)),
    ("bus", 28, 15, (0, 60, 100)),
    ("caravan", 29, 255, (0, 0, 90)),
    ("trailer", 30, 255, (0, 0, 110)),
    ("train", 31, 16, (0, 80, 100)),
    ("motorcycle", 32, 17, (0, 0, 230)),
    ("bicycle", 33, 18, (119, 11, 32)),
)
_TRAIN = sorted((t, name, colour) for name, _id, t, colour in LABELS if t != VOID)
CLASSES: tuple[str, ...] = tuple(name for _t, name, _c in _TRAIN)  # the 19 train classes
COLORS: tuple[tuple[int, int, int], ...] = tuple(c for _t, _n, c in _TRAIN)
VOID_COLOR = (0, 0, 0)

LABEL_ID_LUT = make_lut({label_id: t for _n, label_id, t, _c in LABELS})
TRAIN_ID_LUT = make_lut({**{t: t for t in range(len(CLASSES))}, VOID: VOID})
IMAGE_SUFFIX = "_leftImg8bit"
_IMAGE_ENDINGS = (IMAGE_SUFFIX + ".png", IMAGE_SUFFIX + ".jpg")


def palette() -> np.ndarray:
    """The 19 train classes' official colours; void (255) black."""
    pal = np.zeros((256, 3), dtype=np.uint8)
    pal[: len(COLORS)] = COLORS
    pal[VOID] = VOID_COLOR
    return pal


class CityscapesDecoder:
    """Reads a Cityscapes-style label file (train ids, label ids or instance ids, told by its name).

    ``stated`` (the file that states other classes, with their count ``num_classes``): train ids are those
    classes' indices, and label / instance id files are refused."""

    def __init__(self, num_classes: int | None = None, stated: Path | None = None) -> None:
        self.stated = stated
        self.num_classes = n = int(num_classes or 0)
        own = make_lut({**{t: t for t in range(n)}, VOID: VOID}) if stated is not None else None
        self.train_lut = TRAIN_ID_LUT if own is None else own

    def __call__(self, path: Path) -> np.ndarray:
        raw = read_raw_label(path)
        name = path.name
        if name.endswith("_labelTrainIds.png"):
            if self.stated is not None:
                n = self.num_classes
                return apply_lut(raw, self.train_lut, path, f"the {n} classes of {self.stated} (0..{n - 1}, "
                                                            "255 void)")
            return apply_lut(raw, TRAIN_ID_LUT, path, "Cityscapes train ids (0..18, 255 ignore)")
        if self.stated is not None:
            raise DataError(path, f"holds Cityscapes label ids, but {self.stated} states classes other than "
                                  "Cityscapes' 19: only *_labelTrainIds.png files can hold them")
        if name.endswith("_instanceIds.png"):
            raw = np.where(raw >= 1000, raw // 1000, raw)
        return apply_lut(raw, LABEL_ID_LUT, path, "Cityscapes label ids (0..33)")


def _gt_folder(root: Path) -> Path | None:
    return next((root / n for n in ("gtFine", "gtCoarse") if (root / n).is_dir()), None)


def detect(root: Path) -> bool:
    """A ``leftImg8bit/`` folder with split sub-folders."""
    return (root / "leftImg8bit").is_dir()


def _stated_classes(root: Path) -> tuple[list[str], np.ndarray | None, Path] | None:
    """Classes other than the 19 that the folder states (``dataset.json`` ``class_names`` and ``palette``,
    else ``class_names.txt``), with their colours (None: not stated) and the file; None when none are stated
    or they are Cityscapes'."""
    desc_path, names_path = root / "dataset.json", root / "class_names.txt"
    names, colours, source = None, None, None
    if desc_path.is_file():
        try:
            desc = json.loads(read_text(desc_path))
        except json.JSONDecodeError as exc:
            raise DataError(desc_path, f"cannot read dataset descriptor ({exc})") from exc
        if isinstance(desc, dict) and desc.get("class_names"):
            names, source = [str(n) for n in desc["class_names"]], desc_path
            if desc.get("palette") is not None:
                try:
                    raw = np.asarray(desc["palette"], dtype=np.float64)
                    if raw.ndim != 2 or raw.shape[1] != 3 or len(raw) < len(names) or (
                            (raw < 0) | (raw > 255) | (raw != np.round(raw))).any():
                        raise ValueError
                except (ValueError, TypeError) as exc:
                    raise DataError(desc_path, "palette must give an [r, g, b] colour (0..255) for every "
                                               "class") from exc
                colours = raw.astype(np.uint8)
    if names is None and names_path.is_file():
        names = [ln.strip() for ln in read_text(names_path).splitlines() if ln.strip()]
        source = names_path
    if not names or source is None or [name_key(n) for n in names] == [name_key(n) for n in CLASSES]:
        return None
    if len(names) >= VOID:
        raise DataError(source, f"{len(names)} classes: at most {VOID - 1} fit in 8-bit train ids with void")
    return names, colours, source


def open_root(root: Path, *, void_value=None, labels_dir=None):
    """List the images and their labels (no decoding)."""
    stated = _stated_classes(root)
    gt = _gt_folder(root)
    label_kinds = [f"_{gt.name}_{k}.png" for k in ("labelTrainIds", "labelIds", "instanceIds")] if gt else []

    def entries():
        for split in split_order(subdirs(root / "leftImg8bit")):
            for city in subdirs(root / "leftImg8bit" / split):
                folder = root / "leftImg8bit" / split / city
                gt_dir = gt / split / city if gt else None
                labels = set(file_names(gt_dir, (".png",))) if gt_dir else set()
                for name in file_names(folder, _IMAGE_ENDINGS):
                    stem = name[: name.rindex(IMAGE_SUFFIX)]
                    label = None
                    for kind in label_kinds:
                        if stem + kind in labels:
                            label = child(gt_dir, stem + kind)
                            break
                    yield split, stem, child(folder, name), label

    if stated is None:
        names, pal, decoder = list(CLASSES), palette(), CityscapesDecoder()
    else:
        names, colours, source = stated
        pal = colours if colours is not None else known_palette(names)  # None: VOC's colours
        decoder = CityscapesDecoder(len(names), source)
    return build_dataset(root, "cityscapes", entries(), class_names=names, palette=pal,
                         void_value=VOID, label_format="mapped", label_decoder=decoder,
                         labels_dir=labels_dir)


FORMAT = Format("cityscapes", detect, open_root,
                "leftImg8bit/<split>/<city>/*_leftImg8bit.png with gtFine/<split>/<city>/*_gtFine_*.png")
