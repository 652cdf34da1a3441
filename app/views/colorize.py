"""Lookup-table colourisation for label maps, error maps and confidence maps (numpy fancy indexing only)."""

from __future__ import annotations

import numpy as np

VOID = 255
#: Colour of classes hidden by the legend's "show only this class" filter, on the label panels.
HIDDEN_RGB = (40, 40, 40)
#: Error-map colours for the foreground/background or selected-class view.
FP_RGB = (230, 40, 40)  # predicted the class (or an object) where the ground truth says otherwise
FN_RGB = (40, 110, 240)  # missed the class (or an object): ground truth has it, prediction does not
SWAP_RGB = (240, 200, 30)  # one object class predicted as another
ERROR_MODES = ("true class", "FP / FN")
CONFIDENCE_MODES = ("max softmax", "margin")


def label_lut(palette: np.ndarray, only_class: int | None = None, *, alpha: int = 255,
              void_alpha: int = 255) -> np.ndarray:
    """A (256, 4) RGBA table for label maps; with ``only_class`` every other class is greyed out."""
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:256]
    lut[:, 3] = alpha
    lut[VOID, 3] = void_alpha
    if only_class is not None:
        keep = lut[only_class].copy()
        lut[:, :3] = HIDDEN_RGB
        lut[:, 3] = alpha
        lut[VOID, 3] = void_alpha
        lut[only_class] = keep
    return lut


def overlay_lut(palette: np.ndarray, only_class: int | None = None) -> np.ndarray:
    """RGBA table for the overlay layer: void and (when filtering) other classes fully transparent."""
    lut = label_lut(palette, None, alpha=255, void_alpha=0)
    if only_class is not None:
        keep = lut[only_class].copy()
        lut[:, 3] = 0
        lut[only_class] = keep
    return lut


def apply_lut(labels: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Colour ``labels`` (H, W) uint8 through ``lut`` (256, C) -> (H, W, C) uint8.

    An RGBA table is gathered as one uint32 per pixel (``np.take`` on a flat table), several times faster
    than indexing a (256, 4) array row by row.
    """
    labels = np.asarray(labels, dtype=np.uint8)
    if lut.shape[1] == 4 and lut.dtype == np.uint8:
        flat = np.ascontiguousarray(lut).view(np.uint32).reshape(256)
        return np.take(flat, labels).view(np.uint8).reshape(*labels.shape, 4)
    return lut[labels]


#: Error colour of classes too dark to see on the dimmed photo (VOC background is black): white.
DARK_ERROR_RGB = (255, 255, 255)


def visible_error_palette(palette: np.ndarray) -> np.ndarray:
    """The palette for "true class" errors: near-black colours (VOC background) become white so that every
    error shows on the dark, dimmed photo of the error panel; other colours are kept (they stay distinct)."""
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:256].copy()
    pal[pal.max(axis=1) < 48] = DARK_ERROR_RGB
    return pal


def grey_dimmed(image: np.ndarray, level: float = 0.4) -> np.ndarray:
    """A dark grey version of an RGB photo: the background of the error panel (errors in colour on top)."""
    rgb = np.asarray(image)[..., :3]
    grey = (rgb[..., 0] * np.float32(0.299 * level) + rgb[..., 1] * np.float32(0.587 * level)
            + rgb[..., 2] * np.float32(0.114 * level)).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def error_rgba(gt: np.ndarray, pred: np.ndarray, palette: np.ndarray, mode: str = "true class",
               only_class: int | None = None) -> np.ndarray:
    """An RGBA error map: transparent where correct or void, coloured where prediction ≠ ground truth.

    ``"true class"`` colours each wrong pixel with its ground-truth class colour, near-black
    (``visible_error_palette``: background errors become white). ``"FP / FN"`` colours
    false positives red and false negatives blue, for ``only_class`` when one is selected, else for
    "any object" vs background (class 0), with object-to-object swaps in yellow.
    """
    valid = gt != VOID
    wrong = valid & (gt != pred)
    if mode == "true class":
        lut = label_lut(visible_error_palette(palette), only_class, void_alpha=0)
        if only_class is not None:  # other true classes (false positives of the class): light grey
            keep = lut[only_class].copy()
            lut[:VOID, :3] = 170
            lut[only_class] = keep
            wrong &= (gt == only_class) | (pred == only_class)
        return apply_lut(np.where(wrong, gt, np.uint8(VOID)), lut)  # correct pixels -> void -> transparent
    # category codes 0 none, 1 FP, 2 FN, 3 swap, coloured through a 4-entry table (no per-mask writes)
    lut = np.zeros((256, 4), np.uint8)
    lut[1], lut[2], lut[3] = (*FP_RGB, 255), (*FN_RGB, 255), (*SWAP_RGB, 255)
    if only_class is not None:
        fp = valid & (pred == only_class) & (gt != only_class)
        fn = valid & (gt == only_class) & (pred != only_class)
        return apply_lut(fp.view(np.uint8) + 2 * fn.view(np.uint8), lut)
    code = np.where(gt == 0, 1, np.where(pred == 0, 2, 3)).astype(np.uint8)
    return apply_lut(np.where(wrong, code, np.uint8(0)), lut)


def _viridis_like() -> np.ndarray:
    """A 256-entry perceptual ramp (dark blue -> teal -> yellow) built from a few anchor colours."""
    anchors = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)
    x = np.linspace(0, len(anchors) - 1, 256)
    i = np.minimum(x.astype(int), len(anchors) - 2)
    t = (x - i)[:, None]
    return np.round(anchors[i] * (1 - t) + anchors[i + 1] * t).astype(np.uint8)


CONFIDENCE_LUT = _viridis_like()
_CONFIDENCE_RGBA = np.concatenate([CONFIDENCE_LUT, np.full((256, 1), 255, np.uint8)], axis=1)


def confidence_rgb(values: np.ndarray) -> np.ndarray:
    """Colour a float map in [0, 1] (max softmax or top-1 − top-2 margin) with a perceptual ramp (RGBA)."""
    scaled = np.multiply(values, 255.0, dtype=np.float32)
    np.clip(scaled, 0, 255, out=scaled)
    return apply_lut(scaled.astype(np.uint8), _CONFIDENCE_RGBA)
