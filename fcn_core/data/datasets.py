"""Datasets: samples (image + optional label) plus the class names, palette and void value that travel along.

Opening a dataset only lists files (cheap, even for thousands of images); images and labels are decoded,
converted and validated when asked for, and every problem is a DataError naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fcn_core import VOID
from fcn_core.data.errors import DataError
from fcn_core.data.images import image_size, read_image
from fcn_core.data.labels import read_label

#: How a dataset's label files store classes.
LABEL_FORMATS = ("palette", "index", "rgb", "labelme", "none")


@dataclass
class Sample:
    """An image and its label. ``label_path`` is the label in use (the correction when ``corrected``)."""

    stem: str
    image_path: Path | None
    label_path: Path | None
    corrected: bool = False
    original_label_path: Path | None = None  # the dataset's own label, also when a correction replaces it


@dataclass
class Dataset:
    """A labelled (or unlabelled) image collection. Label maps come back uint8 with void = 255."""

    root: Path
    kind: str  # the format's registry name: "voc", "index", "labelme", "images", "cityscapes", ...
    class_names: list[str]
    palette: np.ndarray  # (256, 3) uint8
    void_value: int  # the void value in the dataset's own label files (255 in memory)
    samples: list[Sample]
    splits: dict[str, list[str]] = field(default_factory=dict)
    label_format: str = "palette"
    labels_dir: Path | None = None
    split_files: dict[str, Path] = field(default_factory=dict)
    #: Reads one of the dataset's own label files as uint8 with void 255 when the files need mapping (label
    #: ids to train ids, a shift, colours); picklable (training workers get the dataset). None: read_label.
    label_decoder: Callable[[Path], np.ndarray] | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {s.stem: i for i, s in enumerate(self.samples)}

    @classmethod
    def scan(cls, path: str | os.PathLike[str], *, void_value: int | None = None,
             labels_dir: str | os.PathLike[str] | None = None, format: str | None = None) -> Dataset:
        """Same as :func:`open_dataset`: list the files without decoding them."""
        return open_dataset(path, void_value=void_value, labels_dir=labels_dir, format=format)

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    @property
    def stems(self) -> list[str]:
        """Sample stems in dataset order."""
        return [s.stem for s in self.samples]

    @property
    def num_classes(self) -> int:
        """Number of classes (void not counted)."""
        return len(self.class_names)

    @property
    def has_labels(self) -> bool:
        """True when at least one sample has a label."""
        return any(s.label_path is not None for s in self.samples)

    def sample(self, key: int | str) -> Sample:
        """The sample at index ``key`` or with stem ``key``."""
        if isinstance(key, str):
            try:
                return self.samples[self._index[key]]
            except KeyError:
                raise DataError(self.root, f"no image with stem {key!r} in this dataset") from None
        return self.samples[key]

    def index_of(self, stem: str) -> int:
        """Position of the sample with this stem."""
        self.sample(stem)
        return self._index[stem]

    def image(self, key: int | str) -> np.ndarray:
        """The photo as RGB uint8 (H, W, 3)."""
        s = self.sample(key)
        if s.image_path is None:
            raise DataError(self.root, f"sample {s.stem!r} has no image file")
        if self.kind == "labelme" and s.image_path.suffix.lower() == ".json":
            from fcn_core.data.labelme import rasterize_labelme

            return rasterize_labelme(s.image_path, self.class_names)[0]
        return read_image(s.image_path)

    def label(self, key: int | str) -> np.ndarray | None:
        """The label map in use (the correction where one exists), uint8 with void 255; None when unlabelled.

        Raises DataError when the label does not open, has values that are neither classes nor void, or its
        size differs from the image's.
        """
        s = self.sample(key)
        if s.label_path is None:
            return None
        if s.corrected:
            # Corrections are written in the in-memory convention: palette PNG, void 255.
            labels = read_label(s.label_path, palette=self.palette, num_classes=self.num_classes)
        else:
            labels = self._read_own_label(s.label_path)
        self._check_size(s, s.label_path, labels)
        return labels

    def original_label(self, key: int | str) -> np.ndarray | None:
        """The dataset's own label (ignoring any correction), uint8 with void 255; None when unlabelled."""
        s = self.sample(key)
        if s.original_label_path is None:
            return None
        labels = self._read_own_label(s.original_label_path)
        self._check_size(s, s.original_label_path, labels)
        return labels

    def _read_own_label(self, path: Path) -> np.ndarray:
        if self.label_format == "labelme" or path.suffix.lower() == ".json":
            from fcn_core.data.labelme import rasterize_labelme

            return rasterize_labelme(path, self.class_names, with_image=False)[1]
        if self.label_decoder is not None:
            return self.label_decoder(path)
        return read_label(path, palette=self.palette, void_value=self.void_value,
                          num_classes=self.num_classes)

    def _check_size(self, s: Sample, label_path: Path, labels: np.ndarray) -> None:
        if s.image_path is None or s.image_path.suffix.lower() == ".json":
            return
        w, h = image_size(s.image_path)  # header only: cheap
        if labels.shape != (h, w):
            raise DataError(label_path, f"label is {labels.shape[1]}x{labels.shape[0]} but its image "
                                        f"{s.image_path.name} is {w}x{h}")

    def split(self, name: str | None) -> list[Sample]:
        """Samples of split ``name`` in the split file's order (all samples for None or "all")."""
        if name is None or name == "all":
            return list(self.samples)
        if name not in self.splits:
            have = ", ".join(sorted(self.splits)) or "none"
            if self.kind not in ("voc", "index", "labelme", "images"):  # splits are folders: no file to name
                raise DataError(self.root, f"split {name!r} not found; available splits: {have}")
            expected = self.root / "ImageSets" / "Segmentation" / f"{name}.txt"
            raise DataError(expected, f"split {name!r} not found (no split file); available splits: {have}")
        return [self.samples[self._index[stem]] for stem in self.splits[name]]

    def validate(self, progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> list[DataError]:
        """Decode every image and label once; return the problems found (empty list = all good)."""
        problems: list[DataError] = []
        for i, s in enumerate(self.samples):
            if should_stop is not None and should_stop():
                break
            try:
                if s.image_path is not None and s.image_path.suffix.lower() != ".json":
                    read_image(s.image_path)
                self.label(i)
            except DataError as exc:
                problems.append(exc)
            if progress is not None:
                progress(i + 1, len(self.samples))
        return problems


def open_dataset(path: str | os.PathLike[str], *, void_value: int | None = None,
                 labels_dir: str | os.PathLike[str] | None = None, format: str | None = None) -> Dataset:
    """Open a dataset folder, detecting its format (Cityscapes, ADE20K, ..., VOC, index PNGs, labelme JSON,
    plain images; see ``fcn_core.data.formats``) unless ``format`` names one.

    ``void_value`` overrides the void value of the label files; ``labels_dir`` is a folder of corrected
    labels (``<stem>.png``, palette PNGs with void 255) that replace the originals for their stems.
    Only file names are listed here; decoding happens on access.
    """
    from fcn_core.data.formats import open_with_format  # the formats build on the classes above
    from fcn_core.data.formats.guards import refuse_instance_maps

    if labels_dir is not None:
        refuse_instance_maps(Path(labels_dir), "corrections folder")
    # The registry opens the folder; the original layouts' reader (formats/legacy.py) then refuses instance
    # maps given as class labels and colour labels without stated colours.
    return open_with_format(path, format=format, void_value=void_value, labels_dir=labels_dir)


__all__ = ["LABEL_FORMATS", "VOID", "Dataset", "Sample", "open_dataset"]
