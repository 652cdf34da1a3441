"""Where predictions come from: a live model, or label PNGs on disk (``fcn predict``'s output or any model's).

Both give ``results(stem, image) -> {stride: StrideResult} | None`` (None: no prediction for that image), so
what is downstream (regions, scores) does not care which.

A prediction folder is read by ``fcn_core.data.predictions`` (the same reader as the app's stored
predictions and ``fcn evaluate --pred``): flat (``DIR/<stem>.png``, one stride) or one sub-folder per stride
(``DIR/32s/``, ``DIR/16s/``, ``DIR/8s/``, as ``fcn predict --stride all`` writes), with the optional
confidence and margin maps ``fcn predict --save-confidence`` writes (``DIR/confidence/[<s>s/]<stem>.png``,
16-bit, value / 65535; ``margin/`` likewise).
"""

from __future__ import annotations

import os
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
    """Stored predictions by stem (flat, or ``<s>s/`` sub-folders), with confidence maps where stored.

    ``stride`` names the stride of a flat folder (else ``UNKNOWN_STRIDE`` and ``stride_known`` False).
    ``dataset`` gives the class names and palette the files are read with. Raises DataError when ``root`` is
    not a folder or holds no PNG.
    """

    def __init__(self, root: str | os.PathLike[str], *, stride: int | None = None, dataset=None) -> None:
        from fcn_core.data.predictions import FLAT_STRIDE, PredictionFolder

        names = list(dataset.class_names) if dataset is not None else [str(i) for i in range(255)]
        self.folder = PredictionFolder(root, class_names=names,
                                       palette=getattr(dataset, "palette", None))
        self.root = Path(root)
        if self.folder.per_stride_dirs:
            self.stride_known = True
            self._keys = {s: s for s in self.folder.strides}
        else:
            self.stride_known = stride is not None
            self._keys = {FLAT_STRIDE: stride if stride is not None else UNKNOWN_STRIDE}
        self.strides: tuple[int, ...] = tuple(self._keys.values())

    def results(self, stem: str, image: np.ndarray) -> dict | None:
        """``{stride: StrideResult}`` from the files of ``stem``; None when a stride has no PNG for it."""
        from fcn_core.predictor import StrideResult

        if any(stem not in files for files in self.folder.files.values()):
            return None
        shape = image.shape[:2]
        out = {}
        for s, key in self._keys.items():
            labels = self.folder.read_labels(stem, s)
            _check_shape(self.folder.path(stem, s), labels.shape, shape, "prediction")
            out[key] = StrideResult(labels, self._map(stem, s, "confidence", shape),
                                    self._map(stem, s, "margin", shape))
        return out

    def _map(self, stem: str, stride: int, kind: str, shape: tuple[int, int]) -> np.ndarray | None:
        from fcn_core.data.predictions import read_probability_png

        path = self.folder.path(stem, stride, kind)
        if not path.is_file():
            return None
        values = read_probability_png(path)
        _check_shape(path, values.shape, shape, "map")
        return values


def _check_shape(path: Path, got: tuple[int, ...], want: tuple[int, ...], what: str) -> None:
    if tuple(got) != tuple(want):
        raise DataError(path, f"{what} is {got[1] if len(got) > 1 else '?'}x{got[0]} but the image is "
                              f"{want[1]}x{want[0]}")
