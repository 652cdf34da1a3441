"""Detecting a dataset's layout from its folder and listing its files (no decoding: cheap for big sets).

Layouts: VOC (``JPEGImages/``, ``SegmentationClass/``, ``ImageSets/Segmentation/*.txt``, ``class_names.txt``),
index/colour PNG pairs (``images/`` + ``labels/``, ``masks/`` or ``annotations/``), labelme JSON folders and
plain image folders. An optional ``dataset.json`` (class_names, palette, void_value, label_format, images,
labels, splits) states what the layout does not.
"""

from __future__ import annotations

import json
from numbers import Integral
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core import VOID
from fcn_core.data.datasets import LABEL_FORMATS, Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.images import IMAGE_SUFFIXES
from fcn_core.data.labelme import read_labels_txt
from fcn_core.data.palette import VOC_CLASSES, full_palette, known_palette

DESCRIPTOR = "dataset.json"
LABEL_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")
_PAIR_DIRS = (("images", "labels"), ("images", "masks"), ("images", "annotations"), ("img", "ann"))


def _list_files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """``{stem: path}`` of visible files with these suffixes; two files with one stem is a DataError."""
    try:
        entries = sorted(folder.iterdir())
    except PermissionError as exc:
        raise DataError(folder, "permission denied (cannot list the folder)") from exc
    except OSError as exc:
        raise DataError(folder, f"cannot list the folder ({exc.strerror or exc})") from exc
    out: dict[str, Path] = {}
    for p in entries:
        if p.name.startswith(".") or p.suffix.lower() not in suffixes or not p.is_file():
            continue  # hidden files, Thumbs.db, notes: not data
        if p.stem in out:
            raise DataError(p, f"duplicate stem {p.stem!r}: also {out[p.stem].name} (one image per name)")
        out[p.stem] = p
    return out


def _read_descriptor(root: Path) -> dict:
    path = root / DESCRIPTOR
    if not path.exists():
        return {}
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"cannot read dataset descriptor ({exc})") from exc
    if not isinstance(desc, dict):
        raise DataError(path, "dataset descriptor must be a JSON object")
    fmt = desc.get("label_format")
    if fmt is not None and fmt not in LABEL_FORMATS:
        raise DataError(path, f"label_format {fmt!r} is not one of {', '.join(LABEL_FORMATS)}")
    return desc


def _read_names(path: Path) -> list[str]:
    try:
        names = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read class names ({exc})") from exc
    if not names:
        raise DataError(path, "class names file is empty")
    return names


def _label_mode(path: Path) -> str:
    try:
        with Image.open(path) as img:  # header only
            return img.mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(path, "label is not a readable image file") from exc


def _png_palette(path: Path) -> np.ndarray | None:
    try:
        with Image.open(path) as img:
            # The PLTE chunk is parsed with the header; getpalette() would decode the pixels too.
            pal = img.palette if img.mode == "P" else None
            raw = bytes(pal.palette) if pal is not None and pal.mode == "RGB" else None
    except (OSError, ValueError, SyntaxError):
        return None
    if not raw:
        return None
    raw = raw[: 256 * 3]
    return np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3)


def _looks_labelme(folder: Path) -> bool:
    # Look at the first JSON file that is not our descriptor (which may well sort first).
    first = next((p for p in sorted(folder.glob("*.json")) if p.name != DESCRIPTOR), None)
    if first is None:
        return False
    try:
        data = json.loads(first.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and "shapes" in data


def _read_splits(root: Path, desc: dict, stems: set[str]) -> tuple[dict[str, list[str]], dict[str, Path]]:
    files: dict[str, Path] = {}
    seg = root / "ImageSets" / "Segmentation"
    if seg.is_dir():
        files.update({p.stem: p for p in sorted(seg.glob("*.txt"))})
    for name, rel in (desc.get("splits") or {}).items():
        files[name] = root / rel
    splits: dict[str, list[str]] = {}
    for name, path in files.items():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError as exc:
            raise DataError(path, f"split file for {name!r} not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(path, f"cannot read split file ({exc})") from exc
        listed = [ln.split()[0] for ln in lines if ln.strip()]
        missing = [s for s in listed if s not in stems]
        if missing:
            raise DataError(path, f"split lists {len(missing)} image(s) not in the dataset: "
                                  f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        splits[name] = listed
    return splits, files


def _apply_corrections(samples: list[Sample], labels_dir: Path | None) -> None:
    if labels_dir is None or not labels_dir.is_dir():
        return  # no corrections saved yet
    fixes = _list_files(labels_dir, (".png",))
    for s in samples:
        if s.stem in fixes:
            s.label_path, s.corrected = fixes[s.stem], True


def _reference_layout(root: Path, corrections: Path | None) -> Dataset | None:
    from fcn_core.data.formats import nyud, siftflow

    if nyud.looks_like_nyud(root):
        return nyud.open_nyud(root, corrections)
    if siftflow.looks_like_siftflow(root):
        return siftflow.open_siftflow(root, corrections)
    return None


def scan_dataset(root: Path, *, void_value: int | None = None, labels_dir=None) -> Dataset:
    """Detect the layout under ``root`` and build a :class:`Dataset` (see :func:`open_dataset`)."""
    if root.is_file() and root.name == DESCRIPTOR:
        root = root.parent
    if not root.exists():
        raise DataError(root, "dataset folder not found")
    if not root.is_dir():
        raise DataError(root, "not a folder (give the dataset's folder)")
    desc = _read_descriptor(root)
    corrections = Path(labels_dir) if labels_dir is not None else None
    reference = _reference_layout(root, corrections)  # NYUDv2 / SIFT Flow as fcn.berkeleyvision.org has them
    if reference is not None:
        return reference
    names_file = next((root / n for n in ("class_names.txt", "labels.txt") if (root / n).is_file()), None)

    if desc.get("images"):
        kind, img_dir = "index", root / desc["images"]
        lbl_dir = root / desc["labels"] if desc.get("labels") else None
    elif (root / "JPEGImages").is_dir():
        kind, img_dir, lbl_dir = "voc", root / "JPEGImages", root / "SegmentationClass"
    elif desc.get("label_format") == "labelme" or _looks_labelme(root):
        kind, img_dir, lbl_dir = "labelme", root, root
    elif (root / "data_annotated").is_dir() and _looks_labelme(root / "data_annotated"):
        # The labelme example layout: labels.txt next to data_annotated/.
        kind, img_dir, lbl_dir = "labelme", root / "data_annotated", root / "data_annotated"
    else:
        pairs = [(root / a, root / b) for a, b in _PAIR_DIRS if (root / a).is_dir() and (root / b).is_dir()]
        pair = pairs[0] if pairs else None
        kind, (img_dir, lbl_dir) = ("index", pair) if pair else ("images", (root, None))
    if not img_dir.is_dir():
        raise DataError(img_dir, "image folder not found")

    images = _list_files(img_dir, IMAGE_SUFFIXES)
    if kind == "labelme":
        jsons = {k: v for k, v in _list_files(lbl_dir, (".json",)).items() if v.name != DESCRIPTOR}
        labels = jsons
        images.update({stem: p for stem, p in jsons.items() if stem not in images})  # embedded imageData
        if names_file is None and (img_dir / "labels.txt").is_file():
            names_file = img_dir / "labels.txt"
    else:
        labels = _list_files(lbl_dir, LABEL_SUFFIXES) if lbl_dir is not None and lbl_dir.is_dir() else {}
    if not images:
        raise DataError(img_dir, f"no images found (looked for {', '.join(IMAGE_SUFFIXES)} files)")

    # Class names: descriptor, then class_names.txt / labels.txt, then the VOC classes.
    if desc.get("class_names"):
        class_names = [str(n) for n in desc["class_names"]]
    elif names_file is not None:
        is_labelme = names_file.name == "labels.txt"
        class_names = read_labels_txt(names_file) if is_labelme else _read_names(names_file)
    else:
        class_names = list(VOC_CLASSES)

    fmt = desc.get("label_format")
    first_label = next(iter(labels.values()), None)
    if fmt is None:
        if kind == "labelme":
            fmt = "labelme"
        elif first_label is None:
            fmt = "none" if kind == "images" else "palette"
        else:
            mode = _label_mode(first_label)
            fmt = {"P": "palette", "L": "index", "RGB": "rgb", "RGBA": "rgb"}.get(mode, "palette")

    palette = None
    if desc.get("palette") is not None:
        try:
            raw = np.asarray(desc["palette"], dtype=np.float64)
            if raw.ndim != 2 or raw.shape[1] != 3 or ((raw < 0) | (raw > 255) | (raw != np.round(raw))).any():
                raise ValueError("not whole numbers 0..255 in rows of 3")
            palette = raw.astype(np.uint8)
        except (ValueError, TypeError) as exc:
            problem = "palette must be a list of [r, g, b] colours with values 0..255"
            raise DataError(root / DESCRIPTOR, problem) from exc
    elif fmt == "palette" and first_label is not None:
        palette = _png_palette(first_label)
    if palette is None:
        palette = known_palette(class_names)  # e.g. CamVid's index labels: SegNet's colours, not VOC's
    palette = full_palette(palette)

    if void_value is None:
        void_value = desc.get("void_value")
    if void_value is None:
        # Raw index labels (SegNet/CamVid style) mark void with the first value after the classes; 255 stays
        # void as well, so this is harmless for index datasets that use 255.
        void_value = len(class_names) if fmt == "index" and len(class_names) < VOID else VOID
    whole = isinstance(void_value, Integral | str) and not isinstance(void_value, bool)
    if not whole or not str(void_value).isdigit():
        raise DataError(root / DESCRIPTOR if "void_value" in desc else root,
                        f"void value {void_value!r} is not a whole number in 0..255")
    void_value = int(void_value)
    if not 0 <= void_value <= 255:
        raise DataError(root, f"void value {void_value} is not in 0..255")

    samples = [Sample(stem, path, labels.get(stem), False, labels.get(stem)) for stem, path in images.items()]
    splits, split_files = _read_splits(root, desc, set(images))
    _apply_corrections(samples, corrections)
    return Dataset(root=root, kind=kind, class_names=class_names, palette=palette, void_value=void_value,
                   samples=samples, splits=splits, label_format=fmt, labels_dir=corrections,
                   split_files=split_files)
