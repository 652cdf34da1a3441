"""Mapillary Vistas: ``{training,validation,testing}/images/*.jpg`` with ``<split>/v1.2/labels/*.png`` and/or
``<split>/v2.0/labels/*.png``, described by ``config_v1.2.json`` / ``config_v2.0.json`` in the folder.

The config's ``labels`` list (``name``, ``readable``, ``color``, ...) gives the classes in value order; the
label PNGs hold those values (8-bit palette images in both versions: 66 labels in v1.2, 124 in v2.0). The
label called "unlabeled" is void (255 in memory) and the classes after it move down by one. "mapillary" opens
the newest version present; "mapillary-v1.2" / "mapillary-v2.0" choose one.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.common import (
    LutDecoder,
    build_dataset,
    child,
    file_names,
    make_lut,
    read_text,
    split_name,
)
from fcn_core.data.images import IMAGE_SUFFIXES

VERSIONS = ("v2.0", "v1.2")  # newest first
_SPLITS = ("training", "validation", "testing")


def _versions(root: Path) -> list[str]:
    return [v for v in VERSIONS if (root / f"config_{v}.json").is_file()
            or any((root / s / v / "labels").is_dir() for s in _SPLITS)]


def detect(root: Path, version: str | None = None) -> bool:
    """``training/images/`` (or validation/) and a ``config_v*.json`` or ``<split>/v*/labels/``."""
    if not any((root / s / "images").is_dir() for s in _SPLITS):
        return False
    found = _versions(root)
    return bool(found) if version is None else version in found


def read_config(path: Path) -> tuple[list[str], np.ndarray, int | None]:
    """(class names in value order without the void label, their colours, the void label's value or None)."""
    try:
        config = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc})") from exc
    labels = config.get("labels") if isinstance(config, dict) else None
    if not isinstance(labels, list) or not labels:
        raise DataError(path, 'expected an object with a non-empty "labels" list')
    if len(labels) > 256:
        raise DataError(path, f"{len(labels)} labels do not fit in 8-bit label images")
    names, colours, void = [], [], None
    for i, label in enumerate(labels):
        name = label.get("name") or label.get("readable") if isinstance(label, dict) else None
        if not isinstance(name, str):
            raise DataError(path, f'labels[{i}] needs a "name" (and "readable", "color")')
        colour = label.get("color", [0, 0, 0])
        if (not isinstance(colour, list) or len(colour) != 3
                or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in colour)):
            raise DataError(path, f"labels[{i}] ({name}): color must be [r, g, b] with values 0..255")
        if void is None and name.split("--")[-1].lower() == "unlabeled":
            void = i
            continue
        names.append(str(label.get("readable") or name))
        colours.append(colour)
    return names, np.asarray(colours, dtype=np.uint8).reshape(-1, 3), void


def open_root(root: Path, *, void_value=None, labels_dir=None, version: str | None = None):
    """List the images and labels of one version (no decoding)."""
    found = _versions(root)
    version = version or (found[0] if found else VERSIONS[0])
    config = root / f"config_{version}.json"
    if not config.is_file():
        raise DataError(config, f"Mapillary Vistas {version} needs its config file (label names, colours)")
    names, colours, void = read_config(config)
    mapping, cls = {}, 0
    for raw in range(len(names) + (void is not None)):
        if raw == void:
            mapping[raw] = VOID
        else:
            mapping[raw], cls = cls, cls + 1
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[: len(colours)] = colours
    decoder = LutDecoder(make_lut(mapping), f"labels of {config.name} (0..{len(mapping) - 1})")

    def entries():
        for s in _SPLITS:
            images, annot = root / s / "images", root / s / version / "labels"
            labels = set(file_names(annot, (".png",)))
            for name in file_names(images, IMAGE_SUFFIXES):
                stem = name.rsplit(".", 1)[0]
                label = child(annot, f"{stem}.png") if f"{stem}.png" in labels else None
                yield split_name(s), stem, child(images, name), label

    return build_dataset(root, "mapillary", entries(), class_names=names, palette=palette,
                         void_value=VOID if void is None else void, label_format="mapped",
                         label_decoder=decoder, labels_dir=labels_dir)


_LAYOUT = ("{training,validation}/images/*.jpg with <split>/{v1.2,v2.0}/labels/*.png and "
           "config_{v1.2,v2.0}.json")
FORMAT = Format("mapillary", detect, open_root, _LAYOUT)
VERSION_FORMATS = [
    Format(f"mapillary-{v}", partial(detect, version=v), partial(open_root, version=v), _LAYOUT.replace(
        "{v1.2,v2.0}", v)) for v in sorted(VERSIONS)
]
