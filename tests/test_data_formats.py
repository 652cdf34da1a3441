"""Dataset format readers on tiny fixtures in the releases' exact layouts, the registry and ``--format``."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset
from fcn_core.data.formats import detect_format, format_names, get_format
from fcn_core.data.formats.ade20k import CLASSES_150
from fcn_core.data.formats.cityscapes import CLASSES as CITYSCAPES
from tests import format_fixtures as fx
from tests.bad_inputs import make_voc


def band(*values: int) -> np.ndarray:
    return fx.grid(*values).astype(np.uint8)


# -- registry ---------------------------------------------------------------------------------------------
def test_registry_names_unique_and_fallback_last():
    names = format_names()
    assert len(names) == len(set(names)) and names[-1] == "images"
    assert names.index("cityscapes") < names.index("voc")
    with pytest.raises(ValueError, match="unknown dataset format 'nope'.*cityscapes"):
        get_format("nope")


def test_original_layouts_detect_as_before(tmp_path):
    voc = make_voc(tmp_path / "voc")
    plain = tmp_path / "plain"
    fx.photo(plain / "a.jpg")
    pair = tmp_path / "pair"
    fx.photo(pair / "images" / "a.png")
    fx.mask(pair / "labels" / "a.png", band(1, 2))
    for root, name in ((voc, "voc"), (plain, "images"), (pair, "index")):
        assert detect_format(root).name == name
        assert open_dataset(root).kind == name


# -- Cityscapes -------------------------------------------------------------------------------------------
def test_cityscapes(tmp_path):
    ds = open_dataset(fx.cityscapes(tmp_path / "cityscapes"))
    assert ds.kind == "cityscapes" and ds.class_names == list(CITYSCAPES) and ds.num_classes == 19
    assert ds.class_names[:3] == ["road", "sidewalk", "building"] and ds.class_names[-1] == "bicycle"
    assert tuple(ds.palette[13]) == (0, 0, 142) and tuple(ds.palette[255]) == (0, 0, 0)
    assert ds.splits == {"train": ["aachen_000000_000019", "aachen_000001_000019"],
                         "val": ["frankfurt_000000_000294"], "test": ["berlin_000000_000019"]}
    assert ds.stems[2:] == ["frankfurt_000000_000294", "berlin_000000_000019"]  # train, val, test
    # label ids 7 road, 26 car, 0 unlabeled, 4 static -> 0, 13, void, void
    assert np.array_equal(ds.label("aachen_000000_000019"), band(0, 13, 255, 255))
    # labelTrainIds is preferred over labelIds
    assert ds.sample("aachen_000001_000019").label_path.name.endswith("_labelTrainIds.png")
    assert np.array_equal(ds.label("aachen_000001_000019"), band(18, 255))
    # 16-bit instance ids: 26001 -> car, 24000 -> person, 7 road, 23 sky
    assert np.array_equal(ds.label("frankfurt_000000_000294"), band(13, 11, 0, 10))
    assert ds.label("berlin_000000_000019") is None  # missing mask: an unlabelled image
    assert ds.image(0).shape == (fx.H, fx.W, 3)


def test_cityscapes_bad_labels(tmp_path):
    root = fx.cityscapes(tmp_path / "cs")
    gt = root / "gtFine/train/aachen"
    fx.mask(gt / "aachen_000000_000019_gtFine_labelIds.png", band(7, 40))  # 40: no such label id
    fx.mask(gt / "aachen_000001_000019_gtFine_labelTrainIds.png", band(0, 19))  # 19: no such train id
    ds = open_dataset(root)
    with pytest.raises(DataError, match=r"aachen_000000_000019_gtFine_labelIds.png: .*\[40\].*label ids"):
        ds.label(0)
    with pytest.raises(DataError, match=r"\[19\].*train ids"):
        ds.label(1)
    fx.mask(gt / "aachen_000000_000019_gtFine_labelIds.png", np.full((fx.H + 1, fx.W), 7))
    with pytest.raises(DataError, match=r"label is 8x7 but its image aachen_000000_000019_leftImg8bit.png"):
        open_dataset(root).label(0)
    assert len(open_dataset(root).validate()) == 2


def test_opening_is_lazy(tmp_path):
    root = fx.cityscapes(tmp_path / "cs")
    (root / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png").write_bytes(b"not a png")
    (root / "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png").write_bytes(b"nor this")
    ds = open_dataset(root)  # lists names only: corrupt files are found on access
    assert len(ds) == 4
    with pytest.raises(DataError, match="not an image file"):
        ds.label(0)
    with pytest.raises(DataError, match="frankfurt_000000_000294_leftImg8bit.png"):
        ds.image("frankfurt_000000_000294")


def test_decoder_datasets_pickle_for_training_workers(tmp_path):
    ds = open_dataset(fx.cityscapes(tmp_path / "cs"))
    again = pickle.loads(pickle.dumps(ds))
    assert np.array_equal(again.label(2), ds.label(2))


def test_cityscapes_exports_to_voc_with_train_ids(tmp_path):
    from fcn_core.export import export_dataset

    ds = open_dataset(fx.cityscapes(tmp_path / "cs"))
    export_dataset(ds, tmp_path / "out")
    back = open_dataset(tmp_path / "out")
    assert back.kind == "voc" and back.class_names == list(CITYSCAPES)
    assert np.array_equal(back.label("frankfurt_000000_000294"), band(13, 11, 0, 10))
    assert tuple(back.palette[0]) == (128, 64, 128)


# -- KITTI ------------------------------------------------------------------------------------------------
def test_kitti(tmp_path):
    root = fx.kitti(tmp_path / "data_semantics")
    ds = open_dataset(root)
    assert ds.kind == "kitti" and ds.num_classes == 19
    assert ds.splits == {"train": ["000000_10", "000001_10"], "test": ["test-000000_10"]}
    assert np.array_equal(ds.label("000000_10"), band(0, 13, 10))
    assert np.array_equal(ds.label("000001_10"), band(2, 255))
    assert ds.label("test-000000_10") is None
    assert open_dataset(root / "training").stems == ["000000_10", "000001_10"]  # training/ given directly
    fx.mask(root / "training/semantic/000001_10.png", band(200))
    with pytest.raises(DataError, match=r"000001_10.png: label has values \[200\]"):
        open_dataset(root).label("000001_10")


# -- ADE20K -----------------------------------------------------------------------------------------------
def test_ade20k_scene_parsing(tmp_path):
    root = fx.ade_scene_parsing(tmp_path)
    for given in (tmp_path, root):  # the release folder or the one holding it
        ds = open_dataset(given)
        assert ds.kind == "ade20k" and ds.root == root and ds.class_names == list(CLASSES_150)
    assert ds.num_classes == 150 and ds.class_names[1] == "building, edifice" and ds.class_names[-1] == "flag"
    assert ds.splits == {"train": ["ADE_train_00000001"], "val": ["ADE_val_00000001"]}
    assert np.array_equal(ds.label("ADE_train_00000001"), band(255, 0, 149))
    fx.mask(root / "annotations/validation/ADE_val_00000001.png", band(151))
    with pytest.raises(DataError, match=r"ADE_val_00000001.png: label has values \[151\]"):
        open_dataset(root).label("ADE_val_00000001")


def test_ade20k_full_numbered_and_objects_txt(tmp_path):
    root = fx.ade_full(tmp_path / "ADE20K_2021_17_01")
    ds = open_dataset(root)
    assert ds.kind == "ade20k-full" and ds.stems == ["ADE_train_00016869", "ADE_val_00000001"]
    assert ds.splits == {"train": ["ADE_train_00016869"], "val": ["ADE_val_00000001"]}
    assert ds.class_names[:2] == ["class 1", "class 2"]
    assert np.array_equal(ds.label(0), band(255, 1, 2))  # ids 0 (none), 2, 3
    (root / "objects.txt").write_text("Object Names\tWordnet name\nwall\tx\nsky\ty\nfloor, flooring\tz\n")
    ds = open_dataset(root)
    assert ds.class_names == ["wall", "sky", "floor, flooring"]
    assert np.array_equal(ds.label(0), band(255, 1, 2))
    seg = root / "images/ADE/training/urban/street/ADE_train_00016869_seg.png"
    fx.mask(seg, fx.ade_seg(fx.grid(4)), "RGB")
    with pytest.raises(DataError, match=r"_seg.png: label has values \[4\]"):
        open_dataset(root).label(0)


def test_ade20k_full_many_objects_map_to_the_150(tmp_path):
    root = fx.ade_full(tmp_path / "ADE20K_2021_17_01", ids=(5, 1001, 7, 0))
    names = [f"thing {i}" for i in range(1, 3001)]
    names[4], names[1000] = "wall", "sky"  # ids 5 and 1001
    (root / "objects.txt").write_text("\n".join(names) + "\n")
    ds = open_dataset(root)
    assert ds.class_names == list(CLASSES_150)
    assert np.array_equal(ds.label(0), band(0, 2, 255, 255))  # wall, sky, another object (void), none
    (root / "mapFromADE.txt").write_text("1\t7\t\n3      5\t   \n")  # class150 <tab> ADE id, as shipped
    assert np.array_equal(open_dataset(root).label(0), band(2, 255, 0, 255))


# -- Mapillary Vistas -------------------------------------------------------------------------------------
def test_mapillary_versions(tmp_path):
    root = fx.mapillary(tmp_path / "vistas")
    ds = open_dataset(root)  # newest version: v2.0, whose "unlabeled" sits between two classes
    assert ds.kind == "mapillary" and ds.class_names == ["Bird", "Road"] and ds.void_value == 1
    assert ds.splits == {"train": ["-4lzPHsV9wYOb5OrzTfZ7Q"], "val": ["0aSpw4ucwpdd9ZxZ_2qLOA"],
                         "test": ["__0k_9KYddCC9qLz1kSrXQ"]}
    assert np.array_equal(ds.label(0), band(0, 255, 1))
    assert tuple(ds.palette[1]) == (128, 64, 128)
    v12 = open_dataset(root, format="mapillary-v1.2")
    assert v12.class_names == ["Bird", "Curb"] and v12.void_value == 2
    assert np.array_equal(v12.label(0), band(0, 1, 255)) and v12.label(2) is None
    fx.mask(root / "training/v1.2/labels/-4lzPHsV9wYOb5OrzTfZ7Q.png", band(3), "P")
    with pytest.raises(DataError, match=r"label has values \[3\] that are not labels of config_v1.2.json"):
        open_dataset(root, format="mapillary-v1.2").label(0)


@pytest.mark.parametrize(("text", "problem"), [
    ("{\"labels\": [", "not valid JSON"),
    (json.dumps({"classes": []}), "non-empty \"labels\" list"),
    (json.dumps({"labels": [{"name": "a", "color": [0, 0, 300]}]}), r"labels\[0\] \(a\): color"),
])
def test_mapillary_bad_config(tmp_path, text, problem):
    root = fx.mapillary(tmp_path / "vistas")
    (root / "config_v2.0.json").write_text(text)
    with pytest.raises(DataError, match=rf"config_v2.0.json: .*{problem}"):
        open_dataset(root)


# -- CamVid -----------------------------------------------------------------------------------------------
def test_camvid_segnet(tmp_path):
    root = fx.camvid_segnet(tmp_path / "CamVid")
    ds = open_dataset(root)
    assert ds.kind == "camvid" and ds.num_classes == 11 and ds.void_value == 11 and ds.label_format == "index"
    assert ds.splits["train"] == ["0006R0_f02910", "0001TP_006690"]  # train.txt's order
    assert set(ds.split_files) == {"train", "val", "test"}
    assert tuple(ds.palette[0]) == (128, 128, 128)  # SegNet's Sky
    assert np.array_equal(ds.label("0006R0_f02910"), band(1, 255, 3))
    fx.mask(root / "trainannot/0001TP_006690.png", band(12))
    with pytest.raises(DataError, match=r"0001TP_006690.png: label has values \[12\]"):
        ds.label("0001TP_006690")
    (root / "val.txt").write_text("/SegNet/CamVid/val/missing.png /SegNet/CamVid/valannot/missing.png\n")
    with pytest.raises(DataError, match=r"val.txt: lists 1 image\(s\) not in val/: missing.png"):
        open_dataset(root)


def test_camvid32_colours(tmp_path):
    root = fx.camvid32(tmp_path / "camvid")
    ds = open_dataset(root)
    assert ds.kind == "camvid32" and ds.num_classes == 31 and "Void" not in ds.class_names
    assert ds.class_names[0] == "Animal" and ds.class_names[-1] == "Wall" and ds.splits == {}
    expected = np.tile(np.array([0] * 3 + [255] * 2 + [30] * 3), (fx.H, 1))  # Animal, Void, Wall
    assert np.array_equal(ds.label("0001TP_006690"), expected)
    rgb = np.zeros((fx.H, fx.W, 3), dtype=np.uint8)
    rgb[0, 0] = (1, 2, 3)
    fx.mask(root / "LabeledApproved_full/0001TP_006690_L.png", rgb, "RGB")
    with pytest.raises(DataError, match=r"_L.png: label contains colours that are not in the palette: \(1,2"):
        ds.label(0)


def test_camvid32_kaggle_layout_with_class_dict(tmp_path):
    root = tmp_path / "CamVid"
    (root / "class_dict.csv").parent.mkdir(parents=True)
    (root / "class_dict.csv").write_text("name,r,g,b\nRoad,128,64,128\nVoid,0,0,0\nSky,128,128,128\n")
    for split in ("train", "val"):
        fx.photo(root / split / f"{split}_0001.png")
        rgb = np.zeros((fx.H, fx.W, 3), dtype=np.uint8)
        rgb[:, 4:] = (128, 128, 128)
        fx.mask(root / f"{split}_labels" / f"{split}_0001_L.png", rgb, "RGB")
    ds = open_dataset(root)
    assert ds.kind == "camvid32" and ds.class_names == ["Road", "Sky"] and set(ds.splits) == {"train", "val"}
    assert np.array_equal(ds.label("val_0001"), band(255, 1))


# -- forcing a format -------------------------------------------------------------------------------------
def test_wrong_forced_format_is_a_clear_error(tmp_path):
    voc = make_voc(tmp_path / "voc")
    with pytest.raises(DataError, match=r"not a cityscapes dataset: expected leftImg8bit/.*looks like 'voc'"):
        open_dataset(voc, format="cityscapes")
    with pytest.raises(ValueError, match="unknown dataset format 'cityscape'"):
        open_dataset(voc, format="cityscape")
    assert open_dataset(voc, format="VOC").kind == "voc"


def test_cli_format_option(tmp_path, capsys):
    voc = make_voc(tmp_path / "voc")
    out = tmp_path / "x"
    # fcn export: --data-format is the dataset's format, --format the layout written
    rc = main(["export", "--data", str(voc), "--data-format", "ade20k", "--out", str(out), "--no-progress"])
    assert rc == 2 and not (tmp_path / "x").exists()
    assert "not a ade20k dataset" in capsys.readouterr().err
    weights = tmp_path / "w.safetensors"
    rc = main(["evaluate", "--weights", str(weights), "--data", str(voc), "--format", "kitti"])
    assert rc == 2 and "not a kitti dataset" in capsys.readouterr().err
    cs = fx.cityscapes(tmp_path / "cs")
    assert main(["export", "--data", str(cs), "--data-format", "cityscapes", "--out", str(tmp_path / "y"),
                 "--no-progress"]) == 0
    assert Image.open(tmp_path / "y/SegmentationClass/aachen_000000_000019.png").mode == "P"


def test_unknown_split_names_the_folder_splits(tmp_path):
    ds = open_dataset(fx.kitti(tmp_path / "kitti"))
    with pytest.raises(DataError, match=r"kitti: split 'val' not found; available splits: test, train"):
        ds.split("val")


def test_cli_train_on_cityscapes_with_format(tmp_path, capsys):
    import torch

    from fcn_core.weights import load_model

    cs = fx.cityscapes(tmp_path / "cs")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rc = main(["train", "--data", str(cs), "--format", "cityscapes", "--out", str(tmp_path / "run"),
                   "--arch", "fcn32s", "--width", "0.0625", "--batch-size", "1", "--crop", "6x8",
                   "--max-iters", "1", "--num-workers", "0", "--quiet", "--device", "cpu",
                   "--no-batch-norm"])
    finally:
        torch.set_num_threads(before)
    assert rc == 0
    best = json.loads(capsys.readouterr().out)["best"]
    assert load_model(best).class_names == list(CITYSCAPES)
    rc = main(["train", "--data", str(cs), "--format", "mapillary", "--out", str(tmp_path / "r2"), "--quiet"])
    assert rc == 2 and "not a mapillary dataset" in capsys.readouterr().err


def test_ade20k_full_2016_layout(tmp_path):
    root = tmp_path / "ADE20K_2016_07_26"  # images/{training,validation}/<letter>/<scene>/
    for split in ("training", "validation"):
        for letter in "abcdefghijklmnopqrstuvwxyz":
            (root / "images" / split / letter / "zoo").mkdir(parents=True)
    fx.photo(root / "images/training/z/zoo/ADE_train_00020210.jpg")
    fx.mask(root / "images/training/z/zoo/ADE_train_00020210_seg.png", fx.ade_seg(fx.grid(300, 0)), "RGB")
    assert detect_format(root).name == "ade20k-full"
    ds = open_dataset(root)
    assert ds.stems == ["ADE_train_00020210"] and ds.num_classes == 254
    with pytest.raises(DataError, match=r"values \[300\] that are not object ids of the 254 classes"):
        ds.label(0)
