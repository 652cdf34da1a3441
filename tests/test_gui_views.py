"""Qt-free parts of the app views: LUT colouring, error maps and the stride cache."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from app.stride_cache import StrideCache
from app.views import colorize
from fcn_core.data.palette import voc_palette


def test_label_lut_matches_palette_and_filter_greys_others():
    pal = voc_palette()
    labels = np.array([[0, 1, 2], [255, 15, 1]], np.uint8)
    rgba = colorize.apply_lut(labels, colorize.label_lut(pal))
    assert np.array_equal(rgba[..., :3], pal[labels]) and (rgba[..., 3] == 255).all()
    only = colorize.apply_lut(labels, colorize.label_lut(pal, only_class=1))
    assert (only[labels == 1, :3] == pal[1]).all()
    assert (only[(labels != 1), :3] == colorize.HIDDEN_RGB).all()
    over = colorize.apply_lut(labels, colorize.overlay_lut(pal, only_class=15))
    assert over[1, 0, 3] == 0 and over[1, 1, 3] == 255 and over[0, 1, 3] == 0


def test_error_map_modes():
    pal = voc_palette()
    gt = np.array([[0, 1, 2, 255], [3, 3, 0, 1]], np.uint8)
    pred = np.array([[0, 0, 2, 7], [1, 3, 4, 1]], np.uint8)
    e = colorize.error_rgba(gt, pred, pal, "true class")
    wrong = (gt != pred) & (gt != 255)
    assert np.array_equal(e[..., 3] > 0, wrong)
    vis = colorize.visible_error_palette(pal)
    assert (e[0, 1, :3] == vis[1]).all() and (e[1, 0, :3] == vis[3]).all()
    assert tuple(e[1, 2, :3]) == colorize.DARK_ERROR_RGB  # background (black) error drawn white
    assert (vis[1:21] == pal[1:21]).all()  # object colours unchanged
    assert len({tuple(c) for c in vis[:21]}) == 21  # white background stays distinct from every class
    dim = colorize.grey_dimmed(np.full((2, 2, 3), 255, np.uint8))
    assert dim.max() < 110 and (dim[..., 0] == dim[..., 2]).all()  # dark grey photo under the errors
    f = colorize.error_rgba(gt, pred, pal, "FP / FN")
    assert tuple(f[1, 2, :3]) == colorize.FP_RGB  # object predicted on background
    assert tuple(f[0, 1, :3]) == colorize.FN_RGB  # object missed
    assert tuple(f[1, 0, :3]) == colorize.SWAP_RGB  # one object class for another
    c = colorize.error_rgba(gt, pred, pal, "FP / FN", only_class=3)
    assert tuple(c[1, 0, :3]) == colorize.FN_RGB and c[0, 1, 3] == 0


def test_confidence_colours_are_monotone_ramp():
    rgb = colorize.confidence_rgb(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert rgb.shape == (1, 3, 4) and (rgb[..., 3] == 255).all()
    lum = rgb[0, :, :3].astype(float) @ [0.3, 0.6, 0.1]
    assert lum[0] < lum[1] < lum[2]


def _result(h=10, w=10):
    return SimpleNamespace(labels=np.zeros((h, w), np.uint8), confidence=np.zeros((h, w), np.float32),
                           margin=np.zeros((h, w), np.float32))


def test_stride_cache_lru_bounds():
    cache = StrideCache(max_entries=4)
    for i in range(3):
        cache.put_all(f"s{i}", "m", {32: _result(), 16: _result()})
    assert len(cache) == 4 and cache.get("s0", "m", 32) is None  # oldest evicted
    assert cache.get("s1", "m", 32) is not None and cache.get("s2", "m", 16) is not None
    assert cache.get_all("s2", "m", (32, 16)) is not None and cache.get_all("s2", "other", (32,)) is None
    per_entry = _result().labels.nbytes + 2 * _result().confidence.nbytes
    assert cache.nbytes == 4 * per_entry
    small = StrideCache(max_entries=100, max_bytes=3 * per_entry)
    for i in range(10):
        small.put(f"s{i}", "m", 8, _result())
    assert len(small) == 3 and small.nbytes <= 3 * per_entry
    small.discard_stem("s9")
    assert small.get("s9", "m", 8) is None and len(small) == 2
