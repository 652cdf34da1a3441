"""NYUDv2 in the layout of fcn.berkeleyvision.org's ``data/nyud`` (read as its ``nyud_layers.py`` does).

::

    nyud/
      train.txt  val.txt  test.txt        # one index per line, e.g. 5001
      data/images/img_5001.png            # RGB photo
      data/depth/img_5001.png             # depth (16-bit PNG, read as float; the net sees log(depth) - 7.844)
      data/hha/img_5001.png               # HHA encoding of depth (Gupta et al. ECCV 2014), 3 x uint8
      segmentation/img_5001.mat           # field 'segmentation': 0 = void, 1..40 = the 40 classes

In memory the label is 0..39 with void 255 (the reference subtracts 1 from uint8, so 0 wraps to 255).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.formats import Format
from fcn_core.data.formats.matlab import read_mat_field, shifted_labels
from fcn_core.data.palette import full_palette

NYUD_CLASSES: tuple[str, ...] = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror", "floor mat", "clothes",
    "ceiling", "books", "refridgerator", "television", "paper", "towel", "shower curtain", "box",
    "whiteboard", "person", "night stand", "toilet", "sink", "lamp", "bathtub", "bag", "otherstructure",
    "otherfurniture", "otherprop",
)
#: The reference data layer's means (nyud_layers.py): colour in B, G, R order; HHA in file order; log depth.
NYUD_MEAN_BGR = (116.190, 97.203, 92.318)
NYUD_MEAN_HHA = (132.431, 94.076, 118.477)
NYUD_MEAN_LOG_DEPTH = 7.844
NYUD_SPLITS = ("train", "val", "test")




_NAME = re.compile(r"^img_(.+)\.png$", re.IGNORECASE)


def looks_like_nyud(root: Path) -> bool:
    """``data/images`` and ``segmentation`` folders: the reference's NYUDv2 layout."""
    return (root / "data" / "images").is_dir() and (root / "segmentation").is_dir()


def read_split_lists(root: Path, names: tuple[str, ...], stems: set[str]
                     ) -> tuple[dict[str, list[str]], dict[str, Path]]:
    """``<root>/<name>.txt`` split lists that exist (one stem per line); unknown entries are a DataError."""
    splits: dict[str, list[str]] = {}
    files: dict[str, Path] = {}
    for name in names:
        path = root / f"{name}.txt"
        if not path.is_file():
            continue
        try:
            listed = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(path, f"cannot read split file ({exc})") from exc
        missing = [s for s in listed if s not in stems]
        if missing:
            raise DataError(path, f"split lists {len(missing)} image(s) not in the dataset: "
                                  f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        splits[name], files[name] = listed, path
    return splits, files


@dataclass
class NYUDDataset(Dataset):
    """NYUDv2: ``label()`` reads ``segmentation/img_X.mat``; ``depth()``, ``hha()`` and ``inputs()`` give the
    extra channels. Stems are the split files' indices (``5001`` for ``img_5001.png``)."""

    def _read_own_label(self, path: Path) -> np.ndarray:
        if path.suffix.lower() != ".mat":
            return super()._read_own_label(path)
        return shifted_labels(path, read_mat_field(path, "segmentation"), self.num_classes)

    def _extra(self, key: int | str, folder: str) -> Path:
        return self.root / "data" / folder / f"img_{self.sample(key).stem}.png"

    @property
    def input_names(self) -> tuple[str, ...]:
        """The inputs this copy has: "color" plus "depth" / "hha" where their folders exist."""
        extra = tuple(n for n in ("depth", "hha") if (self.root / "data" / n).is_dir())
        return ("color",) + extra

    def depth(self, key: int | str) -> np.ndarray:
        """Raw depth as float32 ``(H, W)`` (the 16-bit PNG's values; the net takes their log)."""
        path = self._extra(key, "depth")
        try:
            with Image.open(path) as im:
                d = np.asarray(im, dtype=np.float32)
        except (OSError, ValueError) as exc:
            raise DataError(path, f"cannot read depth image ({exc})") from exc
        if d.ndim != 2:
            raise DataError(path, f"depth image must have one channel, has shape {d.shape}")
        return d

    def hha(self, key: int | str) -> np.ndarray:
        """The HHA image as uint8 ``(H, W, 3)`` in file channel order."""
        from fcn_core.data.images import read_image

        return read_image(self._extra(key, "hha"))

    def inputs(self, key: int | str, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """``{"color": RGB uint8, "depth": float32, "hha": uint8}`` for ``names`` (default: all available)."""
        readers = {"color": self.image, "depth": self.depth, "hha": self.hha}
        return {n: readers[n](key) for n in (names or self.input_names)}


def open_nyud(root: Path, labels_dir: Path | None = None) -> NYUDDataset:
    """Open the reference NYUDv2 layout under ``root`` (see the module docstring)."""
    from fcn_core.data.layouts import apply_corrections

    img_dir = root / "data" / "images"
    images = {m.group(1): p for p in sorted(img_dir.iterdir()) if (m := _NAME.match(p.name))}
    if not images:
        raise DataError(img_dir, "no img_*.png images found (NYUDv2 layout)")
    samples = []
    for stem, path in images.items():
        mat = root / "segmentation" / f"img_{stem}.mat"
        label = mat if mat.is_file() else None
        samples.append(Sample(stem, path, label, False, label))
    splits, files = read_split_lists(root, NYUD_SPLITS + ("trainval",), set(images))
    apply_corrections(samples, labels_dir)
    return NYUDDataset(root=root, kind="nyud", class_names=list(NYUD_CLASSES), palette=full_palette(None),
                       void_value=255, samples=samples, splits=splits, label_format="mat",
                       labels_dir=labels_dir, split_files=files)


def _open_root(root: Path, *, void_value: int | None = None, labels_dir: Path | None = None):
    """Registry entry point (the reference layout fixes void; ``void_value`` is not used)."""
    return open_nyud(root, labels_dir)


FORMAT = Format("nyud", looks_like_nyud, _open_root,
                "data/images/, data/depth/ or data/hha/, segmentation/img_*.mat (NYUDv2)")
