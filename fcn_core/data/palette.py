"""Class palettes: the VOC bit-interleaving colormap, CamVid's SegNet colours, colourisation by table."""

from __future__ import annotations

import numpy as np

from fcn_core.data.names import name_key

VOC_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
    "tvmonitor",
)


CAMVID_CLASSES: tuple[str, ...] = (
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian",
    "Bicyclist",
)
# The colours SegNet's CamVid release draws its 11 classes with (R, G, B), in class order.
CAMVID_COLORS: tuple[tuple[int, int, int], ...] = (
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
    (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192),
)


# SegNet draws CamVid's void ("Unlabelled") black; in memory void is 255, so that entry gets the colour.
CAMVID_VOID_COLOR = (0, 0, 0)


def known_palette(class_names) -> np.ndarray | None:
    """The published colours of a known class list as a 256-entry palette (class colours first, the void
    entry 255 in the list's void colour), else None (VOC colours apply).

    Known: CamVid's 11 classes (SegNet's colours, void black; VOC's void colour is close to Pole's).
    Names are compared ignoring case, spaces and punctuation, so "sign symbol" matches "SignSymbol".
    """
    keys = [name_key(n) for n in class_names]
    if keys != [name_key(n) for n in CAMVID_CLASSES]:
        return None
    pal = voc_palette(256)
    pal[: len(CAMVID_COLORS)] = CAMVID_COLORS
    pal[255] = CAMVID_VOID_COLOR
    return pal


def voc_palette(n: int = 256) -> np.ndarray:
    """The VOC colormap as an ``(n, 3)`` uint8 array (1 -> 128,0,0; 2 -> 0,128,0; ...; 255 -> 224,224,192)."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def full_palette(colors: np.ndarray | None) -> np.ndarray:
    """Return a 256-entry uint8 palette: ``colors`` for the first entries, VOC colours for the rest."""
    pal = voc_palette(256)
    if colors is not None:
        colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        pal[: len(colors)] = colors[:256]
    return pal


def colorize(labels: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Colour a label map ``(H, W)`` uint8 into ``(H, W, 3)`` RGB uint8 by table lookup."""
    lut = full_palette(palette)
    return lut[np.asarray(labels, dtype=np.uint8)]
