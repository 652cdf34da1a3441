"""Export never writes into or around its sources, and one bad label does not sink the whole export."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset, read_label, write_palette_png
from fcn_core.export import export_dataset
from tests.bad_inputs import label_map, make_voc, photo, save_png


def _snapshot(*folders):
    return {p: p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture
def source(tmp_path):
    """A 3-image VOC dataset inside ``tmp_path/data`` with a corrections folder for img1."""
    root = make_voc(tmp_path / "data" / "src", n=3)
    fixes = tmp_path / "data" / "fixes"
    write_palette_png(fixes / "img1.png", label_map(seed=5))
    return root, fixes


def _destinations(tmp_path, root, fixes):
    os.symlink(root / "JPEGImages", tmp_path / "link_to_images")
    return {
        "the dataset itself": root,
        "its image folder": root / "JPEGImages",
        "its label folder": root / "SegmentationClass",
        "a new folder inside the images": root / "JPEGImages" / "export",
        "a new folder inside the dataset": root / "exports" / "v1",
        "the folder holding the dataset": root.parent,
        "the corrections folder": fixes,
        "a symlink to the image folder": tmp_path / "link_to_images",
    }


@pytest.mark.parametrize("force", [False, True])
def test_cli_refuses_destinations_in_or_around_the_source(source, tmp_path, capsys, force):
    root, fixes = source
    before = _snapshot(root, fixes)
    for what, out in _destinations(tmp_path, root, fixes).items():
        args = ["export", "--data", str(root), "--labels", str(fixes), "--out", str(out), "--no-progress"]
        assert main(args + (["--force"] if force else [])) == 2, what
        err = capsys.readouterr().err
        assert "destination" in err and str(out) in err and "choose" in err, (what, err)
        assert _snapshot(root, fixes) == before, what
        assert not (root / "exports").exists() and not (root / "JPEGImages" / "export").exists()
    # Nothing was left next to the destinations either (no temporary folders).
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["fixes", "src"]


def test_api_refuses_too(source, tmp_path):
    """The app calls export_dataset directly: the check is in the library, not only the CLI."""
    root, fixes = source
    before = _snapshot(root, fixes)
    for what, out in _destinations(tmp_path, root, fixes).items():
        with pytest.raises(DataError, match="destination"):
            export_dataset(open_dataset(root, labels_dir=fixes), out, force=True)
        assert _snapshot(root, fixes) == before, what


def test_image_folder_outside_the_root_is_protected(tmp_path):
    """A dataset.json may point at photos elsewhere: that folder is a source as well."""
    photos, root = tmp_path / "pictures" / "photos", tmp_path / "ds"
    photos.mkdir(parents=True)
    Image.fromarray(photo()).save(photos / "a.png")
    save_png(root / "labels" / "a.png", label_map(n=4) % 4, "L")
    (root / "dataset.json").write_text(json.dumps({"images": "../pictures/photos", "labels": "labels",
                                                   "class_names": ["w", "x", "y", "z"]}))
    before = _snapshot(photos)
    for out in (photos / "out", photos):
        with pytest.raises(DataError, match="inside the source image folder"):
            export_dataset(root, out, force=True)
    with pytest.raises(DataError, match="holds the source image folder"):
        export_dataset(root, photos.parent, force=True)
    assert _snapshot(photos) == before
    man = export_dataset(root, tmp_path / "pictures" / "elsewhere")  # a sibling folder is fine
    assert man["exported"] == 1


def test_bad_labels_are_listed_and_the_rest_exported(tmp_path, capsys):
    root = make_voc(tmp_path / "src", n=5)
    save_png(root / "SegmentationClass" / "img1.png", label_map(13, 16), "P")  # wrong size
    lab = label_map(seed=3)
    lab[4, 4] = 40  # neither a class nor void
    save_png(root / "SegmentationClass" / "img3.png", lab, "P")
    (root / "SegmentationClass" / "img4.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    rc = main(["export", "--data", str(root), "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 1, captured.err
    for stem in ("img1", "img3", "img4"):
        assert str(root / "SegmentationClass" / f"{stem}.png") in captured.err
    assert "3 of 5" in captured.err and "16x13" in captured.err and "[40]" in captured.err
    man = json.loads((out / "manifest.json").read_text())
    assert man["exported"] == 2 and sorted(man["images"]) == ["img0", "img2"]
    failed = {f["stem"]: f for f in man["failed"]}
    assert sorted(failed) == ["img1", "img3", "img4"]
    assert failed["img1"]["file"] == str(root / "SegmentationClass" / "img1.png")
    assert "16x13" in failed["img1"]["error"] and "[40]" in failed["img3"]["error"]
    # Failed images are in no split file and have no files in the export.
    splits = (out / "ImageSets" / "Segmentation" / "train.txt").read_text().split()
    assert splits == ["img0", "img2"] and (out / "ImageSets" / "Segmentation" / "val.txt").read_text() == ""
    assert sorted(p.stem for p in (out / "SegmentationClass").iterdir()) == ["img0", "img2"]
    assert sorted(p.stem for p in (out / "JPEGImages").iterdir()) == ["img0", "img2"]
    assert np.array_equal(read_label(out / "SegmentationClass" / "img2.png"), label_map(seed=2))


def test_api_reports_failures_and_refuses_when_nothing_is_left(tmp_path):
    root = make_voc(tmp_path / "src", n=2)
    save_png(root / "SegmentationClass" / "img0.png", label_map(13, 16), "P")
    man = export_dataset(root, tmp_path / "o")
    assert man["exported"] == 1 and [f["stem"] for f in man["failed"]] == ["img0"]
    save_png(root / "SegmentationClass" / "img1.png", label_map(11, 16), "P")
    with pytest.raises(DataError) as info:  # an empty export would be useless: nothing is written
        export_dataset(root, tmp_path / "o2")
    assert "img0.png" in str(info.value) and "img1.png" in str(info.value)
    assert not (tmp_path / "o2").exists()


def test_broken_original_under_a_correction_still_exports(tmp_path):
    """Correcting a broken label is the point of corrections: the export uses the correction."""
    root = make_voc(tmp_path / "src", n=2)
    (root / "SegmentationClass" / "img0.png").write_bytes(b"not a png")
    fixes = tmp_path / "fixes"
    write_palette_png(fixes / "img0.png", label_map(seed=9))
    man = export_dataset(root, tmp_path / "o", labels_dir=fixes)
    assert man["exported"] == 2 and man["failed"] == []
    entry = man["images"]["img0"]
    assert entry["corrected"] and entry["changed_pixels"] is None and "img0.png" in entry["original_error"]
