"""CamVid, as SegNet ships it (11 classes, index PNGs) and as originally released (32 classes, RGB labels).

SegNet: ``train/ trainannot/ val/ valannot/ test/ testannot/`` (annotations: raw class index, 11 = void) with
optional ``train.txt`` / ``val.txt`` / ``test.txt`` listing "image annotation" path pairs: when a list is
there, its images (by file name) and order make the split.

Original release: ``701_StillsRaw_full/`` with ``LabeledApproved_full/<stem>_L.png``, or the common re-packing
``train/ train_labels/ val/ val_labels/ test/ test_labels/``. Labels are colours: ``label_colors.txt``
("R G B Name" per line) or ``class_dict.csv`` ("name,r,g,b") when present, else the published 32-class table.
"Void" (black) is void (255 in memory); the other 31 are the classes, in the table's order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.common import build_dataset, child, file_names, read_text
from fcn_core.data.images import IMAGE_SUFFIXES
from fcn_core.data.palette import CAMVID_CLASSES, known_palette

SEGNET_SPLITS = ("train", "val", "test")
SEGNET_VOID = len(CAMVID_CLASSES)  # 11

# The original CamVid colour table (label_colors.txt of the release), in its order.
CAMVID32: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("Animal", (64, 128, 64)), ("Archway", (192, 0, 128)), ("Bicyclist", (0, 128, 192)),
    ("Bridge", (0, 128, 64)), ("Building", (128, 0, 0)), ("Car", (64, 0, 128)),
    ("CartLuggagePram", (64, 0, 192)), ("Child", (192, 128, 64)), ("Column_Pole", (192, 192, 128)),
    ("Fence", (64, 64, 128)), ("LaneMkgsDriv", (128, 0, 192)), ("LaneMkgsNonDriv", (192, 0, 64)),
    ("Misc_Text", (128, 128, 64)), ("MotorcycleScooter", (192, 0, 192)), ("OtherMoving", (128, 64, 64)),
    ("ParkingBlock", (64, 192, 128)), ("Pedestrian", (64, 64, 0)), ("Road", (128, 64, 128)),
    ("RoadShoulder", (128, 128, 192)), ("Sidewalk", (0, 0, 192)), ("SignSymbol", (192, 128, 128)),
    ("Sky", (128, 128, 128)), ("SUVPickupTruck", (64, 128, 192)), ("TrafficCone", (0, 0, 64)),
    ("TrafficLight", (0, 64, 64)), ("Train", (192, 64, 128)), ("Tree", (128, 128, 0)),
    ("Truck_Bus", (192, 128, 192)), ("Tunnel", (64, 0, 64)), ("VegetationMisc", (192, 192, 0)),
    ("Void", (0, 0, 0)), ("Wall", (64, 192, 0)),
)


# -- SegNet ---------------------------------------------------------------------------------------------
def detect_segnet(root: Path) -> bool:
    """``train/`` with ``trainannot/`` (SegNet's CamVid folders)."""
    return (root / "train").is_dir() and (root / "trainannot").is_dir()


def _list_order(path: Path, available: set[str]) -> list[str]:
    """Image names listed in a SegNet split file (first path of each line), checked against the folder."""
    names = [Path(line.split()[0]).name for line in read_text(path).splitlines() if line.strip()]
    missing = [n for n in names if n not in available]
    if missing:
        raise DataError(path, f"lists {len(missing)} image(s) not in {path.stem}/: "
                              f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    return names


def open_segnet(root: Path, *, void_value=None, labels_dir=None):
    """List the images and annotations (no decoding)."""
    split_files = {s: root / f"{s}.txt" for s in SEGNET_SPLITS if (root / f"{s}.txt").is_file()}

    def entries():
        for s in SEGNET_SPLITS:
            images = file_names(root / s, IMAGE_SUFFIXES)
            if s in split_files:
                images = _list_order(split_files[s], set(images))
            annot, folder = root / f"{s}annot", root / s
            labels = set(file_names(annot, (".png",)))
            for name in images:
                stem = name.rsplit(".", 1)[0]
                label = child(annot, f"{stem}.png") if f"{stem}.png" in labels else None
                yield s, stem, child(folder, name), label

    void = SEGNET_VOID if void_value is None else int(void_value)
    return build_dataset(root, "camvid", entries(), class_names=list(CAMVID_CLASSES),
                         palette=known_palette(CAMVID_CLASSES), void_value=void, label_format="index",
                         labels_dir=labels_dir, split_files=split_files)


# -- the original 32 classes ----------------------------------------------------------------------------
_PAIRS32 = [(None, "701_StillsRaw_full", "LabeledApproved_full")] + [
    (s, s, f"{s}_labels") for s in SEGNET_SPLITS]


def detect_32(root: Path) -> bool:
    """``LabeledApproved_full/`` or ``train/`` with ``train_labels/``."""
    if (root / "LabeledApproved_full").is_dir():
        return True
    return (root / "train").is_dir() and (root / "train_labels").is_dir()


def _colour(parts: list[str], path: Path, n: int) -> tuple[int, int, int]:
    try:
        rgb = tuple(int(p) for p in parts)
    except ValueError:
        raise DataError(path, f"line {n}: colour {' '.join(parts)!r} is not three numbers") from None
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise DataError(path, f"line {n}: colour must be three values 0..255")
    return rgb  # type: ignore[return-value]


def read_colour_table(root: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """(name, colour) pairs from label_colors.txt or class_dict.csv, else the published table."""
    path = root / "label_colors.txt"
    if path.is_file():
        table = []
        for n, line in enumerate(read_text(path).splitlines(), 1):
            parts = line.split()
            if parts:
                if len(parts) < 4:
                    raise DataError(path, f"line {n}: expected 'R G B Name'")
                table.append((" ".join(parts[3:]), _colour(parts[:3], path, n)))
        return table
    path = root / "class_dict.csv"
    if path.is_file():
        table = []
        for n, line in enumerate(read_text(path).splitlines(), 1):
            parts = [p.strip() for p in line.split(",")]
            if n == 1 and parts and parts[0].lower() == "name":
                continue
            if len(parts) == 4:
                table.append((parts[0], _colour(parts[1:], path, n)))
            elif any(parts):
                raise DataError(path, f"line {n}: expected 'name,r,g,b'")
        return table
    return list(CAMVID32)


def open_32(root: Path, *, void_value=None, labels_dir=None):
    """List the images and colour labels (no decoding)."""
    table = read_colour_table(root)
    classes = [(n, c) for n, c in table if n.lower() != "void"]
    void = next((c for n, c in table if n.lower() == "void"), (0, 0, 0))
    if not classes or len(classes) > 255:
        raise DataError(root, f"colour table has {len(classes)} classes; expected 1..255")
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[: len(classes)] = [c for _n, c in classes]
    palette[VOID] = void

    def entries():
        for s, img_dir, lbl_dir in _PAIRS32:
            images, annot = root / img_dir, root / lbl_dir
            labels = set(file_names(annot, (".png",)))
            for name in file_names(images, IMAGE_SUFFIXES):
                stem = name.rsplit(".", 1)[0]
                label = child(annot, f"{stem}_L.png") if f"{stem}_L.png" in labels else None
                yield s, stem, child(images, name), label

    return build_dataset(root, "camvid32", entries(), class_names=[n for n, _c in classes], palette=palette,
                         void_value=VOID, label_format="rgb", labels_dir=labels_dir)


SEGNET = Format("camvid", detect_segnet, open_segnet,
                "SegNet's train/ trainannot/ val/ valannot/ test/ testannot/ (optional train.txt ...)")
CAMVID32_FORMAT = Format("camvid32", detect_32, open_32,
                         "701_StillsRaw_full/ with LabeledApproved_full/*_L.png, "
                         "or train/ with train_labels/")
