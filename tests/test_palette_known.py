"""Known class lists get their published colours; anything else keeps VOC colours."""

import json

import numpy as np
from PIL import Image

from fcn_core.data.datasets import open_dataset
from fcn_core.data.palette import CAMVID_CLASSES, CAMVID_COLORS, known_colors, voc_palette


def test_camvid_names_get_segnet_colours_ignoring_case_and_spaces():
    names = [n.lower() for n in CAMVID_CLASSES]
    names[6] = "Sign Symbol"
    assert np.array_equal(known_colors(names), np.asarray(CAMVID_COLORS, np.uint8))
    assert known_colors(CAMVID_CLASSES[:10]) is None  # a subset is not CamVid
    assert known_colors(["background", "cat"]) is None


def _index_dataset(root, names, descriptor=None):
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(root / "images" / "a.png")
    Image.fromarray(np.full((4, 5), 3, np.uint8), mode="L").save(root / "labels" / "a.png")
    (root / "class_names.txt").write_text("\n".join(names) + "\n")
    if descriptor is not None:
        (root / "dataset.json").write_text(json.dumps(descriptor))
    return open_dataset(root)


def test_index_dataset_palette_follows_its_class_names(tmp_path):
    camvid = _index_dataset(tmp_path / "c", CAMVID_CLASSES)
    assert camvid.palette[:11].tolist() == [list(c) for c in CAMVID_COLORS]
    other = _index_dataset(tmp_path / "o", ["sky", "road", "car", "tree"])
    assert np.array_equal(other.palette, voc_palette(256))


def test_descriptor_palette_wins_over_known_colours(tmp_path):
    colours = [[i, i, i] for i in range(11)]
    ds = _index_dataset(tmp_path / "d", CAMVID_CLASSES, {"palette": colours})
    assert ds.palette[:11].tolist() == colours
