"""Never silently wrong: 16/32-bit index labels, instance-id maps given as class maps, colour labels decoded
through a palette that is not theirs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset, read_label
from tests.bad_inputs import label_map, make_voc, save_png
from tests.format_fixtures import labels, save_photo, save_rgb


def test_wide_index_labels_accepted_when_every_value_is_a_class(tmp_path):
    lab = label_map()  # 21 classes, void row
    Image.fromarray(lab.astype(np.uint16)).save(tmp_path / "a.png")
    Image.fromarray(lab.astype(np.int32)).save(tmp_path / "b.tif")
    Image.fromarray(lab.astype(np.float32)).save(tmp_path / "c.tif")
    assert Image.open(tmp_path / "a.png").mode == "I;16" and Image.open(tmp_path / "b.tif").mode == "I"
    for name in ("a.png", "b.tif", "c.tif"):
        assert np.array_equal(read_label(tmp_path / name, num_classes=21), lab), name
    wide = lab.astype(np.uint16)
    wide[4, 7] = 300
    wide[5, 0] = 1000
    Image.fromarray(wide).save(tmp_path / "bad.png")
    with pytest.raises(DataError, match=r"bad\.png: I;16 \(16/32-bit\) label has value 300 at \(x=7, y=4\): "
                                        r"neither classes 0\.\.20 nor void \(2 bad values in all: 300, "
                                        r"1000\)"):
        read_label(tmp_path / "bad.png", num_classes=21)
    ids = np.full((4, 4), 26001, np.uint16)  # Cityscapes instanceIds (16-bit): class 26 (car), instance 1
    Image.fromarray(ids).save(tmp_path / "x_instanceIds.png")
    with pytest.raises(DataError, match="looks like an instance-id map"):
        read_label(tmp_path / "x_instanceIds.png")
    # A pair dataset of 16-bit labels opens as index labels.
    root = tmp_path / "pair"
    save_photo(root / "images" / "a.jpg")
    (root / "labels").mkdir()
    Image.fromarray(np.minimum(lab, 20).astype(np.uint16)).save(root / "labels" / "a.png")
    ds = open_dataset(root)
    assert ds.label_format == "index" and np.array_equal(ds.label("a"), np.minimum(lab, 20))


def test_instance_maps_are_refused_as_class_maps(tmp_path, capsys):
    root = make_voc(tmp_path / "voc")
    for i in range(3):  # VOC's instance maps: object ids 1, 2, ... in the VOC colours, 255 borders
        save_png(root / "SegmentationObject" / f"img{i}.png", np.minimum(label_map(seed=i), 3), "P")
    obj, cls = root / "SegmentationObject", root / "SegmentationClass"
    for args in (["--pred", str(cls), "--gt", str(obj)], ["--pred", str(obj), "--gt", str(cls)]):
        assert main(["evaluate", *args, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"{obj}: given as --" in err and "instance-id folder" in err and "SegmentationClass" in err
    with pytest.raises(DataError, match="instance-id folder"):
        open_dataset(root, labels_dir=obj)
    (root / "dataset.json").write_text(json.dumps({"images": "JPEGImages", "labels": "SegmentationObject"}))
    with pytest.raises(DataError, match=r"SegmentationObject: given as the dataset's labels"):
        open_dataset(root)


@pytest.fixture
def colour_preds(tmp_path):
    """GT index PNGs with class_names.txt (background, car, road) and the same labels as RGB colour PNGs in
    a tool's colours: car (0,128,0) and road (128,0,0) are VOC's bicycle (2) and aeroplane (1), swapped."""
    names = ["background", "car", "road"]
    colours = {0: (0, 0, 0), 1: (0, 128, 0), 2: (128, 0, 0)}
    for i in range(3):
        save_png(tmp_path / "gt" / f"f{i}.png", labels(i, void=False), "L")
        save_rgb(tmp_path / "tool" / "pred" / f"f{i}.png", labels(i, void=False), colours)
    (tmp_path / "gt" / "class_names.txt").write_text("\n".join(names) + "\n")
    return tmp_path, names, colours


def test_colour_predictions_are_not_decoded_through_voc_colours(colour_preds, capsys):
    root, _, _ = colour_preds
    rc = main(["evaluate", "--pred", str(root / "tool" / "pred"), "--gt", str(root / "gt"), "--no-progress"])
    err = capsys.readouterr().err
    # Each colour label is refused (listed as failed, exit 1), never scored through VOC's colours.
    assert rc == 1, "RGB colour labels must not be decoded through VOC's colours (the classes are not VOC's)"
    assert "3 of 3 images could not be scored" in err
    assert str(root / "tool" / "pred" / "f0.png") in err and "no colour table" in err


def test_colour_predictions_decode_through_the_tools_labelmap(colour_preds, tmp_path, capsys):
    root, names, colours = colour_preds
    lines = [f"{n}:{colours[i][0]},{colours[i][1]},{colours[i][2]}::" for i, n in enumerate(names)]
    (root / "tool" / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n" + "\n".join(lines) + "\n")
    rc = main(["evaluate", "--pred", str(root / "tool" / "pred"), "--gt", str(root / "gt"), "--no-progress",
               "--json", str(tmp_path / "r.json")])
    assert rc == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["pixel_acc"] == 1.0 and list(report["per_class"]) == names
    # An unknown colour names the file, the colour and the table it was looked up in.
    rgb = np.asarray(Image.open(root / "tool" / "pred" / "f1.png")).copy()
    rgb[0, 0] = (9, 9, 9)
    Image.fromarray(rgb).save(root / "tool" / "pred" / "f1.png")
    assert main(["evaluate", "--pred", str(root / "tool" / "pred"), "--gt", str(root / "gt"),
                 "--no-progress"]) == 1  # the other two are scored
    err = capsys.readouterr().err
    assert "1 of 3 images could not be scored" in err
    assert "f1.png: label contains colours that are not in the palette: (9,9,9)" in err
    assert "labelmap.txt" in err


def test_colour_label_dataset_without_stated_colours_is_refused(tmp_path):
    root = tmp_path / "pair"
    save_photo(root / "images" / "a.jpg")
    lab = labels(0, void=False)  # a tool's colours that happen to be VOC's 0..2, meaning other classes
    save_rgb(root / "labels" / "a.png", lab, {0: (0, 0, 0), 1: (0, 128, 0), 2: (128, 0, 0)})
    with pytest.raises(DataError, match=r"pair: labels are RGB colour images but the dataset states no"):
        open_dataset(root)
    (root / "class_names.txt").write_text("background\ncar\nroad\n")  # names alone state no colours
    with pytest.raises(DataError, match="states no colours"):
        open_dataset(root)
    palette = [[0, 0, 0], [0, 128, 0], [128, 0, 0]]
    (root / "dataset.json").write_text(json.dumps({"class_names": ["background", "car", "road"],
                                                   "palette": palette}))
    assert np.array_equal(open_dataset(root).label("a"), lab)
