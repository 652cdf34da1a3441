"""Repaint one rectangle of a pyqtgraph ImageItem without re-rendering the whole picture.

``ImageItem.updateImage`` converts the whole array to a new QImage on the next paint (a 2048² RGBA map
costs tens of milliseconds). After an edit only the dirty rectangle changed, so this copies that rectangle
into the item's existing QImage (ARGB32, i.e. BGRA bytes) and asks Qt to repaint just that area.
Used by the GT panel's ``gt_changed`` and the editor's live preview (measured in ``bench/gui_edit.py``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

_ARGB = (QImage.Format.Format_ARGB32, QImage.Format.Format_RGB32)  # not premultiplied: bytes copy as is


def qimage_pixels(qimage: QImage) -> np.ndarray:
    """A writable ``(H, W, 4)`` uint8 view (B, G, R, A order) of a 32-bit QImage's pixels."""
    h, w, bpl = qimage.height(), qimage.width(), qimage.bytesPerLine()
    buf = np.frombuffer(qimage.bits(), dtype=np.uint8).reshape(h, bpl)
    return buf[:, : w * 4].reshape(h, w, 4)


def repaint_rect(item, rect: tuple[int, int, int, int] | None) -> bool:
    """Copy ``item.image[y0:y1, x0:x1]`` (RGB or RGBA uint8, already updated in place by the caller) into the
    item's rendered QImage and schedule a repaint of that rectangle only.

    Falls back to a full ``updateImage`` (returns False) when the item has not rendered yet, when the rect is
    None, or when the image is not plain 8-bit colour shown with levels (0, 255).
    """
    image, qimage = item.image, getattr(item, "qimage", None)
    plain = (image is not None and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (3, 4)
             and item.lut is None and getattr(item, "_renderRequired", True) is False)
    if rect is None or qimage is None or not plain or qimage.format() not in _ARGB \
            or (qimage.height(), qimage.width()) != image.shape[:2]:
        if image is not None:
            item.updateImage(image, autoLevels=False, levels=(0, 255))
        return False
    levels = item.levels
    if levels is not None and (np.ndim(levels) != 1 or tuple(np.asarray(levels).tolist()) != (0, 255)):
        item.updateImage(image, autoLevels=False, levels=(0, 255))
        return False
    y0, y1, x0, x1 = rect
    src = image[y0:y1, x0:x1]
    dst = qimage_pixels(qimage)[y0:y1, x0:x1]
    dst[..., 0], dst[..., 1], dst[..., 2] = src[..., 2], src[..., 1], src[..., 0]
    dst[..., 3] = src[..., 3] if src.shape[2] == 4 else 255
    item.update(QRectF(x0, y0, x1 - x0, y1 - y0))
    return True
