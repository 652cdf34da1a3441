"""SIFT Flow in the layout of fcn.berkeleyvision.org's ``data/sift-flow`` (as its ``siftflow_layers.py``).

::

    sift-flow/
      trainval.txt  test.txt                                               # one image name per line
      Images/spatial_envelope_256x256_static_8outdoorcategories/NAME.jpg
      SemanticLabels/spatial_envelope_256x256_static_8outdoorcategories/NAME.mat   # field 'S': 0 void, 1..33
      GeoLabels/spatial_envelope_256x256_static_8outdoorcategories/NAME.mat        # field 'S': -1 void, 1..3

In memory: semantic 0..32 and geometric 0..2 (sky, horizontal, vertical), void 255 in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.matlab import read_mat_field, shifted_labels
from fcn_core.data.formats.nyud import read_split_lists
from fcn_core.data.palette import full_palette

SIFTFLOW_CLASSES: tuple[str, ...] = (
    "awning", "balcony", "bird", "boat", "bridge", "building", "bus", "car", "cow", "crosswalk", "desert",
    "door", "fence", "field", "grass", "moon", "mountain", "person", "plant", "pole", "river", "road", "rock",
    "sand", "sea", "sidewalk", "sign", "sky", "staircase", "streetlight", "sun", "tree", "window",
)
GEOMETRIC_CLASSES: tuple[str, ...] = ("sky", "horizontal", "vertical")
#: The reference data layer's mean, B, G, R (siftflow_layers.py).
SIFTFLOW_MEAN_BGR = (114.578, 115.294, 108.353)
SUBDIR = "spatial_envelope_256x256_static_8outdoorcategories"





def looks_like_siftflow(root: Path) -> bool:
    """``Images/spatial_envelope_256x256_static_8outdoorcategories``: the SIFT Flow layout."""
    return (root / "Images" / SUBDIR).is_dir()


@dataclass
class SiftFlowDataset(Dataset):
    """SIFT Flow: ``label()`` is the semantic label (33 classes), ``geo_label()`` the geometric one (sky,
    horizontal, vertical); ``task_labels()`` gives both as ``{"sem": ..., "geo": ...}``."""

    task_class_names: dict[str, list[str]] | None = None

    def _read_own_label(self, path: Path) -> np.ndarray:
        if path.suffix.lower() != ".mat":
            return super()._read_own_label(path)
        return shifted_labels(path, read_mat_field(path, "S"), self.num_classes)

    def geo_label(self, key: int | str) -> np.ndarray | None:
        """The geometric label, uint8 0..2 with void 255 (-1 and 0 in the file); None when missing."""
        s = self.sample(key)
        path = self.root / "GeoLabels" / SUBDIR / f"{s.stem}.mat"
        if not path.is_file():
            return None
        labels = shifted_labels(path, read_mat_field(path, "S"), len(GEOMETRIC_CLASSES), minus_one_void=True)
        self._check_size(s, path, labels)
        return labels

    def task_labels(self, key: int | str) -> dict[str, np.ndarray | None]:
        """``{"sem": semantic labels, "geo": geometric labels}`` (None where a file is missing)."""
        return {"sem": self.label(key), "geo": self.geo_label(key)}


def open_siftflow(root: Path, labels_dir: Path | None = None) -> SiftFlowDataset:
    """Open the reference SIFT Flow layout under ``root`` (see the module docstring)."""
    from fcn_core.data.layouts import apply_corrections

    img_dir = root / "Images" / SUBDIR
    images = {p.stem: p for p in sorted(img_dir.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg")}
    if not images:
        raise DataError(img_dir, "no .jpg images found (SIFT Flow layout)")
    samples = []
    for stem, path in images.items():
        mat = root / "SemanticLabels" / SUBDIR / f"{stem}.mat"
        label = mat if mat.is_file() else None
        samples.append(Sample(stem, path, label, False, label))
    splits, files = read_split_lists(root, ("trainval", "train", "val", "test"), set(images))
    apply_corrections(samples, labels_dir)
    return SiftFlowDataset(root=root, kind="siftflow", class_names=list(SIFTFLOW_CLASSES),
                           palette=full_palette(None), void_value=255, samples=samples, splits=splits,
                           label_format="mat", labels_dir=labels_dir, split_files=files,
                           task_class_names={"geo": list(GEOMETRIC_CLASSES)})


def _open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None):
    """Registry entry point (the reference layout fixes void; ``void_value`` is not used)."""
    return open_siftflow(root, labels_dir)


FORMAT = Format("siftflow", looks_like_siftflow, _open_root,
                "Images/, SemanticLabels/ and GeoLabels/ with *.mat labels (SIFT Flow)")
