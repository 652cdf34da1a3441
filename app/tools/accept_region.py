"""Accept-prediction region: click a connected region of the error map (prediction ≠ labels) to take the
prediction there."""

from __future__ import annotations

import cv2
import numpy as np

from app.document import Point
from app.tools.modes import Drag, ToolContext, pixel_of, wait_for_release


def error_region(labels: np.ndarray, prediction: np.ndarray, x: int, y: int) -> np.ndarray | None:
    """The 4-connected region of disagreeing pixels around (x, y) as a bool mask; None if they agree there.

    Void labels count as errors where the prediction says something (taking the prediction fills them).
    """
    if labels[y, x] == prediction[y, x]:
        return None
    error = (labels != prediction).view(np.uint8)
    mask = np.zeros((error.shape[0] + 2, error.shape[1] + 2), dtype=np.uint8)
    cv2.floodFill(error, mask, (int(x), int(y)), 0, 0, 0, 4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8))
    return mask[1:-1, 1:-1].view(bool)


def accept_region_drag(ctx: ToolContext, pos: Point) -> Drag:
    """Take the prediction over the clicked error region (one undo step)."""
    px = pixel_of(ctx.document, pos)
    pred = ctx.prediction
    if px is not None and pred is not None and pred.shape == ctx.document.shape:
        region = error_region(ctx.document.labels, pred, *px)
        if region is not None:
            ctx.document.set_region(region, pred)
    return wait_for_release()
