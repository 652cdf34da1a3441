"""The extra input channels of a dataset image (depth, HHA), read for their panels (Qt-free).

NYUDv2 readers give ``depth``/``hha`` (``dataset.inputs``); a VOC-layout dataset made with
``fcn demo-data --depth`` has ``Depth/<stem>.png`` (and ``HHA/<stem>.png``) beside its photos. Only the
channels the dataset has are read; a file that does not open is left out with its message (the panel says
why), never the end of showing the image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fcn_core.training.tasks import SIDECARS, sample_arrays

CHANNELS = ("depth", "hha")


def available_channels(dataset) -> tuple[str, ...]:
    """The extra channels ``dataset`` has: a subset of ("depth", "hha")."""
    if dataset is None:
        return ()
    names = getattr(dataset, "input_names", None)
    if names is not None:
        return tuple(n for n in CHANNELS if n in names)
    if getattr(dataset, "root", None) is None:
        return ()
    root = Path(dataset.root)
    return tuple(n for n in CHANNELS if (root / SIDECARS[n]).is_dir())


def read_channels(dataset, stem: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``({name: array}, {name: error message})`` for the extra channels of image ``stem``."""
    arrays: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for name in available_channels(dataset):
        try:
            arrays.update(sample_arrays(dataset, stem, (name,)))
        except (OSError, ValueError) as exc:  # DataError is a ValueError and names the file
            errors[name] = str(exc)
    return arrays, errors


def depth_range(depth: np.ndarray) -> tuple[float, float] | None:
    """(near, far) of the valid (non-zero, finite) depth values, or None when there are none."""
    d = np.asarray(depth, np.float64)
    valid = d[np.isfinite(d) & (d > 0)]
    if valid.size == 0:
        return None
    return float(np.percentile(valid, 1)), float(np.percentile(valid, 99))
