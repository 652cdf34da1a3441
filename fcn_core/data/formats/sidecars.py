"""The sidecar formats (a class table file beside the labels) and SBD, in detection order.

Each entry has the fields of the format registry: ``name``, ``detect(root) -> bool``, ``open(root, *,
void_value=None, labels_dir=None) -> Dataset`` and ``layout`` (what the folder must hold). They go before
the original layouts (VOC, index pairs), whose folders they share: a CVAT export is a VOC tree, a Datumaro
or Kaggle folder an ``images/`` + ``masks/`` pair, and their sidecar's names and colours must win.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from fcn_core.data.datasets import Dataset
from fcn_core.data.formats import cvat, datumaro, kaggle, sbd


class SidecarFormat(NamedTuple):
    """A format: its name, a cheap detector (folder names and file existence only), a lazy reader, layout."""

    name: str
    detect: Callable[[Path], bool]
    open: Callable[..., Dataset]
    layout: str


SIDECAR_FORMATS = [
    SidecarFormat("cvat-mask", cvat.detect, cvat.open_root, cvat.LAYOUT),
    SidecarFormat("datumaro", datumaro.detect, datumaro.open_root, datumaro.LAYOUT),
    SidecarFormat("kaggle", kaggle.detect, kaggle.open_root, kaggle.LAYOUT),
    SidecarFormat("sbd", sbd.detect, sbd.open_root, sbd.LAYOUT),
]


def open_sidecar(path: str | os.PathLike[str], *, void_value: int | None = None,
                 labels_dir: str | os.PathLike[str] | None = None) -> Dataset | None:
    """The dataset at ``path`` if one of :data:`SIDECAR_FORMATS` recognises it, else None."""
    root = Path(path)
    if not root.is_dir():
        return None
    for fmt in SIDECAR_FORMATS:
        if fmt.detect(root):
            return fmt.open(root, void_value=void_value,
                            labels_dir=Path(labels_dir) if labels_dir is not None else None)
    return None
