"""Reading one label matrix from a MATLAB ``.mat`` file (scipy.io.loadmat; v7.3/HDF5 files are refused)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError


def read_mat_field(path: Path, field: str) -> np.ndarray:
    """The 2-D array ``field`` of ``path``; DataError naming the file for any problem."""
    try:
        import scipy.io
    except ImportError as exc:  # pragma: no cover - scipy is in the 'mat' and 'test' extras
        raise DataError(path, "reading .mat labels needs scipy (pip install 'scipy>=1.8')") from exc
    if not path.is_file():
        raise DataError(path, "label file not found")
    try:
        data = scipy.io.loadmat(str(path), variable_names=[field])
    except NotImplementedError as exc:  # MATLAB v7.3 files are HDF5
        raise DataError(path, f"MATLAB v7.3 (HDF5) .mat files are not supported ({exc})") from exc
    except Exception as exc:  # scipy raises ValueError/TypeError/OSError/... for damaged files
        raise DataError(path, f"not a readable .mat file ({exc})") from exc
    if field not in data:
        raise DataError(path, f".mat file has no variable {field!r}")
    arr = np.asarray(data[field])
    if arr.ndim != 2 or arr.size == 0 or not np.issubdtype(arr.dtype, np.number):
        raise DataError(path, f"variable {field!r} is not a 2-D numeric label matrix (shape {arr.shape})")
    return arr


def shifted_labels(
    path: Path, arr: np.ndarray, num_classes: int, *, minus_one_void: bool = False
) -> np.ndarray:
    """The reference's conversion: values 1..n become 0..n-1 and 0 (and -1 where allowed) becomes void 255."""
    values = np.rint(arr).astype(np.int64)
    if minus_one_void:
        values[values == -1] = 0
    bad = (values < 0) | (values > num_classes)
    if bad.any():
        found = sorted({int(v) for v in np.unique(values[bad])[:5]})
        raise DataError(path, f"label values {found} are outside 0..{num_classes} (0 = void)")
    out = (values - 1).astype(np.int64)
    out[values == 0] = VOID
    return out.astype(np.uint8)
