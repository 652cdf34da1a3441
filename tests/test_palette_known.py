"""Known class lists get their published colours; anything else keeps VOC colours."""

import json

import numpy as np
from PIL import Image

from fcn_core.data.datasets import open_dataset
from fcn_core.data.palette import CAMVID_CLASSES, CAMVID_COLORS, known_palette, voc_palette


def test_camvid_names_get_segnet_colours_ignoring_case_and_spaces():
    names = [n.lower() for n in CAMVID_CLASSES]
    names[6] = "Sign Symbol"
    pal = known_palette(names)
    assert pal.shape == (256, 3) and np.array_equal(pal[:11], np.asarray(CAMVID_COLORS, np.uint8))
    assert pal[255].tolist() == [0, 0, 0]  # void (255 in memory) black as in SegNet, not VOC's pole-like grey
    assert known_palette(CAMVID_CLASSES[:10]) is None  # a subset is not CamVid
    assert known_palette(["background", "cat"]) is None


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
    assert camvid.palette[255].tolist() == [0, 0, 0]
    other = _index_dataset(tmp_path / "o", ["sky", "road", "car", "tree"])
    assert np.array_equal(other.palette, voc_palette(256))


def test_descriptor_palette_wins_over_known_colours(tmp_path):
    colours = [[i, i, i] for i in range(11)]
    ds = _index_dataset(tmp_path / "d", CAMVID_CLASSES, {"palette": colours})
    assert ds.palette[:11].tolist() == colours
