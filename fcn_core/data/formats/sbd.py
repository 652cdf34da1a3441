"""The Semantic Boundaries Dataset (Hariharan et al. 2011; FCN's extra VOC training data).

Layout (``benchmark_RELEASE/dataset``): ``img/<stem>.jpg``, ``cls/<stem>.mat`` (a MATLAB struct ``GTcls``
whose ``Segmentation`` field is the class map, PASCAL VOC's 21 classes), ``inst/`` (instance maps, not read)
and ``train.txt`` / ``val.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats.sidecar_common import build_table, list_files, make_dataset, read_split_files
from fcn_core.data.images import IMAGE_SUFFIXES
from fcn_core.data.palette import VOC_CLASSES, voc_palette

SPLITS = ("train", "val", "train_noval", "trainval", "test")
LAYOUT = "img/ and cls/*.mat (GTcls.Segmentation), train.txt / val.txt"


def detect(root: Path) -> bool:
    """SBD's ``cls/`` beside ``img/``."""
    return (root / "cls").is_dir() and (root / "img").is_dir()


def read_sbd_mat(path: Path) -> np.ndarray:
    """``GTcls.Segmentation`` of an SBD ``cls/*.mat`` file as an int64 array of class indices."""
    try:
        import scipy.io
        from scipy.io.matlab import MatReadError
    except ImportError as exc:
        raise DataError(path, "reading SBD .mat labels needs scipy (pip install scipy)") from exc

    try:
        mat = scipy.io.loadmat(str(path), mat_dtype=True, squeeze_me=True, struct_as_record=False)
    except FileNotFoundError as exc:
        raise DataError(path, "file not found") from exc
    except (MatReadError, OSError, ValueError, TypeError, NotImplementedError) as exc:
        raise DataError(path, f"not a readable MATLAB .mat file ({exc})") from exc
    if "GTcls" not in mat:
        if "GTinst" in mat:
            raise DataError(path, "holds GTinst (an SBD instance map: object ids, not classes); class maps "
                                  "are the cls/*.mat files")
        names = ", ".join(k for k in mat if not k.startswith("__"))
        raise DataError(path, f"no GTcls struct (variables: {names or 'none'})")
    seg = getattr(mat["GTcls"], "Segmentation", None)
    if seg is None:
        raise DataError(path, "GTcls has no Segmentation field")
    seg = np.asarray(seg)
    if seg.ndim != 2 or seg.dtype.kind not in "uif":
        raise DataError(path, f"GTcls.Segmentation is not a 2-D class map (shape {seg.shape}, {seg.dtype})")
    if seg.dtype.kind == "f":
        if not np.isfinite(seg).all() or (seg != np.round(seg)).any():
            raise DataError(path, "GTcls.Segmentation holds values that are not whole class indices")
    return seg.astype(np.int64)


def open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None) -> Dataset:
    """Open an SBD ``dataset`` folder (see the module docstring)."""
    pal = voc_palette(len(VOC_CLASSES))
    table = build_table(root / "cls", [(i, n, tuple(pal[i].tolist())) for i, n in enumerate(VOC_CLASSES)])
    images = list_files(root / "img", IMAGE_SUFFIXES)
    labels = list_files(root / "cls", (".mat",))
    orphans = sorted(set(labels) - set(images))
    if orphans:
        raise DataError(labels[orphans[0]], f"class map has no image in img/ ({len(orphans)} such files: "
                                            f"{', '.join(orphans[:5])})")
    if not images:
        raise DataError(root / "img", "no images found")
    samples = [Sample(s, p, labels.get(s), False, labels.get(s)) for s, p in images.items()]
    split_files = {n: root / f"{n}.txt" for n in SPLITS if (root / f"{n}.txt").is_file()}
    splits = read_split_files(split_files, set(images))
    return make_dataset(root, "sbd", table, samples, splits=splits, split_files=split_files,
                        void_value=void_value, labels_dir=labels_dir)
