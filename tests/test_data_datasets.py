"""Dataset layouts on small synthetic folders: VOC, index PNGs, descriptor, RGB, labelme, plain images."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from fcn_core.data import DataError, open_dataset, read_label, write_index_png, write_palette_png
from fcn_core.data.labels import labels_from_colours
from fcn_core.data.palette import voc_palette
from tests.bad_inputs import label_map, make_voc, photo, save_png


def test_voc_layout(tmp_path):
    ds = open_dataset(make_voc(tmp_path / "voc"))
    assert ds.kind == "voc" and ds.num_classes == 21 and ds.stems == ["img0", "img1", "img2"]
    assert [s.stem for s in ds.split("train")] == ["img0", "img1"]
    assert len(ds.split(None)) == 3
    assert np.array_equal(ds.label(1), label_map(seed=1))
    assert ds.image("img1").shape == (12, 16, 3)
    assert not ds.sample(0).corrected


def test_corrections_replace_labels(tmp_path):
    root = make_voc(tmp_path / "voc")
    fixes = tmp_path / "fixes"
    fixed = label_map(seed=9)
    write_palette_png(fixes / "img1.png", fixed)
    ds = open_dataset(root, labels_dir=fixes)
    assert ds.sample("img1").corrected and not ds.sample("img0").corrected
    assert np.array_equal(ds.label("img1"), fixed)
    assert np.array_equal(ds.original_label("img1"), label_map(seed=1))
    assert open_dataset(root, labels_dir=tmp_path / "not-yet").sample("img1").corrected is False


def test_index_pngs_with_descriptor_and_void(tmp_path):
    root = tmp_path / "idx"
    lab = label_map(n=5)
    lab[lab == 255] = 7  # this dataset's void value
    (root / "images").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(photo(seed=i)).save(root / "images" / f"f{i}.png")
        save_png(root / "masks" / f"f{i}.png", lab, "L")
    (root / "dataset.json").write_text(json.dumps({"class_names": list("abcde"), "void_value": 7,
                                                   "images": "images", "labels": "masks"}))
    ds = open_dataset(root)
    assert ds.kind == "index" and ds.label_format == "index" and ds.void_value == 7 and ds.num_classes == 5
    got = ds.label("f0")
    assert (got == 255).sum() == (lab == 7).sum() and got.max() == 255 and got[got != 255].max() <= 4
    # Writing back in the dataset's own format restores the file's values.
    write_index_png(tmp_path / "back.png", got, void_value=7)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "back.png")), lab)
    # The void_value argument overrides the descriptor: then 7 is an (invalid) class value.
    with pytest.raises(DataError, match=r"\[7\]"):
        open_dataset(root, void_value=255).label("f0")


def test_index_pair_layout_detected_without_descriptor(tmp_path):
    root = tmp_path / "pair"
    (root / "images").mkdir(parents=True)
    Image.fromarray(photo()).save(root / "images" / "a.jpg")
    save_png(root / "labels" / "a.png", np.minimum(label_map(), 20), "L")
    ds = open_dataset(root)
    assert ds.kind == "index" and ds.label_format == "index" and ds.label("a").shape == (12, 16)


def test_rgb_colour_labels(tmp_path):
    root = make_voc(tmp_path / "rgb")
    for i in range(3):
        Image.fromarray(voc_palette()[label_map(seed=i)]).save(root / "SegmentationClass" / f"img{i}.png")
    ds = open_dataset(root)
    assert ds.label_format == "rgb"
    assert np.array_equal(ds.label("img2"), label_map(seed=2))
    custom = np.array([[10, 20, 30], [40, 50, 60]], np.uint8)
    rgb = custom[np.array([[0, 1], [1, 0]])]
    assert np.array_equal(labels_from_colours(rgb, custom, num_classes=2), [[0, 1], [1, 0]])
    with pytest.raises(DataError, match=r"\(128,0,0\)"):  # a VOC colour that is not one of 2 classes
        labels_from_colours(voc_palette()[np.array([[1]])], custom, "x.png", num_classes=2)


def _labelme_json(path, shapes, image=None, image_path=None):
    data = {"version": "5", "shapes": shapes, "imagePath": image_path, "imageHeight": 12, "imageWidth": 16,
            "imageData": None}
    if image is not None:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        data["imageData"] = base64.b64encode(buf.getvalue()).decode()
    path.write_text(json.dumps(data))


def test_labelme_folder_order_ignore_and_embedded_image(tmp_path):
    root = tmp_path / "lm"
    root.mkdir()
    (root / "labels.txt").write_text("__ignore__\n_background_\ncat\ndog\n")
    square = [[2, 2], [10, 2], [10, 8], [2, 8]]
    shapes = [
        {"label": "cat", "points": square, "shape_type": "polygon"},
        {"label": "dog", "points": [[6, 2], [14, 2], [14, 8], [6, 8]], "shape_type": "polygon"},  # over cat
        {"label": "__ignore__", "points": [[0, 10], [3, 10], [3, 11], [0, 11]], "shape_type": "polygon"},
        {"label": "cat", "points": [[12, 9], [15, 11]], "shape_type": "rectangle"},
    ]
    img = photo()
    _labelme_json(root / "a.json", shapes, image=img)
    ds = open_dataset(root)
    assert ds.kind == "labelme" and ds.class_names == ["_background_", "cat", "dog"]
    lab = ds.label("a")
    assert lab[5, 3] == 1 and lab[5, 8] == 2 and lab[5, 13] == 2  # later shapes paint over earlier
    assert lab[10, 1] == 255 and lab[10, 13] == 1 and lab[0, 0] == 0
    assert np.array_equal(ds.image("a"), img)


def test_labelme_folder_detected_beside_a_descriptor_that_sorts_first(tmp_path):
    root = tmp_path / "lm"
    root.mkdir()
    (root / "dataset.json").write_text(json.dumps({"class_names": ["_background_", "cat"]}))
    _labelme_json(root / "img1.json", [{"label": "cat", "points": [[2, 2], [10, 2], [10, 8]]}],
                  image=photo())
    ds = open_dataset(root)
    assert ds.kind == "labelme" and ds.stems == ["img1"] and ds.label("img1")[4, 6] == 1


def test_plain_image_folder(tmp_path):
    for i, ext in enumerate(("jpg", "png", "JPEG")):
        Image.fromarray(photo(seed=i)).save(tmp_path / f"p{i}.{ext}")
    ds = open_dataset(tmp_path)
    assert ds.kind == "images" and len(ds) == 3 and not ds.has_labels and ds.label("p1") is None
    assert ds.label_format == "none" and ds.image("p2").shape == (12, 16, 3)


def test_descriptor_palette_travels(tmp_path):
    root = make_voc(tmp_path / "d")
    pal = [[1, 2, 3], [4, 5, 6]]
    (root / "dataset.json").write_text(json.dumps({"class_names": ["bg", "fg"], "palette": pal}))
    ds = open_dataset(root)
    assert ds.class_names == ["bg", "fg"] and ds.palette[1].tolist() == [4, 5, 6]
    with pytest.raises(DataError, match="neither classes"):
        ds.label("img0")  # labels use 21 classes but the descriptor says 2
    for bad in ("eleven", 11.5, True):
        (root / "dataset.json").write_text(json.dumps({"void_value": bad}))
        with pytest.raises(DataError, match=r"dataset\.json: void value .* not a whole number"):
            open_dataset(root)
    (root / "dataset.json").write_text(json.dumps({"void_value": 300}))
    with pytest.raises(DataError, match="void value 300 is not in 0..255"):
        open_dataset(root)
    for bad in ([[300, 0, 0]], [[-1, 0, 0]], [[1, 2]], [["red", 0, 0]], [[0.5, 0, 0]]):
        (root / "dataset.json").write_text(json.dumps({"class_names": ["bg", "fg"], "palette": bad}))
        with pytest.raises(DataError, match=r"dataset\.json: palette must be .* 0\.\.255"):
            open_dataset(root)


def test_read_label_modes(tmp_path):
    lab = label_map()
    save_png(tmp_path / "p.png", lab, "P")
    save_png(tmp_path / "l.png", lab, "L")
    assert np.array_equal(read_label(tmp_path / "p.png"), read_label(tmp_path / "l.png"))
    with pytest.raises(ValueError, match="uses for void"):
        write_index_png(tmp_path / "x.png", np.full((2, 2), 11, np.uint8), void_value=11)
