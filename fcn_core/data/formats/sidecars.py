"""The sidecar formats (a class table file beside the labels) and SBD, in detection order.

Each is a registry :class:`~fcn_core.data.formats.Format`: ``name``, ``detect(root) -> bool``,
``open(root, *, void_value=None, labels_dir=None) -> Dataset`` and ``layout`` (what the folder must hold).
The registry puts them before the original layouts (VOC, index pairs), whose folders they share: a CVAT
export is a VOC tree, a Datumaro or Kaggle folder an ``images/`` + ``masks/`` pair, and their sidecar's
names and colours must win.
"""

from __future__ import annotations

from fcn_core.data.formats import Format, cvat, datumaro, kaggle, sbd

SIDECAR_FORMATS = [
    Format("cvat-mask", cvat.detect, cvat.open_root, cvat.LAYOUT),
    Format("datumaro", datumaro.detect, datumaro.open_root, datumaro.LAYOUT),
    Format("kaggle", kaggle.detect, kaggle.open_root, kaggle.LAYOUT),
    Format("sbd", sbd.detect, sbd.open_root, sbd.LAYOUT),
]
