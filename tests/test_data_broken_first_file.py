"""A broken file that happens to sort first must not decide what the whole folder is."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fcn_core.data import DataError, open_dataset
from fcn_core.data.palette import VOC_CLASSES
from fcn_core.export import export_dataset
from tests.bad_inputs import H, W, labelme_folder, make_voc


def test_labelme_folder_with_truncated_first_json_opens_from_the_good_files(tmp_path):
    bad = labelme_folder(tmp_path / "lm")
    ds = open_dataset(tmp_path / "lm")
    assert ds.kind == "labelme" and ds.label_format == "labelme" and ds.stems == ["a", "b", "c"]
    assert all(s.label_path is not None for s in ds.samples)
    lab = ds.label("b")
    assert lab.shape == (H, W) and lab[4, 8] == VOC_CLASSES.index("cat") and lab[10, 2] == 0
    with pytest.raises(DataError) as info:
        ds.label("a")
    assert str(bad) in str(info.value) and "not valid labelme JSON" in str(info.value)
    problems = ds.validate()
    assert [p.path for p in problems] == [str(bad)]
    # The export skips it and says so.
    man = export_dataset(ds, tmp_path / "out")
    assert sorted(man["images"]) == ["b", "c"] and [f["file"] for f in man["failed"]] == [str(bad)]


def test_labelme_example_layout_with_truncated_first_json(tmp_path):
    root = tmp_path / "example"
    bad = labelme_folder(root / "data_annotated")
    (root / "labels.txt").write_text("__ignore__\n_background_\ncat\ndog\n")
    ds = open_dataset(root)
    assert ds.kind == "labelme" and ds.class_names == ["_background_", "cat", "dog"]
    assert ds.label("c")[4, 8] == 1
    assert [p.path for p in ds.validate()] == [str(bad)]


def test_voc_folder_with_unreadable_first_label_opens(tmp_path):
    root = make_voc(tmp_path / "voc", n=3)
    bad = root / "SegmentationClass" / "img0.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    for stem in ("img1", "img2"):  # the dataset's own colours: class 1 drawn in (10, 20, 30)
        img = Image.open(root / "SegmentationClass" / f"{stem}.png")
        pal = img.getpalette()
        pal[3:6] = [10, 20, 30]
        img.putpalette(pal)
        img.save(root / "SegmentationClass" / f"{stem}.png")
    ds = open_dataset(root)
    assert ds.label_format == "palette" and ds.label("img1").shape == (H, W)
    assert np.array_equal(ds.palette[1], [10, 20, 30])  # read from the first readable label
    with pytest.raises(DataError, match="img0.png"):
        ds.label("img0")
    assert [p.path for p in ds.validate()] == [str(bad)]
