"""One task of a two-task dataset as a dataset of its own (semantic labels, or geometric ones).

SIFT Flow has semantic and geometric labels for every photo; the demo data made with ``--geometric`` has
``GeoLabels/<stem>.png`` beside its VOC layout. ``task_dataset(ds, "geo")`` is the same photos with the
geometric labels (sky, horizontal, vertical), their colours, and corrections of their own in
``<labels_dir>/geo/`` (so editing the geometric labels never touches the semantic corrections). Everything
else (photos, depth, HHA, splits) is the base dataset's. ``task_dataset(ds, "sem")`` is ``ds`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.palette import full_palette

GEOMETRIC_CLASSES: tuple[str, ...] = ("sky", "horizontal", "vertical")
#: Colours of the geometric classes: sky blue, ground brown, upright grey-red.
GEOMETRIC_PALETTE = np.array([[120, 170, 230], [150, 110, 50], [190, 70, 70]], np.uint8)
TASK_TITLES = {"sem": "semantic", "geo": "geometric"}
GEO_FOLDER = "geo"  # corrections of the geometric labels: <corrections>/geo/<stem>.png


def task_title(task: str) -> str:
    """Words for a task key: "semantic", "geometric"."""
    return TASK_TITLES.get(task, task)


def _geo_file(dataset: Dataset, stem: str) -> Path | None:
    if dataset.kind == "siftflow":
        from fcn_core.data.formats.siftflow import SUBDIR

        path = Path(dataset.root) / "GeoLabels" / SUBDIR / f"{stem}.mat"
    else:  # the demo data's sidecar folder (fcn demo-data --geometric)
        path = Path(dataset.root) / "GeoLabels" / f"{stem}.png"
    return path if path.is_file() else None


def dataset_tasks(dataset) -> tuple[str, ...]:
    """The tasks a dataset has labels for: ("sem",) or ("sem", "geo")."""
    if dataset is None:
        return ("sem",)
    if getattr(dataset, "task_class_names", None) or (Path(dataset.root) / "GeoLabels").is_dir():
        return ("sem", "geo")
    return ("sem",)


@dataclass
class TaskDataset(Dataset):
    """The geometric labels of ``base`` (see the module docstring): photos and extra inputs are the base's."""

    base: Dataset | None = None
    task: str = "geo"

    def _read_own_label(self, path: Path) -> np.ndarray:
        if path.suffix.lower() == ".mat":
            from fcn_core.data.formats.matlab import read_mat_field, shifted_labels

            return shifted_labels(path, read_mat_field(path, "S"), self.num_classes, minus_one_void=True)
        from PIL import Image

        try:
            with Image.open(path) as im:
                labels = np.asarray(im)
        except (OSError, ValueError) as exc:
            raise DataError(path, f"cannot read geometric label ({exc})") from exc
        if labels.ndim != 2:
            raise DataError(path, f"geometric label must be an 8-bit index image, has shape {labels.shape}")
        labels = labels.astype(np.uint8)
        bad = (labels >= self.num_classes) & (labels != 255)
        if bad.any():
            found = sorted(set(np.unique(labels[bad]).tolist()))[:5]
            raise DataError(path, f"label values {found} are neither "
                                  f"geometric classes (0..{self.num_classes - 1}) nor void 255")
        return labels

    def image(self, key: int | str) -> np.ndarray:
        return self.base.image(self.sample(key).stem)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(getattr(self.base, "input_names", ("color",)))

    def inputs(self, key: int | str, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """The base dataset's inputs (colour, depth, HHA) of this sample."""
        from fcn_core.training.tasks import sample_arrays

        return sample_arrays(self.base, self.sample(key).stem, tuple(names or self.input_names))


def task_dataset(dataset, task: str):
    """``dataset`` as seen by ``task``: itself for "sem"; its geometric labels for "geo" (else DataError)."""
    if task == "sem" or dataset is None:
        return dataset
    if task != "geo":
        raise ValueError(f"unknown task {task!r} (sem or geo)")
    if isinstance(dataset, TaskDataset):
        return dataset
    if "geo" not in dataset_tasks(dataset):
        raise DataError(Path(dataset.root), "the dataset has no geometric labels (GeoLabels/)")
    from fcn_core.data.layouts import apply_corrections

    samples = []
    for s in dataset.samples:
        geo = _geo_file(dataset, s.stem)
        samples.append(Sample(s.stem, s.image_path, geo, False, geo))
    labels_dir = None if dataset.labels_dir is None else Path(dataset.labels_dir) / GEO_FOLDER
    apply_corrections(samples, labels_dir)
    names = list((getattr(dataset, "task_class_names", None) or {}).get("geo", GEOMETRIC_CLASSES))
    palette = full_palette(GEOMETRIC_PALETTE)
    return TaskDataset(root=dataset.root, kind=dataset.kind, class_names=names, palette=palette,
                       void_value=255, samples=samples, splits=dict(dataset.splits), label_format="index",
                       labels_dir=labels_dir, split_files=dict(dataset.split_files), base=dataset, task="geo")
