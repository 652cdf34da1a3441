"""Datasets, images and label files, palettes and atomic writes. Label maps in memory: uint8, void = 255."""

from fcn_core.data.datasets import Dataset, Sample, open_dataset
from fcn_core.data.errors import DataError
from fcn_core.data.images import read_image
from fcn_core.data.labels import read_label, write_index_png, write_palette_png
from fcn_core.data.palette import VOC_CLASSES, colorize, full_palette, voc_palette

__all__ = [
    "VOC_CLASSES", "DataError", "Dataset", "Sample", "colorize", "full_palette", "open_dataset", "read_image",
    "read_label", "voc_palette", "write_index_png", "write_palette_png",
]
