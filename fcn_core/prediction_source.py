"""Where predictions come from: a live model, or label PNGs on disk (``fcn predict``'s output or any model's).

Both give ``results(stem, image) -> {stride: StrideResult} | None`` (None: no prediction for that image), so
what is downstream (regions, scores) does not care which.

A prediction folder is either flat (``DIR/<stem>.png``, one stride) or has one sub-folder per stride
(``DIR/32s/``, ``DIR/16s/``, ``DIR/8s/``, as ``fcn predict --stride all`` writes). Next to the label PNGs
of a stride, optional confidence maps: ``confidence/<stem>.npy`` (float32 (H, W) max softmax, read with
``allow_pickle=False``) or ``confidence/<stem>.png`` (8-bit: value / 255, 16-bit: value / 65535); the
top-1 − top-2 margin the same way under ``margin/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from fcn_core.data.errors import DataError

#: Key of the one stride of a flat folder whose stride is not known.
UNKNOWN_STRIDE = 0


class ModelSource:
    """Predictions of a live :class:`fcn_core.predictor.Predictor` (every stride, with confidence)."""

    stride_known = True

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.strides: tuple[int, ...] = tuple(predictor.strides)

    def results(self, stem: str, image: np.ndarray) -> dict | None:
        """``{stride: StrideResult}`` for ``image``."""
        return self.predictor.predict(image)


class FolderSource:
    """Label PNGs by stem in ``root`` (flat, or ``<s>s/`` sub-folders), with optional confidence maps.

    ``stride`` names the stride of a flat folder (else ``UNKNOWN_STRIDE`` and ``stride_known`` False).
    Raises DataError when ``root`` is not a folder or holds no PNG.
    """

    def __init__(self, root: str | os.PathLike[str], *, stride: int | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(self.root, "prediction folder not found")
        folders = {}
        for sub in self.root.iterdir():
            m = re.fullmatch(r"(\d+)s", sub.name)
            if m and sub.is_dir() and any(sub.glob("*.png")):
                folders[int(m.group(1))] = sub
        if folders:
            self.stride_known = True
        elif any(self.root.glob("*.png")):
            folders = {stride if stride is not None else UNKNOWN_STRIDE: self.root}
            self.stride_known = stride is not None
        else:
            raise DataError(self.root, "no label PNGs (<stem>.png) and no 32s/16s/8s sub-folders with them")
        self.folders = dict(sorted(folders.items(), reverse=True))
        self.strides: tuple[int, ...] = tuple(self.folders)

    def results(self, stem: str, image: np.ndarray) -> dict | None:
        """``{stride: StrideResult}`` from the files of ``stem``; None when a stride has no PNG for it."""
        from fcn_core.data.labels import read_label
        from fcn_core.predictor import StrideResult

        shape = image.shape[:2]
        out = {}
        for s, folder in self.folders.items():
            path = folder / f"{stem}.png"
            if not path.is_file():
                return None
            labels = read_label(path)
            _check_shape(path, labels.shape, shape, "prediction")
            out[s] = StrideResult(labels, _read_map(folder / "confidence", stem, shape),
                                  _read_map(folder / "margin", stem, shape))
        return out


def _check_shape(path: Path, got: tuple[int, ...], want: tuple[int, ...], what: str) -> None:
    if tuple(got) != tuple(want):
        raise DataError(path, f"{what} is {got[1] if len(got) > 1 else '?'}x{got[0]} but the image is "
                              f"{want[1]}x{want[0]}")


def _read_map(folder: Path, stem: str, shape: tuple[int, int]) -> np.ndarray | None:
    """A float32 map in [0, 1] from ``folder/<stem>.npy`` or ``.png``; None when neither exists."""
    npy, png = folder / f"{stem}.npy", folder / f"{stem}.png"
    if npy.is_file():
        try:
            values = np.load(npy, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(npy, f"not a readable .npy array ({exc})") from exc
        if values.ndim != 2 or values.dtype.kind not in "fiu":
            raise DataError(npy, f"expected a 2-D numeric array, got {values.dtype} {values.shape}")
        values = values.astype(np.float32)
    elif png.is_file():
        import cv2

        raw = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        if raw is None or raw.ndim != 2 or raw.dtype not in (np.uint8, np.uint16):
            raise DataError(png, "expected an 8- or 16-bit single-channel PNG")
        values = raw.astype(np.float32) / (255.0 if raw.dtype == np.uint8 else 65535.0)
    else:
        return None
    path = npy if npy.is_file() else png
    _check_shape(path, values.shape, shape, "map")
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise DataError(path, "values must lie in 0..1")
    return values
