"""KITTI semantic segmentation (data_semantics): ``training/image_2/*.png`` with ``training/semantic/*.png``.

The labels are Cityscapes label ids (0..33), mapped to the 19 Cityscapes train classes with the same table.
``testing/image_2/`` (no labels) becomes the "test" split; its names repeat training's, so its stems are
``test-<name>``. The folder given may be ``data_semantics/`` or ``training/`` itself.
"""

from __future__ import annotations

from pathlib import Path

from fcn_core import VOID
from fcn_core.data.formats import Format
from fcn_core.data.formats.cityscapes import CLASSES, CityscapesDecoder, palette
from fcn_core.data.formats.common import build_dataset, child, file_names
from fcn_core.data.images import IMAGE_SUFFIXES


def _parts(root: Path) -> list[tuple[str, Path]]:
    """(split, folder holding image_2/) pairs."""
    if (root / "image_2").is_dir() and (root / "semantic").is_dir():
        return [("train", root)]
    parts = (("training", "train"), ("testing", "test"))
    return [(s, root / d) for d, s in parts if (root / d / "image_2").is_dir()]


def detect(root: Path) -> bool:
    """``training/image_2/`` and ``training/semantic/`` (or ``image_2/`` and ``semantic/`` in the folder)."""
    if (root / "image_2").is_dir() and (root / "semantic").is_dir():
        return True
    return (root / "training" / "image_2").is_dir() and (root / "training" / "semantic").is_dir()


def open_root(root: Path, *, void_value=None, labels_dir=None):
    """List the images and their labels (no decoding)."""

    def entries():
        for split, part in _parts(root):
            images, semantic = part / "image_2", part / "semantic"
            labels = set(file_names(semantic, (".png",)))
            for name in file_names(images, IMAGE_SUFFIXES):
                stem = name.rsplit(".", 1)[0]
                label = child(semantic, f"{stem}.png") if f"{stem}.png" in labels else None
                yield split, stem, child(images, name), label

    return build_dataset(root, "kitti", entries(), class_names=list(CLASSES), palette=palette(),
                         void_value=VOID, label_format="mapped", label_decoder=CityscapesDecoder(),
                         labels_dir=labels_dir)


FORMAT = Format("kitti", detect, open_root, "training/image_2/*.png with training/semantic/*.png (label ids)")
