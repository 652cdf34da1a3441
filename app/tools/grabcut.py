"""GrabCut refine: re-fit one class's outline inside a box or a brushed area to the image (``cv2.grabCut``).

Seeded by what is already known: inside the area, pixels that the current label *or* the prediction give the
class start as probable foreground, the rest as probable background; around the area (a margin of
``MARGIN_PX``) pixels of the class are sure foreground and the others sure background, so the colour models
see both sides. Only pixels inside the area change: those GrabCut keeps become the class; pixels of the
class it drops take the prediction's class there (void where the prediction says the same class or there is
no prediction). Pure numpy/OpenCV: returns an ``AssistEdit`` (one undo step for the caller).
"""

from __future__ import annotations

import cv2
import numpy as np

from app.document import VOID
from app.tools.assist_edit import AssistEdit, edit_from

MARGIN_PX = 16
ITERATIONS = 4


def grabcut_refine(
    image: np.ndarray,
    labels: np.ndarray,
    cls: int,
    *,
    prediction: np.ndarray | None = None,
    box: tuple[int, int, int, int] | None = None,
    area: np.ndarray | None = None,
    iterations: int = ITERATIONS,
    void: int = VOID,
) -> AssistEdit | None:
    """Refine class ``cls`` inside ``box`` = ``(x0, y0, x1, y1)`` (x1/y1 exclusive) or the image-sized bool
    ``area`` (a brushed mask); both given = their intersection. None when nothing changes or GrabCut has
    nothing to separate (no seed of the class, or nothing else)."""
    h, w = labels.shape
    if image.shape[:2] != (h, w) or (prediction is not None and prediction.shape != (h, w)):
        raise ValueError(f"image {image.shape[:2]}, labels {labels.shape} and prediction differ in size")
    roi = np.ones((h, w), dtype=bool) if area is None else np.asarray(area, dtype=bool)
    if roi.shape != (h, w):
        raise ValueError(f"area {roi.shape} does not match the labels {labels.shape}")
    if box is not None:
        x0, y0, x1, y1 = (int(v) for v in box)
        inside_box = np.zeros((h, w), dtype=bool)
        inside_box[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
        roi = roi & inside_box
    elif area is None:
        raise ValueError("give a box or a brushed area")
    rows, cols = np.flatnonzero(roi.any(axis=1)), np.flatnonzero(roi.any(axis=0))
    if rows.size == 0:
        return None
    cy0, cy1 = max(int(rows[0]) - MARGIN_PX, 0), min(int(rows[-1]) + 1 + MARGIN_PX, h)
    cx0, cx1 = max(int(cols[0]) - MARGIN_PX, 0), min(int(cols[-1]) + 1 + MARGIN_PX, w)
    crop = (slice(cy0, cy1), slice(cx0, cx1))
    lab, inside = labels[crop], roi[crop]
    pred = prediction[crop] if prediction is not None else None
    is_cls = lab == cls
    seed_fg = is_cls if pred is None else is_cls | (pred == cls)
    gc = np.where(is_cls, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    gc[inside] = np.where(seed_fg[inside], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    fg_seeds = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    if not fg_seeds.any() or fg_seeds.all():
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    rgb = np.ascontiguousarray(image[crop][:, :, :3], dtype=np.uint8)
    cv2.grabCut(rgb, gc, None, bgd, fgd, max(int(iterations), 1), cv2.GC_INIT_WITH_MASK)
    keep = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    new = lab.copy()
    new[keep] = cls
    dropped = ~keep & is_cls
    if pred is None:
        new[dropped] = void
    else:
        new[dropped] = np.where(pred[dropped] != cls, pred[dropped], void)
    return edit_from(labels, new, inside, (cy0, cx0))
