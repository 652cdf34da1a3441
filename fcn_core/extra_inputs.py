"""The extra inputs (depth, HHA) of photo files given by path, for ``fcn predict`` with an RGB-D/HHA net.

A photo's depth is ``<depth folder>/<stem>.png`` where the folder is ``--depth DIR``, or found beside the
photo's folder as the known layouts keep it: ``../depth/`` (NYUDv2 ``data/images`` → ``data/depth``) or
``../Depth/`` (``fcn demo-data --depth``: ``JPEGImages`` → ``Depth``); HHA likewise (``--hha``, ``../hha/``,
``../HHA/``). A missing or unreadable file is a DataError naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from fcn_core.data.errors import DataError

_BESIDE = {"depth": ("depth", "Depth"), "hha": ("hha", "HHA")}


def extra_file(photo: Path, name: str, folder: Path | None = None) -> Path:
    """Where ``photo``'s ``name`` input ("depth" / "hha") is (see the module docstring)."""
    photo = Path(photo)
    if folder is not None:
        candidates = [Path(folder) / f"{photo.stem}.png"]
    else:
        candidates = [photo.parent.parent / sub / f"{photo.stem}.png" for sub in _BESIDE[name]]
    for path in candidates:
        if path.is_file():
            return path
    where = f"in {folder}" if folder is not None else "beside the photo (" + ", ".join(
        str(c.parent) for c in candidates) + f"); give --{name} DIR"
    raise DataError(photo, f"no {name} file {photo.stem}.png {where}")


def read_extra(path: Path, name: str) -> np.ndarray:
    """Depth as float32 ``(H, W)`` (16-bit PNG values), HHA as uint8 ``(H, W, 3)``."""
    from PIL import Image

    if name == "hha":
        from fcn_core.data.images import read_image

        return read_image(path)
    try:
        with Image.open(path) as im:
            depth = np.asarray(im, dtype=np.float32)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"cannot read depth image ({exc})") from exc
    if depth.ndim != 2:
        raise DataError(path, f"depth image must have one channel, has shape {depth.shape}")
    return depth


def extra_reader(names: tuple[str, ...], folders: dict[str, Path | None]
                 ) -> Callable[[Path], dict[str, np.ndarray]]:
    """``reader(photo_path) -> {name: array}`` for the inputs ``names``."""
    def read(photo: Path) -> dict[str, np.ndarray]:
        return {n: read_extra(extra_file(photo, n, folders.get(n)), n) for n in names}

    return read
