"""`fcn export --format voc|index-png|cityscapes|cvat-mask`: each export re-read, opened again, and equal."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset, read_image, read_label, write_palette_png
from fcn_core.data.formats import writers
from fcn_core.export import export_dataset
from tests import format_fixtures as fx
from tests.bad_inputs import label_map, make_voc
from tests.format_fixtures import make_cvat


@pytest.fixture
def voc(tmp_path):
    """A 4-image VOC dataset (void borders) with a correction for img1."""
    root = make_voc(tmp_path / "src", n=4)
    fixed = label_map(seed=1).copy()
    fixed[5, 2:9] = 4
    write_palette_png(tmp_path / "fixes" / "img1.png", fixed)
    return open_dataset(root, labels_dir=tmp_path / "fixes")


def _same_dataset(a, b):
    assert b.class_names == a.class_names
    assert np.array_equal(b.palette[: a.num_classes], a.palette[: a.num_classes])
    assert sorted(b.stems) == sorted(a.stems)
    for stem in a.stems:
        assert np.array_equal(b.label(stem), a.label(stem)), stem
        assert np.array_equal(b.image(stem), a.image(stem)), stem


@pytest.mark.parametrize("fmt", ["voc", "index-png", "cvat-mask"])
def test_export_round_trip(voc, tmp_path, fmt):
    out = tmp_path / fmt
    man = export_dataset(voc, out, format=fmt, void_value=200)
    assert man["format"] == fmt and man["verified"] == {"labels": 4, "mismatches": 0}
    assert json.loads((out / "manifest.json").read_text())["verified"] == {"labels": 4, "mismatches": 0}
    again = open_dataset(out)
    assert again.kind == {"voc": "voc", "index-png": "index", "cvat-mask": "cvat-mask"}[fmt]
    _same_dataset(voc, again)
    assert np.array_equal(again.label("img1")[5, 2:9], [4] * 7)  # the correction went along


def test_index_png_files_use_the_chosen_void(voc, tmp_path, capsys):
    out = tmp_path / "idx"
    assert main(["export", "--data", str(voc.root), "--labels", str(voc.labels_dir), "--out", str(out),
                 "--format", "index-png", "--void", "200", "--no-progress"]) == 0
    assert "4 written label files read back identical" in capsys.readouterr().out
    with Image.open(out / "labels" / "img0.png") as im:
        assert im.mode == "L"
        raw = np.asarray(im)
    assert (raw[0] == 200).all() and (raw[1:] < 21).all()  # the void row, in the file's void value
    assert json.loads((out / "dataset.json").read_text())["void_value"] == 200
    assert (out / "splits" / "val.txt").read_text().split() == ["img3"]
    assert main(["export", "--data", str(voc.root), "--out", str(tmp_path / "bad"), "--format", "index-png",
                 "--void", "20", "--no-progress"]) == 2  # 20 is class 'tvmonitor'
    assert "void value 20 must be in 21..255" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_cvat_mask_export_for_cvat(voc, tmp_path, capsys):
    out = tmp_path / "cvat"
    assert main(["export", "--data", str(voc.root), "--labels", str(voc.labels_dir), "--out", str(out),
                 "--format", "cvat-mask", "--no-progress"]) == 0
    assert "label 'ignored' (224, 224, 192)" in capsys.readouterr().err  # VOC's void borders
    lines = (out / "labelmap.txt").read_text().splitlines()
    assert lines[0] == "# label:color_rgb:parts:actions"
    assert lines[1:3] == ["background:0,0,0::", "aeroplane:128,0,0::"]
    assert lines[-1] == "ignored:224,224,192::" and len(lines) == 23
    with Image.open(out / "SegmentationClass" / "img0.png") as im:
        assert im.mode == "RGB"  # colour masks, as CVAT exports them
    # One subset per image (CVAT imports each ImageSets file as a subset).
    assert (out / "ImageSets/Segmentation/train.txt").read_text().split() == ["img0", "img1", "img2"]
    photo = "JPEGImages/img0.jpg"
    assert (out / photo).read_bytes() == (voc.root / photo).read_bytes()
    # A CVAT task comes back out of the app with its own names and colours.
    task = open_dataset(make_cvat(tmp_path / "task"))
    man = export_dataset(task, tmp_path / "task-out", format="cvat-mask")
    assert man["void_label"] is None and "ignored" not in (tmp_path / "task-out" / "labelmap.txt").read_text()
    _same_dataset(task, open_dataset(tmp_path / "task-out"))


def test_cityscapes_export_files(voc, tmp_path):
    # The files themselves, read directly (the round trips through the Cityscapes reader are below).
    out = tmp_path / "cs"
    man = export_dataset(voc, out, format="cityscapes", city="bremen")
    assert man["verified"] == {"labels": 12, "mismatches": 0}  # photo, train ids and colour image per sample
    split_of = {"img0": "train", "img1": "train", "img2": "train", "img3": "val"}
    pal = voc.palette.copy()
    pal[255] = (0, 0, 0)  # Cityscapes' unlabeled colour
    for stem, split in split_of.items():
        base = f"{split}/bremen/{stem}"
        assert np.array_equal(read_image(out / "leftImg8bit" / f"{base}_leftImg8bit.png"), voc.image(stem))
        ids = out / "gtFine" / f"{base}_gtFine_labelTrainIds.png"
        with Image.open(ids) as im:
            assert im.mode == "L"
        assert np.array_equal(read_label(ids), voc.label(stem))
        colour = np.asarray(Image.open(out / "gtFine" / f"{base}_gtFine_color.png").convert("RGB"))
        assert np.array_equal(colour, pal[voc.label(stem)])
        assert man["images"][stem]["split"] == split
    assert (out / "class_names.txt").read_text().splitlines() == voc.class_names
    assert not (out / ".unsplit").exists()  # the staging folder is gone once the files are in their split


def test_cityscapes_round_trip_of_other_classes(voc, tmp_path, capsys):
    # VOC's 21 classes are not Cityscapes': the reader takes them from the export's dataset.json.
    out = tmp_path / "cs"
    assert main(["export", "--data", str(voc.root), "--labels", str(voc.labels_dir), "--out", str(out),
                 "--format", "cityscapes", "--city", "bremen", "--no-progress"]) == 0, capsys.readouterr().err
    back = open_dataset(out, format="cityscapes")
    assert back.kind == "cityscapes" and back.label_format == "mapped"
    _same_dataset(voc, back)
    assert back.splits == {"train": ["img0", "img1", "img2"], "val": ["img3"]}
    assert np.array_equal(back.label("img1")[5, 2:9], [4] * 7)  # the correction went along
    assert open_dataset(out).kind == "cityscapes"  # detected as well


def test_cityscapes_round_trip_of_cityscapes(tmp_path):
    from fcn_core.data.formats.cityscapes import CLASSES

    src = open_dataset(fx.cityscapes(tmp_path / "src"))
    man = export_dataset(src, tmp_path / "out", format="cityscapes")
    back = open_dataset(tmp_path / "out", format="cityscapes")
    labelled = [s.stem for s in src.samples if s.label_path is not None]
    assert man["exported"] == len(labelled) == 3 and sorted(back.stems) == sorted(labelled)
    assert back.class_names == list(CLASSES) == src.class_names
    assert np.array_equal(back.palette, src.palette)
    for stem in labelled:
        assert np.array_equal(back.label(stem), src.label(stem)), stem
        assert np.array_equal(back.image(stem), src.image(stem)), stem
    assert back.splits == {"train": ["aachen_000000_000019", "aachen_000001_000019"],
                           "val": ["frankfurt_000000_000294"]}


def test_cityscapes_reader_refuses_label_ids_under_other_classes(voc, tmp_path):
    out = tmp_path / "cs"
    export_dataset(voc, out, format="cityscapes")
    gt = out / "gtFine" / "val" / "fcn"
    (gt / "img3_gtFine_labelTrainIds.png").rename(gt / "img3_gtFine_labelIds.png")
    back = open_dataset(out)
    with pytest.raises(DataError, match=r"img3_gtFine_labelIds\.png: .*Cityscapes label ids.*dataset\.json"):
        back.label("img3")
    (out / "dataset.json").write_text(json.dumps({"class_names": voc.class_names, "palette": [[0, 0]]}))
    with pytest.raises(DataError, match=r"dataset\.json: palette must"):
        open_dataset(out)


def test_bad_labels_are_listed_and_the_rest_written(voc, tmp_path, capsys):
    # A bad label is left out and listed (never half-written); the others go through the writer, are read
    # back and verified, and a new random split is made of the exported images only.
    (voc.root / "SegmentationClass" / "img2.png").write_bytes(b"not a png")
    man = export_dataset(voc.root, tmp_path / "cs", format="cityscapes", split="train=0.5,val=0.5")
    assert [f["stem"] for f in man["failed"]] == ["img2"]
    assert man["failed"][0]["file"] == str(voc.root / "SegmentationClass" / "img2.png")
    assert man["exported"] == 3 and man["verified"] == {"labels": 9, "mismatches": 0}
    assert man["split"]["counts"] == {"train": 2, "val": 1}
    assert not list((tmp_path / "cs").rglob("img2*"))
    for entry in man["images"].values():
        for field in ("image", "label", "label_color"):
            assert entry[field].split("/")[1] == entry["split"] and (tmp_path / "cs" / entry[field]).is_file()
    back = open_dataset(tmp_path / "cs")
    assert sorted(back.stems) == ["img0", "img1", "img3"]
    assert {s: n for n, stems in back.splits.items() for s in stems} == {
        s: e["split"] for s, e in man["images"].items()}
    rc = main(["export", "--data", str(voc.root), "--out", str(tmp_path / "cvat"), "--format", "cvat-mask",
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and "1 of 4 images could not be exported" in err and "img2.png" in err
    manifest = json.loads((tmp_path / "cvat" / "manifest.json").read_text())
    assert manifest["format"] == "cvat-mask" and manifest["verified"] == {"labels": 3, "mismatches": 0}
    assert [f["stem"] for f in manifest["failed"]] == ["img2"]
    assert sorted(open_dataset(tmp_path / "cvat").stems) == ["img0", "img1", "img3"]


def test_verification_failure_leaves_nothing(voc, tmp_path, monkeypatch):
    real = writers.read_label

    def off_by_one(path, **kw):
        lab = real(path, **kw).copy()
        lab[-1, -1] = (int(lab[-1, -1]) + 1) % 21
        return lab

    monkeypatch.setattr(writers, "read_label", off_by_one)
    with pytest.raises(DataError, match=r"4 written file\(s\) read back different .*Class/img0\.png"):
        export_dataset(voc, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixes", "src"]


def test_formats_that_cannot_hold_the_classes_are_refused(tmp_path):
    root = make_voc(tmp_path / "src", n=2)
    names = ["a", "b:c"] + [f"c{i}" for i in range(19)]
    (root / "dataset.json").write_text(json.dumps({"class_names": names}))
    with pytest.raises(ValueError, match=r"class name 'b:c' cannot be written to labelmap\.txt"):
        export_dataset(root, tmp_path / "o1", format="cvat-mask")
    pal = [[0, 0, 0]] * 21
    (root / "dataset.json").write_text(json.dumps({"palette": pal}))
    with pytest.raises(DataError, match="share the colour"):
        export_dataset(root, tmp_path / "o2", format="cvat-mask")
    with pytest.raises(ValueError, match="unknown export format 'coco'"):
        export_dataset(root, tmp_path / "o3", format="coco")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
