"""Sidecar formats: CVAT Segmentation mask 1.1 (labelmap.txt), Datumaro dataset_meta.json, Kaggle CSV."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fcn_core.data import DataError, open_dataset
from tests.format_fixtures import (
    CVAT_LABELMAP,
    DATUMARO_META,
    KAGGLE_COLOURS,
    labels,
    make_cvat,
    make_datumaro,
    make_kaggle_camvid,
    save_photo,
    save_rgb,
)


def test_sidecar_formats_in_the_registry(tmp_path, capsys):
    from fcn_core.cli import main
    from fcn_core.data.formats import detect_format, format_names

    names = format_names()
    sidecars = ["cvat-mask", "datumaro", "kaggle", "sbd"]
    at = [names.index(n) for n in sidecars]
    assert at == sorted(at) and names.index("camvid32") < at[0] and at[-1] < names.index("voc")
    cvat, dm = make_cvat(tmp_path / "cvat"), make_datumaro(tmp_path / "dm")
    assert detect_format(cvat).name == "cvat-mask" and detect_format(dm).name == "datumaro"
    # Sidecar names are --format names: forced, detected, or refused with what the folder looks like.
    assert open_dataset(cvat, format="cvat-mask").class_names == ["background", "road", "car"]
    with pytest.raises(DataError, match=r"not a datumaro dataset: expected dataset_meta\.json.*'cvat-mask'"):
        open_dataset(cvat, format="datumaro")
    out = tmp_path / "out"
    assert main(["export", "--data", str(dm), "--data-format", "datumaro", "--format", "cvat-mask",
                 "--out", str(out), "--no-progress"]) == 0, capsys.readouterr().err
    assert open_dataset(out).class_names == ["background", "cat", "dog"]
    weights = tmp_path / "w.safetensors"  # refused before the weights are looked at
    rc = main(["evaluate", "--weights", str(weights), "--data", str(dm), "--data-format", "sbd"])
    assert rc == 2 and "not a sbd dataset" in capsys.readouterr().err


def test_cvat_export_opens_with_its_names_and_colours(tmp_path):
    root = make_cvat(tmp_path / "task")
    ds = open_dataset(root)
    assert ds.kind == "cvat-mask" and ds.class_names == ["background", "road", "car"]
    assert ds.palette[:3].tolist() == [[0, 0, 0], [128, 64, 128], [128, 0, 0]]
    assert ds.stems == ["frame_000000", "frame_000001"] and ds.splits == {"default": ds.stems}
    # (128,0,0) is VOC's aeroplane (1); the labelmap says car (2): the sidecar wins.
    assert np.array_equal(ds.label("frame_000001"), labels(1, void=False))
    assert ds.label_format == "rgb" and ds.image("frame_000000").shape == (12, 16, 3)


def test_cvat_without_images_and_void_label_in_the_middle(tmp_path):
    labelmap = CVAT_LABELMAP.replace("road:", "ignored:224,224,192::\nroad:")
    root = make_cvat(tmp_path / "t", labelmap=labelmap, with_images=False)
    lab = labels(0, void=False)
    lab[2, :] = 255
    save_rgb(root / "SegmentationClass" / "frame_000000.png", lab,
             {0: (0, 0, 0), 1: (128, 64, 128), 2: (128, 0, 0), 255: (224, 224, 192)})
    # A single-channel mask holds labelmap positions: 1 = ignored (void), 2 = road, 3 = car.
    pos = np.array([[0, 1, 2, 3]], np.uint8)
    Image.fromarray(pos, "L").save(root / "SegmentationClass" / "frame_000001.png")
    ds = open_dataset(root)
    assert ds.class_names == ["background", "road", "car"] and tuple(ds.palette[255]) == (224, 224, 192)
    assert np.array_equal(ds.label("frame_000000"), lab)  # no images: no size check, labels still read
    assert ds.label("frame_000001").tolist() == [[0, 255, 1, 2]]
    with pytest.raises(DataError, match="has no image file"):
        ds.image("frame_000000")


def test_cvat_bad_inputs_name_the_file(tmp_path):
    root = make_cvat(tmp_path / "t")
    mask = root / "SegmentationClass" / "frame_000000.png"
    rgb = np.asarray(Image.open(mask)).copy()
    rgb[3, 4] = (1, 2, 3)
    Image.fromarray(rgb).save(mask)
    ds = open_dataset(root)
    with pytest.raises(DataError, match=r"frame_000000\.png: .*\(1,2,3\).*labelmap\.txt"):
        ds.label("frame_000000")  # an unknown colour names the file, the colour and the sidecar
    # VOC's void colour is not one of this labelmap's colours either.
    rgb[3, 4] = (224, 224, 192)
    Image.fromarray(rgb).save(mask)
    with pytest.raises(DataError, match=r"\(224,224,192\)"):
        ds.label("frame_000000")
    # A single-channel mask with a value past the labelmap's classes: the sidecar and labels disagree.
    Image.fromarray(np.full((12, 16), 5, np.uint8), "L").save(mask)
    with pytest.raises(DataError, match=r"000000\.png: label has value 5 .*labelmap\.txt lists 3 classes"):
        ds.label("frame_000000")
    # Size mismatch with the image.
    save_rgb(mask, np.zeros((5, 5), np.uint8), {0: (0, 0, 0)})
    with pytest.raises(DataError, match=r"frame_000000\.png: label is 5x5 but its image .* is 16x12"):
        ds.label("frame_000000")
    # A mask without its image (the export has JPEGImages/).
    (root / "JPEGImages" / "frame_000001.jpg").unlink()
    with pytest.raises(DataError, match=r"frame_000001\.png: mask has no image in JPEGImages"):
        open_dataset(root)


@pytest.mark.parametrize("text, problem", [
    ("background:0,0,0:\n", r"line 2 .* 3 ':'-separated fields"),
    ("background:0,0::\n", r"line 2: colour '0,0' of 'background'"),
    ("a:0,0,0::\nb:0,0,0::\n", r"share the colour \(0, 0, 0\)"),
    ("a:0,0,0::\na:1,1,1::\n", r"'a' appears twice"),
    ("a:0,0,0::\nb:::\n", "some classes have no colour"),
])
def test_cvat_bad_labelmap(tmp_path, text, problem):
    root = make_cvat(tmp_path / "t", labelmap="# label:color_rgb:parts:actions\n" + text)
    with pytest.raises(DataError, match=r"labelmap\.txt: .*" + problem):
        open_dataset(root)


def test_datumaro_common_semantic_segmentation(tmp_path):
    root = make_datumaro(tmp_path / "css")
    Image.fromarray(labels(5, void=False), "L").save(root / "masks" / "img1.png")  # index masks too
    ds = open_dataset(root)
    assert ds.kind == "datumaro" and ds.class_names == ["background", "cat", "dog"]
    assert ds.palette[:3].tolist() == DATUMARO_META["segmentation_colors"]
    assert np.array_equal(ds.label("img0"), labels(0, void=False))
    assert np.array_equal(ds.label("img1"), labels(5, void=False))
    save_photo(root / "images" / "img2.jpg")  # an image without a mask: unlabelled, not an error
    assert open_dataset(root).label("img2") is None


def test_datumaro_subset_folders_and_bad_cases(tmp_path):
    root = tmp_path / "css"
    make_datumaro(root / "train", n=2)
    make_datumaro(root / "val", n=1)
    (root / "val" / "images" / "img0.jpg").rename(root / "val" / "images" / "v0.jpg")
    (root / "val" / "masks" / "img0.png").rename(root / "val" / "masks" / "v0.png")
    ds = open_dataset(root)
    assert ds.splits == {"train": ["img0", "img1"], "val": ["v0"]} and ds.class_names[2] == "dog"
    flat = make_datumaro(tmp_path / "flat")
    Image.fromarray(np.full((12, 16), 7, np.uint8), "L").save(flat / "masks" / "img0.png")
    with pytest.raises(DataError, match=r"img0\.png: label has value 7 .*dataset_meta\.json lists 3 classes"):
        open_dataset(flat).label("img0")
    (flat / "images" / "img1.jpg").unlink()
    with pytest.raises(DataError, match=r"img1\.png: mask has no image"):
        open_dataset(flat)
    meta = dict(DATUMARO_META, label_map={"0": "background", "2": "dog"})
    (flat / "dataset_meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"dataset_meta\.json: class indices must run 0\.\.1"):
        open_dataset(flat)
    (flat / "dataset_meta.json").write_text(json.dumps({"labels": ["a", "b"]}))  # no colours
    (flat / "images" / "img1.jpg").write_bytes((flat / "images" / "img0.jpg").read_bytes())
    with pytest.raises(DataError, match="colour mask but dataset_meta.json gives the classes no colours"):
        open_dataset(flat).label("img1")


def test_kaggle_camvid_layout(tmp_path):
    root = make_kaggle_camvid(tmp_path / "camvid")
    ds = open_dataset(root, format="kaggle")
    assert ds.kind == "kaggle" and ds.class_names == ["Sky", "Building", "Road"]
    assert ds.splits == {"train": ["0001TP_000", "0001TP_001"], "val": ["0001TP_002"]}
    assert ds.palette[:3].tolist() == [list(c) for c in KAGGLE_COLOURS.values()]
    assert np.array_equal(ds.label("0001TP_002"), labels(2, void=False))
    # Detected, the Kaggle CamVid release is CamVid's (the registry's camvid32 comes first): same classes,
    # colours, splits and labels from its class_dict.csv.
    detected = open_dataset(root)
    assert detected.kind == "camvid32" and detected.class_names == ds.class_names
    assert detected.splits == ds.splits and detected.palette[:3].tolist() == ds.palette[:3].tolist()
    assert np.array_equal(detected.label("0001TP_002"), ds.label("0001TP_002"))
    # labelmap.csv beside images/ + masks/ (Datumaro's Kaggle image-mask), single-channel masks.
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "labelmap.csv").write_text("name,r,g,b\nbg,0,0,0\nfg,255,255,255\n")
    save_photo(flat / "images" / "a.png")
    (flat / "masks").mkdir()
    Image.fromarray(np.eye(12, 16, dtype=np.uint8), "L").save(flat / "masks" / "a.png")
    assert open_dataset(flat).label("a").sum() == 12
    (flat / "labelmap.csv").write_text("name,r,g,b\nbg,0,0\n")
    with pytest.raises(DataError, match=r"labelmap\.csv: row 2 'bg,0,0' is not name,r,g,b"):
        open_dataset(flat)
    (root / "val" / "0001TP_002.png").unlink()
    with pytest.raises(DataError, match=r"0001TP_002_L\.png: mask has no image"):
        open_dataset(root, format="kaggle")
