"""ADE20K: the SceneParsing release (150 classes) and the full release (``*_seg.png`` colour-coded classes).

SceneParsing (``ADEChallengeData2016/``): ``images/{training,validation}/*.jpg`` with
``annotations/{training,validation}/*.png``; raw 0 is "other" (void, 255 in memory) and raw k is class k-1.
Names are objectInfo150's (CSAILVision/sceneparsing).

Full release (``ADE20K_2016_07_26/`` or ``ADE20K_2021_17_01/``):
``images/[ADE/]{training,validation}/<scene folders>/ADE_*.jpg`` with ``ADE_*_seg.png`` beside them; the
object class of a pixel is R/10*256 + G (0 = none, void), as in the release's own ``utils_ade20k.py``.
Classes, in this order of preference:

- ``mapFromADE.txt`` in the folder (sceneparsing's convertFromADE table "class150<TAB>ADE id"): the 150
  SceneParsing classes, every other object void;
- ``objects.txt`` (one object name per line, in class-id order; a header line naming a column "name" is
  skipped; tab-separated columns: the first is the name): those names when they fit in 8 bits (at most 254),
  else the 150 SceneParsing classes matched by name (others void);
- otherwise numbered classes "class 1" .. "class 254" (ids above 254 are reported when read).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.common import (
    LutDecoder,
    apply_lut,
    build_dataset,
    child,
    file_names,
    make_lut,
    read_rgb_label,
    read_text,
    shifted_lut,
    split_name,
)
from fcn_core.data.images import IMAGE_SUFFIXES
from fcn_core.data.names import name_key

# objectInfo150 (CSAILVision/sceneparsing), in class order 1..150.
CLASSES_150: tuple[str, ...] = (
    "wall", "building, edifice", "sky", "floor, flooring", "tree", "ceiling", "road, route", "bed",
    "windowpane, window", "grass", "cabinet", "sidewalk, pavement",
    "person, individual, someone, somebody, mortal, soul", "earth, ground", "door, double door", "table",
    "mountain, mount", "plant, flora, plant life", "curtain, drape, drapery, mantle, pall", "chair",
    "car, auto, automobile, machine, motorcar", "water", "painting, picture", "sofa, couch, lounge", "shelf",
    "house", "sea", "mirror", "rug, carpet, carpeting", "field", "armchair", "seat", "fence, fencing", "desk",
    "rock, stone", "wardrobe, closet, press", "lamp", "bathtub, bathing tub, bath, tub", "railing, rail",
    "cushion", "base, pedestal, stand", "box", "column, pillar", "signboard, sign",
    "chest of drawers, chest, bureau, dresser", "counter", "sand", "sink", "skyscraper",
    "fireplace, hearth, open fireplace", "refrigerator, icebox", "grandstand, covered stand", "path",
    "stairs, steps", "runway", "case, display case, showcase, vitrine",
    "pool table, billiard table, snooker table", "pillow", "screen door, screen", "stairway, staircase",
    "river", "bridge, span", "bookcase", "blind, screen", "coffee table, cocktail table",
    "toilet, can, commode, crapper, pot, potty, stool, throne", "flower", "book", "hill", "bench",
    "countertop", "stove, kitchen stove, range, kitchen range, cooking stove", "palm, palm tree",
    "kitchen island",
    "computer, computing machine, computing device, data processor, electronic computer, "
    "information processing system",
    "swivel chair", "boat", "bar", "arcade machine", "hovel, hut, hutch, shack, shanty",
    "bus, autobus, coach, charabanc, double-decker, jitney, motorbus, motorcoach, omnibus, passenger vehicle",
    "towel", "light, light source", "truck, motortruck", "tower", "chandelier, pendant, pendent",
    "awning, sunshade, sunblind", "streetlight, street lamp", "booth, cubicle, stall, kiosk",
    "television, television receiver, television set, tv, tv set, idiot box, boob tube, telly, goggle box",
    "airplane, aeroplane, plane", "dirt track", "apparel, wearing apparel, dress, clothes", "pole",
    "land, ground, soil", "bannister, banister, balustrade, balusters, handrail",
    "escalator, moving staircase, moving stairway", "ottoman, pouf, pouffe, puff, hassock", "bottle",
    "buffet, counter, sideboard", "poster, posting, placard, notice, bill, card", "stage", "van", "ship",
    "fountain", "conveyer belt, conveyor belt, conveyer, conveyor, transporter", "canopy",
    "washer, automatic washer, washing machine", "plaything, toy", "swimming pool, swimming bath, natatorium",
    "stool", "barrel, cask", "basket, handbasket", "waterfall, falls", "tent, collapsible shelter", "bag",
    "minibike, motorbike", "cradle", "oven", "ball", "food, solid food", "step, stair", "tank, storage tank",
    "trade name, brand name, brand, marque", "microwave, microwave oven", "pot, flowerpot",
    "animal, animate being, beast, brute, creature, fauna", "bicycle, bike, wheel, cycle", "lake",
    "dishwasher, dish washer, dishwashing machine", "screen, silver screen, projection screen",
    "blanket, cover", "sculpture", "hood, exhaust hood", "sconce", "vase",
    "traffic light, traffic signal, stoplight", "tray",
    "ashcan, trash can, garbage can, wastebin, ash bin, ash-bin, ashbin, dustbin, trash barrel, trash bin",
    "fan", "pier, wharf, wharfage, dock", "crt screen", "plate", "monitor, monitoring device",
    "bulletin board, notice board", "shower", "radiator", "glass, drinking glass", "clock", "flag",
)
_SPLIT_DIRS = ("training", "validation")
_MAX_ID = 26 * 256  # R/10 <= 25
_MAX_CLASSES = 254  # uint8 in memory, 255 = void


# -- SceneParsing ---------------------------------------------------------------------------------------
def _scene_root(root: Path) -> Path:
    sub = root / "ADEChallengeData2016"
    return sub if sub.is_dir() and not (root / "annotations").is_dir() else root


def detect_scene_parsing(root: Path) -> bool:
    """``images/{training,validation}/`` with ``annotations/`` (or that inside ``ADEChallengeData2016/``)."""
    root = _scene_root(root)
    return (root / "annotations").is_dir() and any((root / "images" / d).is_dir() for d in _SPLIT_DIRS)


def open_scene_parsing(root: Path, *, void_value=None, labels_dir=None):
    """List the images and annotations (no decoding)."""
    root = _scene_root(root)

    def entries():
        for d in _SPLIT_DIRS:
            images, annotations = root / "images" / d, root / "annotations" / d
            labels = set(file_names(annotations, (".png",)))
            for name in file_names(images, IMAGE_SUFFIXES):
                stem = name.rsplit(".", 1)[0]
                label = child(annotations, f"{stem}.png") if f"{stem}.png" in labels else None
                yield split_name(d), stem, child(images, name), label

    decoder = LutDecoder(shifted_lut(len(CLASSES_150), 0), "ADE20K SceneParsing values (0 other, 1..150)")
    return build_dataset(root, "ade20k", entries(), class_names=list(CLASSES_150), palette=None,
                         void_value=0, label_format="mapped", label_decoder=decoder, labels_dir=labels_dir)


# -- full release ---------------------------------------------------------------------------------------
def _split_parent(root: Path) -> Path | None:
    """The folder holding training/ and validation/: ``images/`` or ``images/ADE/``."""
    for base in (root / "images", root / "images" / "ADE"):
        if any((base / d).is_dir() for d in _SPLIT_DIRS):
            return base
    return None


def _has_seg(folder: Path, budget: int = 200) -> bool:
    """Whether a ``*_seg.png`` lies in the first few folders below (depth first, bounded: not a walk)."""
    pending = [folder]
    while pending and budget > 0:
        budget -= 1
        current = pending.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError:
            continue
        if any(e.name.endswith("_seg.png") for e in entries):
            return True
        folders = sorted((e.name for e in entries if e.is_dir()), reverse=True)  # pop() takes the first
        pending.extend(current / name for name in folders)
    return False


def detect_full(root: Path) -> bool:
    """``images/[ADE/]{training,validation}/<scene folders>/*_seg.png``, no ``annotations/``."""
    base = _split_parent(root)
    return base is not None and not (root / "annotations").is_dir() and _has_seg(base)


def _read_names(path: Path) -> list[str]:
    names = []
    for i, line in enumerate(read_text(path).splitlines()):
        first = line.split("\t")[0].strip()
        if i == 0 and "name" in first.lower():
            continue  # header
        if first:
            names.append(first)
    if not names:
        raise DataError(path, "object names file is empty")
    return names


def _read_map(path: Path) -> dict[int, int]:
    """mapFromADE.txt: "class150 ADE-id" per line -> {ADE id: class index 0..149}."""
    mapping: dict[int, int] = {}
    for n, line in enumerate(read_text(path).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            cls, ade = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            raise DataError(path, f"line {n}: expected two numbers (class 1..150, ADE object id)") from None
        if not 1 <= cls <= len(CLASSES_150) or not 0 < ade < _MAX_ID:
            raise DataError(path, f"line {n}: class {cls} or ADE id {ade} out of range")
        mapping[ade] = cls - 1
    return mapping


def full_classes(root: Path) -> tuple[list[str], dict[int, int], str]:
    """(class names, {ADE object id: class index}, where the classes came from)."""
    if (root / "mapFromADE.txt").is_file():
        return list(CLASSES_150), _read_map(root / "mapFromADE.txt"), "mapFromADE.txt"
    if (root / "objects.txt").is_file():
        names = _read_names(root / "objects.txt")
        if len(names) <= _MAX_CLASSES:
            return names, {i + 1: i for i in range(len(names))}, "objects.txt"
        index = {name_key(n): i for i, n in enumerate(CLASSES_150)}
        mapping = {i + 1: index[name_key(n)] for i, n in enumerate(names) if name_key(n) in index}
        return list(CLASSES_150), mapping, "objects.txt matched to the 150 SceneParsing classes"
    names = [f"class {i}" for i in range(1, _MAX_CLASSES + 1)]
    return names, {i: i - 1 for i in range(1, _MAX_CLASSES + 1)}, "numbered"


class AdeSegDecoder:
    """Reads an ADE20K ``*_seg.png``: object id R/10*256 + G through ``lut`` (ids it lacks are an error)."""

    def __init__(self, lut: np.ndarray, what: str) -> None:
        self.lut = lut
        self.what = what

    def __call__(self, path: Path) -> np.ndarray:
        rgb = read_rgb_label(path)
        ids = (rgb[..., 0] // 10).astype(np.int32) * 256 + rgb[..., 1]
        return apply_lut(ids, self.lut, path, self.what)


def open_full(root: Path, *, void_value=None, labels_dir=None):
    """Walk the scene folders and pair every image with its ``_seg.png`` (no decoding)."""
    base = _split_parent(root)
    if base is None:
        raise DataError(root / "images", "no training/ or validation/ folder")
    names, mapping, source = full_classes(root)
    subset = names == list(CLASSES_150) and source != "objects.txt"
    lut = make_lut({0: VOID, **mapping}, size=_MAX_ID)
    if subset:  # the 150-class views: every object that is not one of them is void
        lut[lut == 0xFFFF] = VOID
    what = f"object ids of the {len(names)} classes ({source})"

    def entries():
        for d in _SPLIT_DIRS:
            for top, dirs, files in os.walk(base / d):
                folder = Path(top)
                stems = {f.rsplit(".", 1)[0] for f in files if f.lower().endswith(IMAGE_SUFFIXES)}
                # An image's own folder holds its instance masks: not data for us.
                dirs[:] = sorted(x for x in dirs if x not in stems and not x.startswith("."))
                present = set(files)
                for name in sorted(files):
                    stem, _, ext = name.rpartition(".")
                    if f".{ext.lower()}" not in IMAGE_SUFFIXES or stem.endswith("_seg") or "_parts_" in stem:
                        continue
                    seg = child(folder, f"{stem}_seg.png") if f"{stem}_seg.png" in present else None
                    yield split_name(d), stem, child(folder, name), seg

    return build_dataset(root, "ade20k-full", entries(), class_names=names, palette=None, void_value=0,
                         label_format="mapped", label_decoder=AdeSegDecoder(lut, what), labels_dir=labels_dir)


SCENE_PARSING = Format("ade20k", detect_scene_parsing, open_scene_parsing,
                       "images/{training,validation}/*.jpg with annotations/{training,validation}/*.png "
                       "(ADEChallengeData2016)")
FULL = Format("ade20k-full", detect_full, open_full,
              "images/[ADE/]{training,validation}/<scene folders>/ADE_*.jpg with ADE_*_seg.png beside them")


__all__ = ["CLASSES_150", "FULL", "SCENE_PARSING"]
