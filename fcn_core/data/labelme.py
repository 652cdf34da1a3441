"""labelme JSON annotations rasterised to label maps, the way labelme's own ``labelme2voc`` does it.

Shapes are drawn in file order (later shapes paint over earlier ones). ``__ignore__`` becomes void (255),
``_background_`` class 0. ``mask`` shapes (a base64 PNG of a box, what labelme's AI tools save) are placed
as labelme places them. Polygons are filled with their outline included (Pillow ``ImageDraw.polygon`` with
outline and fill, as labelme does), so the result matches labelme's VOC export pixel for pixel.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.images import read_image

IGNORE_NAME = "__ignore__"
BACKGROUND_NAME = "_background_"


def read_labels_txt(path: str | os.PathLike[str]) -> list[str]:
    """Class names from a labelme ``labels.txt``: ``__ignore__`` dropped, ``_background_`` kept as class 0."""
    try:
        lines = [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise DataError(path, f"cannot read class list ({exc.strerror or exc})") from exc
    names = [ln for ln in lines if ln and ln != IGNORE_NAME]
    if not names:
        raise DataError(path, "class list is empty")
    return names


def load_labelme_json(path: str | os.PathLike[str]) -> dict:
    """Parse a labelme JSON file, checking the fields rasterisation needs."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except PermissionError as exc:
        raise DataError(p, "permission denied (cannot read the file)") from exc
    except OSError as exc:
        raise DataError(p, f"cannot read file ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(p, f"not valid labelme JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise DataError(p, "not a labelme annotation (no 'shapes' list)")
    return data


def labelme_image_path(json_path: str | os.PathLike[str], data: dict) -> Path | None:
    """The photo a labelme file refers to (``imagePath``, relative to the JSON), or None if embedded."""
    p = Path(json_path)
    rel = data.get("imagePath")
    if rel:
        cand = (p.parent / rel.replace("\\", "/")).resolve()
        if cand.exists():
            return cand
    for suffix in (".jpg", ".jpeg", ".png", ".bmp"):
        cand = p.with_suffix(suffix)
        if cand.exists():
            return cand
    return None


def _shape_mask(size_hw: tuple[int, int], points: Sequence[Sequence[float]], shape_type: str,
                path: Path) -> np.ndarray:
    # Mirrors labelme.utils.shape.shape_to_mask (line width 10, point radius 5).
    h, w = size_hw
    mask = Image.new("1", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    kind = shape_type or "polygon"
    try:
        xy = [(float(pt[0]), float(pt[1])) for pt in points]
    except (TypeError, ValueError, IndexError) as exc:
        raise DataError(path, f"{kind} shape has a point that is not an (x, y) pair ({exc})") from exc
    if not xy:
        raise DataError(path, f"{kind} shape has no points")
    if kind == "polygon":
        if len(xy) < 3:
            raise DataError(path, f"polygon with {len(xy)} points (needs at least 3)")
        draw.polygon(xy=xy, outline=1, fill=1)
    elif kind == "rectangle":
        if len(xy) != 2:
            raise DataError(path, "rectangle shape needs 2 points")
        (x0, y0), (x1, y1) = xy
        draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=1, fill=1)
    elif kind == "circle":
        if len(xy) != 2:
            raise DataError(path, "circle shape needs 2 points")
        (cx, cy), (px, py) = xy
        r = math.hypot(cx - px, cy - py)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=1, fill=1)
    elif kind in ("line", "linestrip"):
        draw.line(xy=xy, fill=1, width=10)
    elif kind == "point":
        (cx, cy) = xy[0]
        draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], outline=1, fill=1)
    else:
        raise DataError(path, f"unsupported labelme shape type {kind!r}")
    return np.asarray(mask, dtype=bool)


def _mask_shape(size_hw: tuple[int, int], shape: dict, path: Path) -> np.ndarray:
    """A labelme ``mask`` shape (its Segment-Anything tools save these): ``mask`` is a base64 PNG of the box
    from ``points[0]`` to ``points[1]`` (integer pixels, both corners inclusive), as labelme's
    ``shapes_to_label`` places it."""
    h, w = size_hw
    name = shape.get("label")
    data = shape.get("mask")
    if not isinstance(data, str) or not data:
        raise DataError(path, f"mask shape {name!r} has no 'mask' (a base64 PNG)")
    points = shape.get("points") or []
    try:
        (x1, y1), (x2, y2) = [(int(float(pt[0])), int(float(pt[1]))) for pt in points]
    except (TypeError, ValueError, IndexError) as exc:
        raise DataError(path, f"mask shape {name!r} needs 2 points (box corners), got {points!r}") from exc
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as img:
            img.load()
            arr = np.asarray(img if img.mode in ("1", "L", "P", "I", "I;16") else img.convert("L"))
    except (OSError, ValueError) as exc:
        raise DataError(path, f"mask shape {name!r}: 'mask' is not a base64 PNG ({exc})") from exc
    if not (0 <= x1 <= x2 < w and 0 <= y1 <= y2 < h):
        raise DataError(path, f"mask shape {name!r}: box ({x1},{y1})-({x2},{y2}) is not inside the "
                              f"{w}x{h} image")
    if arr.shape != (y2 - y1 + 1, x2 - x1 + 1):
        raise DataError(path, f"mask shape {name!r}: mask is {arr.shape[1]}x{arr.shape[0]} but its box "
                              f"({x1},{y1})-({x2},{y2}) is {x2 - x1 + 1}x{y2 - y1 + 1}")
    mask = np.zeros((h, w), dtype=bool)
    mask[y1 : y2 + 1, x1 : x2 + 1] = arr != 0
    return mask


def rasterize_labelme(json_path: str | os.PathLike[str], class_names: Sequence[str],
                      *, with_image: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Rasterise one labelme file into ``(image_rgb, labels)``; labels uint8 with void 255.

    ``class_names[i]`` is class ``i``; ``_background_`` and ``background`` both mean class 0. A shape whose
    label is not a class name is a DataError naming it. With ``with_image=False`` the photo is not decoded
    (its size comes from the JSON) and None is returned in its place.
    """
    p = Path(json_path)
    data = load_labelme_json(p)
    image = None
    if with_image:
        img_path = labelme_image_path(p, data)
        if img_path is not None:
            image = read_image(img_path)
        elif data.get("imageData"):
            try:
                pil = Image.open(io.BytesIO(base64.b64decode(data["imageData"])))
                image = np.asarray(pil.convert("RGB"))
            except (OSError, ValueError) as exc:
                raise DataError(p, f"embedded imageData is not a readable image ({exc})") from exc
        else:
            raise DataError(p, f"image {data.get('imagePath')!r} not found and no embedded imageData")
        h, w = image.shape[:2]
        jh, jw = data.get("imageHeight"), data.get("imageWidth")
        if jh is not None and jw is not None and (int(jh), int(jw)) != (h, w):
            raise DataError(p, f"JSON says {jw}x{jh} but the image is {w}x{h}")
    else:
        try:
            h, w = int(data["imageHeight"]), int(data["imageWidth"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(p, "imageHeight/imageWidth missing") from exc
    lookup = {name: i for i, name in enumerate(class_names)}
    if class_names and class_names[0] in ("_background_", "background"):
        lookup.setdefault(BACKGROUND_NAME, 0)
        lookup.setdefault("background", 0)
    labels = np.zeros((h, w), dtype=np.uint8)
    for shape in data["shapes"]:
        name = shape.get("label")
        if name == IGNORE_NAME:
            value = VOID
        elif name in lookup:
            value = lookup[name]
        else:
            raise DataError(p, f"shape label {name!r} is not one of the dataset's classes")
        if shape.get("shape_type") == "mask":
            mask = _mask_shape((h, w), shape, p)
        else:
            mask = _shape_mask((h, w), shape.get("points") or [], shape.get("shape_type") or "polygon", p)
        labels[mask] = value
    return image, labels
