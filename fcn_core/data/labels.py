"""Label files: palette PNGs (mode P, VOC colours), index PNGs (mode L) and RGB-colour PNGs.

In memory a label map is ``uint8 (H, W)`` with 255 = void. Files may use another void value (CamVid: 11);
reading maps it to 255 and writing an index PNG maps 255 back. Every write is atomic.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core import VOID
from fcn_core.data.atomic import atomic_write_bytes
from fcn_core.data.errors import DataError
from fcn_core.data.images import open_checked
from fcn_core.data.palette import full_palette


def _colour_keys(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def labels_from_colours(rgb: np.ndarray, palette: np.ndarray, path: str | os.PathLike[str] | None = None,
                        num_classes: int | None = None, *, void_colour: bool = True) -> np.ndarray:
    """Map an RGB colour label ``(H, W, 3)`` back to indices through ``palette``.

    Entries ``0..num_classes-1`` and 255 (void; unless ``void_colour`` is False, for colour tables that have
    no void colour) are accepted; any other colour is a DataError that lists them.
    """
    pal = full_palette(palette)
    n = len(pal) if num_classes is None else num_classes
    allowed = list(range(min(n, 256)))
    if VOID not in allowed and void_colour:
        allowed.append(VOID)
    lut_keys = _colour_keys(pal[allowed])
    lut_vals = np.asarray(allowed, dtype=np.uint8)
    # First occurrence wins if a palette repeats a colour.
    uniq_keys, first = np.unique(lut_keys, return_index=True)
    keys = _colour_keys(rgb)
    colours, inverse = np.unique(keys.ravel(), return_inverse=True)
    pos = np.searchsorted(uniq_keys, colours)
    pos = np.clip(pos, 0, len(uniq_keys) - 1)
    known = uniq_keys[pos] == colours
    if not known.all():
        bad = colours[~known][:10]
        listed = ", ".join(f"({k >> 16},{(k >> 8) & 255},{k & 255})" for k in bad.tolist())
        more = "" if (~known).sum() <= 10 else f" and {int((~known).sum()) - 10} more"
        raise DataError(path, f"label contains colours that are not in the palette: {listed}{more}")
    values = lut_vals[first[pos]]
    return values[inverse].reshape(keys.shape)


#: Pillow modes of 16/32-bit (and float) single-channel images: index labels wider than 8 bits.
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def index_values(img: Image.Image, path: str | os.PathLike[str]) -> np.ndarray:
    """The class-index values of a single-channel label image (P, L, 16/32-bit, float) as an int64 array.

    Float images (TIFF) must hold whole numbers; anything else is a DataError naming the first bad value.
    """
    mode = img.mode
    if mode in ("P", "L", "1"):
        return np.asarray(img, dtype=np.uint8).astype(np.int64)
    if mode not in WIDE_MODES:
        raise DataError(path, f"label image mode {mode!r} does not hold class indices")
    raw = np.asarray(img)
    if raw.dtype.kind == "f":
        whole = np.isfinite(raw) & (raw == np.round(raw))
        if not whole.all():
            y, x = np.argwhere(~whole)[0]
            value = float(raw[y, x])
            raise DataError(path, f"label has value {value:g} at (x={x}, y={y}), not a whole class index")
    return raw.astype(np.int64)


def narrow_index_values(values: np.ndarray, path: str | os.PathLike[str], *, void_value: int = VOID,
                        num_classes: int | None = None) -> np.ndarray:
    """Index values of any width as uint8 when every one is a class (``< num_classes``), the file's void
    value or 255; otherwise a DataError naming the file, the first bad value (raster order) and where it is.
    Without ``num_classes`` any value up to 255 is accepted."""
    limit = VOID + 1 if num_classes is None else num_classes
    ok = (values >= 0) & ((values < limit) | (values == void_value) | (values == VOID))
    if not ok.all():
        y, x = np.argwhere(~ok)[0]
        bad = np.unique(values[~ok])
        first = int(values[y, x])
        what = f"classes 0..{limit - 1}"
        listed = ", ".join(map(str, bad[:6].tolist())) + (" ..." if bad.size > 6 else "")
        more = "" if bad.size == 1 else f" ({bad.size} bad values in all: {listed})"
        hint = ""
        if first >= 1000 and (bad >= 1000).all():
            hint = "; it looks like an instance-id map (class*1000 + instance, e.g. Cityscapes *_instanceIds)"
        raise DataError(path, f"label has value {first} at (x={x}, y={y}): neither {what} nor void"
                              f"{more}{hint}")
    return values.astype(np.uint8)


def read_label(path: str | os.PathLike[str], *, palette: np.ndarray | None = None, void_value: int = VOID,
               num_classes: int | None = None) -> np.ndarray:
    """Read a label PNG as ``uint8 (H, W)`` with void → 255.

    Mode P and L files hold class indices, and so do 16/32-bit PNGs and TIFFs (modes I;16, I, F) when every
    value is a class or void (else a DataError names the first bad value); RGB files are mapped back through
    ``palette`` (VOC colours when None). ``void_value`` is the file's void value. With ``num_classes`` set,
    any value that is neither a class nor void is a DataError naming the values.
    """
    p = Path(path)
    img = open_checked(p)
    mode = img.mode
    if mode in ("P", "L"):
        arr = np.asarray(img, dtype=np.uint8)
    elif mode in ("RGB", "RGBA"):
        arr = labels_from_colours(np.asarray(img.convert("RGB")), full_palette(palette), p, num_classes)
        void_value = VOID  # colours already decoded to in-memory indices
    elif mode in WIDE_MODES:
        try:
            arr = narrow_index_values(index_values(img, p), p, void_value=void_value, num_classes=num_classes)
        except DataError as exc:
            raise DataError(p, f"{mode} (16/32-bit) {exc.problem}") from exc
    else:
        raise DataError(p, f"unsupported label image mode {mode!r}; expected P, L, RGB or 16/32-bit indices")
    arr = np.ascontiguousarray(arr)
    if void_value != VOID:
        arr = arr.copy()
        arr[arr == void_value] = VOID
    if num_classes is not None:
        bad = np.unique(arr[(arr >= num_classes) & (arr != VOID)])
        if bad.size:
            raise DataError(p, f"label has values {bad.tolist()[:10]} that are neither classes "
                               f"0..{num_classes - 1} nor void")
    return arr


def _check_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"label map must be 2-D (H, W), got shape {labels.shape}")
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError("label values must be in 0..255")
        labels = labels.astype(np.uint8)
    return np.ascontiguousarray(labels)


def encode_palette_png(labels: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """PNG bytes of a mode-P image with the 256-colour palette (VOC colours for entries not given)."""
    img = Image.fromarray(_check_labels(labels), mode="P")
    img.putpalette(full_palette(palette).ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def write_palette_png(path: str | os.PathLike[str], labels: np.ndarray,
                      palette: np.ndarray | None = None) -> None:
    """Write labels (void 255) as a mode-P PNG with the given/VOC palette, atomically."""
    data = encode_palette_png(labels, palette)  # encode first: a failure never touches the old file
    atomic_write_bytes(path, data)


def write_index_png(path: str | os.PathLike[str], labels: np.ndarray, void_value: int = VOID) -> None:
    """Write labels as a mode-L index PNG, mapping in-memory void 255 to ``void_value``, atomically."""
    arr = _check_labels(labels)
    if void_value != VOID:
        if (arr == void_value).any():
            # Would be read back as void: refuse rather than silently lose a class.
            raise ValueError(f"{path}: labels contain {void_value}, which this format uses for void")
        arr = arr.copy()
        arr[arr == VOID] = void_value
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def read_png_palette(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The ``(256, 3)`` palette stored in a mode-P PNG, or None for other modes."""
    img = open_checked(path)
    if img.mode != "P":
        return None
    pal = np.zeros((256, 3), dtype=np.uint8)
    raw = np.frombuffer(bytes(img.getpalette() or []), dtype=np.uint8)
    raw = raw[: (len(raw) // 3) * 3].reshape(-1, 3)[:256]
    pal[: len(raw)] = raw
    return pal
