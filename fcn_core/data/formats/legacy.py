"""The original layouts: VOC, labelme JSON folders, index/colour PNG pairs and plain image folders.

Detection is exactly what ``layouts.scan_dataset`` always did (one decision in ``legacy_layout``), so folders
that opened before open the same way; "images" takes any folder and is the registry's last entry. After the
scan, instance-id maps given as class labels and colour labels without stated colours are refused
(``formats/guards.py``).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fcn_core.data.formats import Format
from fcn_core.data.formats.guards import refuse_guessed_colours, refuse_instance_maps
from fcn_core.data.layouts import legacy_layout, scan_dataset


def _is(layout: str, root: Path) -> bool:
    return legacy_layout(root) == layout


def _open(layout: str, root: Path, *, void_value=None, labels_dir=None):
    dataset = scan_dataset(root, void_value=void_value, labels_dir=labels_dir, layout=layout)
    # Labels that would be read silently wrong: instance-id maps given as class maps, and colour labels
    # with no stated colours (decoding them through VOC's would be a guess).
    first = next((s.original_label_path for s in dataset.samples if s.original_label_path is not None), None)
    if first is not None:
        refuse_instance_maps(first.parent, "the dataset's labels")
    refuse_guessed_colours(dataset)
    return dataset


FORMATS = [
    Format("voc", partial(_is, "voc"), partial(_open, "voc"),
           "JPEGImages/ and SegmentationClass/ (ImageSets/Segmentation/*.txt, class_names.txt)"),
    Format("labelme", partial(_is, "labelme"), partial(_open, "labelme"),
           "labelme *.json files (with a 'shapes' list), in the folder or in data_annotated/"),
    Format("index", partial(_is, "index"), partial(_open, "index"),
           "images/ with labels/, masks/ or annotations/ (or a dataset.json naming the folders)"),
    Format("images", lambda root: True, partial(_open, "images"), "image files in the folder"),
]
