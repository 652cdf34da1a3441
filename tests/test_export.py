"""`fcn export` / export_dataset: VOC layout, corrections, manifest, splits, and nothing half-written."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset, read_label, write_palette_png
from fcn_core.data.atomic import default_mode
from fcn_core.data.labels import read_png_palette
from fcn_core.data.palette import voc_palette
from fcn_core.export import assign_split, export_dataset, parse_split
from tests.bad_inputs import label_map, make_voc, photo, save_png
from tests.conftest import shared_data_path


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def corrected(tmp_path):
    """A 4-image VOC dataset with a correction for img1 that changes 7 pixels."""
    root = make_voc(tmp_path / "src", n=4)
    fixed = label_map(seed=1).copy()
    fixed[5, 2:9] = np.where(fixed[5, 2:9] == 3, 4, 3)
    write_palette_png(tmp_path / "fixes" / "img1.png", fixed)
    return root, tmp_path / "fixes", fixed


def test_export_layout_and_manifest(corrected, tmp_path, capsys):
    root, fixes, fixed = corrected
    out = tmp_path / "out dir"
    rc = main(["export", "--data", str(root), "--labels", str(fixes), "--out", str(out), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert "4 images (1 corrected)" in capsys.readouterr().out
    for i in range(4):
        src_img = root / "JPEGImages" / f"img{i}.jpg"
        assert (out / "JPEGImages" / f"img{i}.jpg").read_bytes() == src_img.read_bytes()  # byte for byte
        lbl = out / "SegmentationClass" / f"img{i}.png"
        with Image.open(lbl) as im:
            assert im.mode == "P"
        assert np.array_equal(read_png_palette(lbl), voc_palette())
        want = fixed if i == 1 else label_map(seed=i)
        assert np.array_equal(read_label(lbl), want)
        vis = np.asarray(Image.open(out / "SegmentationClassVisualization" / f"img{i}.jpg"))
        assert vis.shape == (12, 16, 3)
    assert (out / "ImageSets/Segmentation/train.txt").read_text().split() == ["img0", "img1", "img2"]
    assert (out / "ImageSets/Segmentation/val.txt").read_text().split() == ["img3"]
    assert (out / "class_names.txt").read_text().splitlines()[1] == "aeroplane"
    man = json.loads((out / "manifest.json").read_text())
    assert man["exported"] == 4 and man["corrected"] == 1
    e1, e0 = man["images"]["img1"], man["images"]["img0"]
    assert e1["corrected"] and e1["changed_pixels"] == 7 and e1["label_source"] == str(fixes / "img1.png")
    assert e1["original_label"] == str(root / "SegmentationClass" / "img1.png")
    assert not e0["corrected"] and e0["changed_pixels"] == 0
    assert e0["image_sha256"] == _sha(out / "JPEGImages" / "img0.jpg")
    assert e0["label_sha256"] == _sha(out / "SegmentationClass" / "img0.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixes", "out dir", "src"]  # no temp folders left
    # Built in a temporary folder, but readable like any folder made by mkdir (not mkdtemp's 0700).
    assert out.stat().st_mode & 0o777 == default_mode(folder=True)
    assert (out / "SegmentationClass" / "img0.png").stat().st_mode & 0o777 == default_mode()
    # The export opens as a dataset and says the same thing.
    again = open_dataset(out)
    assert again.kind == "voc" and np.array_equal(again.label("img1"), fixed)


def test_random_split_is_seeded_and_complete():
    assert parse_split("train=0.8,val=0.2") == {"train": 0.8, "val": 0.2}
    for bad in ("train=0.8", "train=0.5,val=0.6", "train", "train=x,val=1", "a=-0.5,b=1.5"):
        with pytest.raises(ValueError):
            parse_split(bad)
    stems = [f"s{i:03d}" for i in range(101)]
    a = assign_split(stems, {"train": 0.8, "val": 0.2}, seed=3)
    assert a == assign_split(stems, {"train": 0.8, "val": 0.2}, seed=3)
    assert a != assign_split(stems, {"train": 0.8, "val": 0.2}, seed=4)
    assert len(a["train"]) == 81 and len(a["val"]) == 20
    assert sorted(a["train"] + a["val"]) == stems


def test_export_with_new_split(corrected, tmp_path):
    root, fixes, _ = corrected
    man = export_dataset(open_dataset(root), tmp_path / "o", labels_dir=fixes, split="train=0.5,val=0.5",
                         seed=1)
    assert man["split"]["counts"] == {"train": 2, "val": 2} and man["corrected"] == 1
    names = sorted((tmp_path / "o" / "ImageSets" / "Segmentation").iterdir())
    assert [p.name for p in names] == ["train.txt", "val.txt"]


def test_refuses_non_empty_destination_unless_forced(corrected, tmp_path, capsys):
    root, _, _ = corrected
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["export", "--data", str(root), "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err and (out / "keep.txt").read_text() == "precious"
    assert main(["export", "--data", str(root), "--out", str(out), "--force", "--no-progress"]) == 0
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()
    with pytest.raises(DataError, match="holds the source"):
        export_dataset(open_dataset(root), root.parent, force=True)  # would delete the source


def test_corrections_matching_no_image_are_reported(corrected, tmp_path, capsys):
    root, fixes, fixed = corrected
    write_palette_png(fixes / "img9.png", fixed)  # no img9 in the dataset (typo, renamed photo)
    out = tmp_path / "o"
    rc = main(["export", "--data", str(root), "--labels", str(fixes), "--out", str(out), "--no-progress"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: 1 correction(s)" in err and "img9.png" in err
    man = json.loads((out / "manifest.json").read_text())
    assert man["unmatched_corrections"] == ["img9.png"] and man["corrected"] == 1


def test_labels_folder_that_does_not_exist_is_an_error(corrected, tmp_path, capsys):
    root, fixes, _ = corrected
    typo = tmp_path / "fixse"
    assert main(["export", "--data", str(root), "--labels", str(typo), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    assert f"{typo}: corrections folder (--labels) not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    ckpt = tmp_path / "m.safetensors"  # evaluate refuses it before loading anything
    assert main(["evaluate", "--weights", str(ckpt), "--data", str(root), "--labels", str(typo)]) == 2
    assert str(typo) in capsys.readouterr().err


def test_failure_or_stop_leaves_nothing_half_written(corrected, tmp_path, monkeypatch):
    from fcn_core.data.formats import writers

    root, _, _ = corrected
    out = tmp_path / "o"
    export_dataset(open_dataset(root), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # A write failing in the middle of the set (disk full): the previous export is untouched.
    # (A bad source label only skips that image: tests/test_export_safety.py.)
    real_write = writers.write_palette_png  # the VOC writer's label write

    def write(path, *args, **kwargs):
        if path.stem == "img2":
            raise OSError(28, "No space left on device")
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(writers, "write_palette_png", write)
    with pytest.raises(OSError, match="No space"):
        export_dataset(open_dataset(root), out, force=True)
    monkeypatch.setattr(writers, "write_palette_png", real_write)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # Stopped half way: nothing is written at a fresh destination either.
    calls = iter([False, False, True])
    man = export_dataset(open_dataset(root), tmp_path / "fresh", should_stop=lambda: next(calls))
    assert man["stopped"] and not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixes", "o", "src"]


def test_index_dataset_void_becomes_255_and_unlabelled_skipped(tmp_path):
    root = tmp_path / "idx"
    (root / "images").mkdir(parents=True)
    lab = np.minimum(label_map(n=4), 4)
    lab[lab == 255] = 4  # void 4 in this dataset's files
    for stem in ("a", "b"):
        Image.fromarray(photo()).save(root / "images" / f"{stem}.png")
    save_png(root / "labels" / "a.png", lab, "L")
    (root / "dataset.json").write_text(json.dumps({"class_names": ["w", "x", "y", "z"], "void_value": 4}))
    progress = []
    man = export_dataset(root, tmp_path / "o", progress=lambda d, t: progress.append((d, t)))
    assert man["skipped"] == ["b"] and man["exported"] == 1 and progress == [(1, 1)]
    out_lab = np.asarray(Image.open(tmp_path / "o" / "SegmentationClass" / "a.png"))
    assert np.array_equal(out_lab == 255, lab == 4) and out_lab[lab != 4].max() <= 3
    assert (tmp_path / "o" / "JPEGImages" / "a.png").read_bytes() == (root / "images" / "a.png").read_bytes()
    assert (tmp_path / "o" / "ImageSets" / "Segmentation" / "trainval.txt").read_text() == "a\n"


def test_labelme_export_matches_labelmes_own(tmp_path):
    src = shared_data_path("labelme-example")
    man = export_dataset(src, tmp_path / "o")
    assert man["exported"] == 3
    for stem in man["images"]:
        ours = read_label(tmp_path / "o" / "SegmentationClass" / f"{stem}.png")
        theirs = read_label(src / "data_dataset_voc" / "SegmentationClass" / f"{stem}.png")
        assert (ours == theirs).mean() > 0.9999
