"""Large images in bounded memory: predict overlapping tiles and keep each tile's centre.

Why the result equals the whole-image prediction (up to floating-point rounding at near-ties):

* every FCN here is a VGG16 trunk whose total stride is 32, so a tile whose origin lies on the 32-pixel grid
  sees its pooling windows (ceil mode), deconvolution phases and output crops exactly where the whole image
  has them;
* an output pixel depends only on input pixels within its receptive field: 245 px either way, measured by
  gradients of each output phase (all 32) of every head (32s, 16s, 8s), with average pooling standing in
  for max pooling (same windows; max pooling passes gradient to one element only). By hand: fc6's 7×7 on
  pool5 covers 404 px, and the 2× / 2× / 8× deconvolutions of the 8s path add 32 + 16 + 8 (460 px wide).
  ``HALO`` = 256 px (that reach rounded up to the 32 grid) of context is added around each tile's centre on
  every side that is not the image border, and only the centre is kept. At the image border tile and image
  end at the same place, so the zero padding is the same too.

So the margin around seams within which labels may differ is zero (tests/test_tiling.py checks tiled ==
whole and fails with a 128 px halo); the price is computing the halos: 8000×6000 with the demo model's
default 1664×1376 tiles computes 2.1× the image's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tile origins lie on this grid (the models' largest stride).
ALIGN = 32
#: Context kept around each tile's centre: the receptive field's reach (245 px) rounded up to ``ALIGN``.
HALO = 256
#: Default working memory for one forward pass, in MB (outputs for the whole image come on top).
DEFAULT_MEMORY_MB = 1024

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Tile:
    """One forward pass: ``box`` (y0, y1, x0, x1) is what is predicted, ``core`` the part that is kept."""

    box: tuple[int, int, int, int]
    core: tuple[int, int, int, int]


@dataclass(frozen=True)
class Tiling:
    """What a tiled prediction did: ``tiles`` forward passes of at most ``tile_size`` (h, w) pixels, each
    keeping a centre of ``core_size`` with ``overlap`` pixels of context on inner sides."""

    tiles: int
    tile_size: tuple[int, int]
    core_size: tuple[int, int]
    overlap: int
    image_size: tuple[int, int]

    def describe(self) -> str:
        """E.g. ``"predicted in 48 tiles of 1024×1024"``."""
        h, w = self.tile_size
        return f"predicted in {self.tiles} tiles of {w}×{h}"


def bytes_per_pixel(model: Any, num_classes: int, num_strides: int, precision: str) -> int:
    """Rough peak memory of one forward pass per input pixel.

    Measured on the CPU (fp32): 230–280 B/px for one pass of the width-1/8 demo model (8 classes, 3 strides)
    on a whole 1–2k² image, ~400 B/px over a run of 1.7k² tiles (the estimate gives 464); ~2.1 KB/px for a
    full-width VGG16. The trunk's cost scales with conv1's channels (its maps are the largest), the heads'
    with classes × strides (float32 logits, softmax, top-2, the tile's results).
    """
    conv1 = getattr(model, "conv1_1", None)
    channels = int(getattr(conv1, "out_channels", 64))
    element = 4 if precision == "fp32" else 2
    return 5 * element * channels + 12 * num_classes * num_strides + 16


def default_max_tile_pixels(loaded: Any, precision: str, memory_mb: float | None = None) -> int:
    """Largest tile (pixels) whose forward pass of ``loaded.model`` fits in ``memory_mb`` (default
    :data:`DEFAULT_MEMORY_MB`)."""
    per_pixel = bytes_per_pixel(loaded.model, loaded.num_classes, len(loaded.strides), precision)
    return max(1, int((memory_mb or DEFAULT_MEMORY_MB) * 2**20 / per_pixel))


def _spans(length: int, parts: int, halo: int) -> list[tuple[int, int, int, int]]:
    """Split ``length`` into at most ``parts`` centres on the ``ALIGN`` grid: [(box0, box1, core0, core1)]."""
    core = max(ALIGN, math.ceil(length / parts / ALIGN) * ALIGN)
    out = []
    for start in range(0, length, core):
        end = min(length, start + core)
        out.append((max(0, start - halo), min(length, end + halo), start, end))
    return out


def plan_tiles(height: int, width: int, max_pixels: int, *, halo: int = HALO) -> list[Tile] | None:
    """Tiles for a ``height`` × ``width`` image, or None when it fits in one pass of ``max_pixels`` (or no
    split makes the passes smaller).

    Chooses the grid that computes the fewest pixels (centres plus halos) with no tile above ``max_pixels``;
    when even the smallest tiles (32-pixel centres) are larger, uses those.
    """
    if height * width <= max_pixels:
        return None
    rows_options = _options(height, halo)
    cols_options = _options(width, halo)
    best: tuple[tuple[int, int], list, list] | None = None
    for rows, (row_sum, row_max) in rows_options.items():
        for cols, (col_sum, col_max) in cols_options.items():
            fits = row_max * col_max <= max_pixels
            # Feasible plans first (fewest computed pixels), else the smallest largest tile.
            key = (0, row_sum * col_sum) if fits else (1, row_max * col_max)
            if best is None or key < best[0]:
                best = (key, rows, cols)
    assert best is not None
    _, rows, cols = best
    if len(rows) * len(cols) == 1:  # no split is smaller than the image itself
        return None
    return [Tile((r[0], r[1], c[0], c[1]), (r[2], r[3], c[2], c[3])) for r in rows for c in cols]


def _options(length: int, halo: int) -> dict[tuple, tuple[int, int]]:
    """Every distinct split of one side: spans → (sum of tile extents, largest tile extent)."""
    out: dict[tuple, tuple[int, int]] = {}
    for parts in range(1, math.ceil(length / ALIGN) + 1):
        spans = tuple(_spans(length, parts, halo))
        if spans not in out:
            extents = [b1 - b0 for b0, b1, _, _ in spans]
            out[spans] = (sum(extents), max(extents))
    return out


def describe_plan(tiles: list[Tile], height: int, width: int, halo: int = HALO) -> Tiling:
    """The :class:`Tiling` summary of a plan."""
    return Tiling(
        tiles=len(tiles),
        tile_size=(max(t.box[1] - t.box[0] for t in tiles), max(t.box[3] - t.box[2] for t in tiles)),
        core_size=(max(t.core[1] - t.core[0] for t in tiles), max(t.core[3] - t.core[2] for t in tiles)),
        overlap=halo,
        image_size=(height, width),
    )


def predict_tiled(
    run_one: Callable[[np.ndarray], dict[int, Any]],
    image: np.ndarray,
    tiles: list[Tile],
    *,
    with_confidence: bool = True,
    progress: Progress | None = None,
    result_type: Callable[..., Any],
) -> dict[int, Any]:
    """Predict ``image`` tile by tile with ``run_one(tile_rgb) -> {stride: StrideResult}`` and stitch the
    centres. Labels are uint8; confidence and margin are stored as float16 (half the memory of float32,
    ample for a [0, 1] map that is drawn with 256 colours). ``progress(done, total)`` after each tile."""
    height, width = image.shape[:2]
    labels: dict[int, np.ndarray] = {}
    stats: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
    for done, tile in enumerate(tiles, start=1):
        y0, y1, x0, x1 = tile.box
        cy0, cy1, cx0, cx1 = tile.core
        part = run_one(np.ascontiguousarray(image[y0:y1, x0:x1]))
        src = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
        dst = (slice(cy0, cy1), slice(cx0, cx1))
        for stride, res in part.items():
            if stride not in labels:
                labels[stride] = np.empty((height, width), np.uint8)
                stats[stride] = None
                if with_confidence and res.confidence is not None:
                    stats[stride] = (np.empty((height, width), np.float16),
                                     np.empty((height, width), np.float16))
            labels[stride][dst] = res.labels[src]
            pair = stats[stride]
            if pair is not None:
                pair[0][dst] = res.confidence[src]
                pair[1][dst] = res.margin[src]
        del part
        if progress is not None:
            progress(done, len(tiles))
    return {
        s: result_type(labels[s], None if stats[s] is None else stats[s][0],
                       None if stats[s] is None else stats[s][1])
        for s in labels
    }

