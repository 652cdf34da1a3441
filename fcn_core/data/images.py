"""Reading photos: any format Pillow knows, EXIF orientation applied, always RGB uint8 ``(H, W, 3)``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fcn_core.data.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def open_checked(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image file with Pillow and fully decode it, turning every failure into a DataError."""
    p = Path(path)
    try:
        if p.stat().st_size == 0:
            raise DataError(p, "file is empty (0 bytes)")
        with open(p, "rb") as fh:
            img = Image.open(fh)
            img.load()  # decode now so truncation is reported here, not later
    except DataError:
        raise
    except FileNotFoundError as exc:
        raise DataError(p, "file not found") from exc
    except PermissionError as exc:
        raise DataError(p, "permission denied (cannot read the file)") from exc
    except IsADirectoryError as exc:
        raise DataError(p, "is a folder, not an image file") from exc
    except UnidentifiedImageError as exc:
        raise DataError(p, "not an image file (unknown or corrupt format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated/corrupt data as OSError ("image file is truncated", "broken data stream").
        raise DataError(p, f"corrupt or truncated image ({exc})") from exc
    return img


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` from the header only (cheap; no pixel decoding), EXIF rotation applied."""
    p = Path(path)
    try:
        with Image.open(p) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except FileNotFoundError as exc:
        raise DataError(p, "file not found") from exc
    except PermissionError as exc:
        raise DataError(p, "permission denied (cannot read the file)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(p, "not a readable image file") from exc
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a photo as RGB uint8 ``(H, W, 3)``: EXIF rotation applied; gray, RGBA, CMYK, palette converted."""
    img = open_checked(path)
    try:
        img = ImageOps.exif_transpose(img)
        if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            # 16-bit/float gray: scale to 8 bits rather than let Pillow clip to 255.
            arr = np.asarray(img, dtype=np.float64)
            top = 65535.0 if img.mode.startswith("I;16") else max(float(arr.max()), 1.0)
            gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
            return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
        # Alpha is dropped (colour kept as stored), as cv2.imread and training pipelines do.
        rgb = img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise DataError(path, f"cannot convert image to RGB ({exc})") from exc
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
