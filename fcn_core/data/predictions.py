"""Predictions stored on disk: reading a folder of label images as a prediction source (Qt-free, no torch).

Shared by ``fcn evaluate --pred DIR --data DS`` and the app's "Open predictions". Two layouts are read,
each matched to the dataset's images by file stem:

* **flat**: ``DIR/<stem>.png`` from any model, taken as one stride (shown as ``FLAT_STRIDE`` = 8s);
* **per stride**: ``DIR/32s/``, ``DIR/16s/``, ``DIR/8s/`` (what ``fcn predict --stride all`` writes); any of
  them present, each with ``<stem>.png``.

A label image holds class indices: mode P (palette PNG, as ``fcn predict`` writes), L, or a 16-bit index PNG
(``I;16``), or an RGB colour PNG decoded through the dataset's palette (a colour not in it is a DataError
naming the file and the colours). Every value must be a class ``0..n-1`` of the dataset (a prediction names
a class for every pixel). Class names and colours are the dataset's: predictions carry indices only.

Confidence (``fcn predict --save-confidence``): beside the labels, ``DIR/confidence/`` holds each pixel's
top softmax probability p and ``DIR/margin/`` the top-1 minus top-2 probability, in the same layout
(``confidence/<stem>.png`` or ``confidence/<stride>s/<stem>.png``), as 16-bit grey PNGs storing
``round(p * 65535)`` (read back as ``value / 65535``, so within 7.7e-6 of the float; an 8-bit grey PNG is read
as ``value / 255``). Without a ``confidence/`` folder ``has_confidence`` is False and results carry zero
placeholders, which callers must not show as numbers.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fcn_core.data.atomic import atomic_write_bytes
from fcn_core.data.errors import DataError
from fcn_core.data.images import open_checked
from fcn_core.data.labels import labels_from_colours
from fcn_core.data.palette import full_palette

#: The stride a flat folder of label images is shown as (``fcn predict`` writes the finest stride there).
FLAT_STRIDE = 8
STRIDES = (32, 16, 8)
CONFIDENCE_DIR = "confidence"
MARGIN_DIR = "margin"
#: 16-bit encoding of probabilities in ``confidence/`` and ``margin/`` PNGs: ``round(p * SCALE)``.
SCALE = 65535
_STRIDE_DIR = re.compile(r"^(32|16|8)s$")


@dataclass
class StoredPrediction:
    """One stride's stored prediction, shaped like ``fcn_core.predictor.StrideResult`` (which needs torch):
    ``labels`` uint8 (H, W); ``confidence`` and ``margin`` float32 (H, W) (zeros when not stored, None when
    not asked for)."""

    labels: np.ndarray
    confidence: np.ndarray | None
    margin: np.ndarray | None


def stored_path(root: str | os.PathLike[str], stem: str, stride: int, per_stride_dirs: bool,
                kind: str = "") -> Path:
    """Where ``stem``'s file of ``kind`` ("" labels, "confidence", "margin") at ``stride`` lives under
    ``root``: ``root/[kind/][<stride>s/]<stem>.png``."""
    folder = Path(root) / kind if kind else Path(root)
    return (folder / f"{stride}s" if per_stride_dirs else folder) / f"{stem}.png"


def encode_probability_png(values: np.ndarray) -> bytes:
    """PNG bytes of probabilities in [0, 1] as a 16-bit grey image of ``round(p * 65535)``."""
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), 0.0, 1.0)
    q = np.rint(v * SCALE).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(q).save(buf, format="PNG")  # uint16 -> mode I;16: a 16-bit grey PNG
    return buf.getvalue()


def write_probability_png(path: str | os.PathLike[str], values: np.ndarray) -> None:
    """Write probabilities as a 16-bit grey PNG (:func:`encode_probability_png`), atomically."""
    atomic_write_bytes(path, encode_probability_png(values))


def read_probability_png(path: str | os.PathLike[str]) -> np.ndarray:
    """float32 (H, W) probabilities from a 16-bit (``/65535``) or 8-bit (``/255``) grey PNG."""
    img = open_checked(path)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img).astype(np.float32) / SCALE
    elif img.mode == "L":
        arr = np.asarray(img).astype(np.float32) / 255.0
    else:
        raise DataError(path, f"confidence map is a {img.mode} image; expected a 16-bit grey PNG")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise DataError(path, "confidence map has values above 65535 (not round(p * 65535))")
    return arr


def read_prediction_labels(path: str | os.PathLike[str], *, palette: np.ndarray | None,
                           num_classes: int) -> np.ndarray:
    """One stored prediction as uint8 (H, W) class indices; DataError naming the file when it is missing,
    unreadable, or holds values (or colours) that are not classes 0..num_classes-1."""
    p = Path(path)
    if not p.is_file():
        raise DataError(p, "no prediction for this image (file not found)")
    img = open_checked(p)
    mode = img.mode
    if mode in ("P", "L"):
        arr = np.asarray(img, dtype=np.uint8)
    elif mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(img).astype(np.int64)
        bad = np.unique(wide[(wide < 0) | (wide >= num_classes)])
        if bad.size:
            raise DataError(p, f"prediction has values {bad.tolist()[:10]} that are not classes "
                               f"0..{num_classes - 1}")
        arr = wide.astype(np.uint8)
    elif mode in ("RGB", "RGBA"):
        rgb = np.asarray(img.convert("RGB"))
        arr = labels_from_colours(rgb, full_palette(palette), p, num_classes)
    else:
        raise DataError(p, f"unsupported prediction image mode {mode!r}; expected P, L, I;16 or RGB")
    bad = np.unique(arr[arr >= num_classes])
    if bad.size:
        what = "void (255)" if bad.tolist() == [255] else f"values {bad.tolist()[:10]}"
        raise DataError(p, f"prediction has {what} that are not classes 0..{num_classes - 1}")
    return np.ascontiguousarray(arr)


def _png_stems(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    try:
        with os.scandir(folder) as it:
            names = sorted(e.name for e in it if e.is_file() and not e.name.startswith("."))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DataError(folder, f"cannot list the folder ({exc.strerror or exc})") from exc
    for name in names:
        stem, dot, suffix = name.rpartition(".")
        if not dot or suffix.lower() != "png":
            continue
        if stem in files:
            raise DataError(folder / name, f"duplicate stem {stem!r} (also {files[stem].name})")
        files[stem] = folder / name
    return files


def _newest_mtime_ns(folders: list[Path]) -> int:
    newest = 0
    for folder in folders:
        try:
            with os.scandir(folder) as it:
                for e in it:
                    newest = max(newest, e.stat().st_mtime_ns)
        except OSError:
            continue
    return newest


class PredictionFolder:
    """A folder of stored predictions (see the module docstring for the layouts), bound to a dataset's
    classes: ``predict_stem(stem, image)`` gives ``{stride: StoredPrediction}`` like a model's ``predict``.

    Attributes: ``root``, ``strides`` (largest first), ``per_stride_dirs``, ``has_confidence``, ``files``
    (``{stride: {stem: Path}}``), ``num_classes``, ``class_names``, ``palette``, ``identity`` (resolved path
    and newest modification time: changes when a file is rewritten).
    """

    def __init__(self, root: str | os.PathLike[str], *, class_names: list[str], palette: np.ndarray) -> None:
        root = Path(root)
        if not root.is_dir():
            raise DataError(root, "predictions folder not found" if not root.exists() else
                            "not a folder (give the folder holding the prediction PNGs)")
        self.root = root
        self.class_names = list(class_names)
        self.num_classes = len(self.class_names)
        if not 1 <= self.num_classes <= 255:
            raise DataError(root, f"cannot read predictions for {self.num_classes} classes (1..255)")
        self.palette = full_palette(palette)
        per_stride = {int(m.group(1)): root / m.group(0) for d in sorted(os.listdir(root))
                      if (m := _STRIDE_DIR.match(d)) and (root / d).is_dir()}
        self.files: dict[int, dict[str, Path]] = {s: _png_stems(d) for s, d in per_stride.items()}
        self.files = {s: f for s, f in self.files.items() if f}
        self.per_stride_dirs = bool(self.files)
        if not self.per_stride_dirs:
            flat = _png_stems(root)
            if not flat:
                raise DataError(root, "no prediction PNGs: expected <stem>.png files, or 32s/ 16s/ 8s/ "
                                      "folders of them (as `fcn predict --stride all` writes)")
            self.files = {FLAT_STRIDE: flat}
        self.strides = tuple(sorted(self.files, reverse=True))
        conf = root / CONFIDENCE_DIR
        self.has_confidence = any(
            stored_path(root, next(iter(f)), s, self.per_stride_dirs, CONFIDENCE_DIR).is_file()
            for s, f in self.files.items()) if conf.is_dir() else False
        folders = [root, *(root / f"{s}s" for s in self.strides)]
        if self.has_confidence:
            for kind in (CONFIDENCE_DIR, MARGIN_DIR):
                folders += [root / kind, *(root / kind / f"{s}s" for s in self.strides)]
        stamp = f"{root.resolve()}|{_newest_mtime_ns(folders)}|{'/'.join(map(str, self.strides))}"
        self.identity = hashlib.sha1(stamp.encode()).hexdigest()[:12]

    @property
    def stems(self) -> set[str]:
        """Stems with a prediction at some stride."""
        return set().union(*(set(f) for f in self.files.values()))

    def path(self, stem: str, stride: int, kind: str = "") -> Path:
        """The file ``stem``'s labels (or ``kind`` "confidence"/"margin") at ``stride`` are read from."""
        if not kind and stem in self.files.get(stride, {}):
            return self.files[stride][stem]
        return stored_path(self.root, stem, stride, self.per_stride_dirs, kind)

    def read_labels(self, stem: str, stride: int) -> np.ndarray:
        """``stem``'s predicted class indices at ``stride`` (DataError naming the file)."""
        return read_prediction_labels(self.path(stem, stride), palette=self.palette,
                                      num_classes=self.num_classes)

    def predict_stem(self, stem: str, image: np.ndarray | None = None, *,
                     with_confidence: bool = True) -> dict[int, StoredPrediction]:
        """``{stride: StoredPrediction}`` of image ``stem``. With ``image`` given, a prediction of another
        size is a DataError naming the prediction file. Confidence and margin are read when stored (and asked
        for), else zeros (check ``has_confidence``)."""
        out: dict[int, StoredPrediction] = {}
        for s in self.strides:
            labels = self.read_labels(stem, s)
            if image is not None and labels.shape != tuple(image.shape[:2]):
                raise DataError(self.path(stem, s), f"prediction is {labels.shape[1]}x{labels.shape[0]} but "
                                                    f"the image is {image.shape[1]}x{image.shape[0]}")
            conf = margin = None
            if with_confidence:
                if self.has_confidence:
                    conf, margin = (self._probabilities(stem, s, kind, labels.shape)
                                    for kind in (CONFIDENCE_DIR, MARGIN_DIR))
                else:  # placeholders without memory: never shown as numbers (has_confidence is False)
                    conf = margin = np.broadcast_to(np.float32(0.0), labels.shape)
            out[s] = StoredPrediction(labels, conf, margin)
        return out

    def _probabilities(self, stem: str, stride: int, kind: str, shape: tuple[int, ...]) -> np.ndarray:
        path = self.path(stem, stride, kind)
        if not path.is_file():
            raise DataError(path, f"{kind} map missing (the folder has {kind}/ maps for other images)")
        values = read_probability_png(path)
        if values.shape != shape:
            raise DataError(path, f"{kind} map is {values.shape[1]}x{values.shape[0]} but the prediction "
                                  f"is {shape[1]}x{shape[0]}")
        return values

    def describe(self) -> str:
        """Short text: the folder and its strides."""
        return f"stored predictions [{'/'.join(f'{s}s' for s in self.strides)}] from {self.root}"


def open_predictions(folder: str | os.PathLike[str], dataset: Any) -> PredictionFolder:
    """The predictions in ``folder`` read with ``dataset``'s classes and palette."""
    return PredictionFolder(folder, class_names=list(dataset.class_names), palette=dataset.palette)


__all__ = ["CONFIDENCE_DIR", "FLAT_STRIDE", "MARGIN_DIR", "SCALE", "PredictionFolder", "StoredPrediction",
           "encode_probability_png", "open_predictions", "read_prediction_labels", "read_probability_png",
           "stored_path", "write_probability_png"]
