"""Live preview of a brush stroke on the ground-truth panel (and the overlay when it shows the labels):
recolour and repaint only the dirty rectangle."""

from __future__ import annotations

import numpy as np

from app.views.partial_repaint import repaint_rect


def preview_rect(window, labels: np.ndarray, rect: tuple[int, int, int, int]) -> bool:
    """Recolour ``rect`` of the window's GT panel from ``labels`` with the window's palette and repaint only
    that rectangle. False (nothing done) when the panel does not show an RGB(A) picture of this size."""
    from app.views.colorize import label_lut

    item = window.panels["gt"].image_item
    image = item.image
    if image is None or image.ndim != 3 or image.shape[:2] != labels.shape or image.dtype != np.uint8:
        return False
    grid = getattr(window, "grid", None)
    lut = label_lut(window.palette, getattr(grid, "only_class", None))[:, : image.shape[2]]
    y0, y1, x0, x1 = rect
    image[y0:y1, x0:x1] = lut[labels[y0:y1, x0:x1]]
    repaint_rect(item, rect)
    if grid is not None and hasattr(grid, "overlay_labels_changed"):
        grid.overlay_labels_changed(rect)  # the overlay shows the labels while a painting tool is active
    return True
