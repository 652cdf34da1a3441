"""SBD (cls/*.mat with GTcls.Segmentation) and labelme ``mask`` shapes (labelme's AI tools)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from fcn_core.data import DataError, open_dataset
from fcn_core.data.labelme import rasterize_labelme
from fcn_core.data.palette import VOC_CLASSES, voc_palette
from tests.format_fixtures import png_b64, save_photo


def _gtcls(path, seg):
    """A cls/*.mat file as SBD ships it: struct GTcls with Segmentation, Boundaries (cell of sparse) and
    CategoriesPresent."""
    bounds = np.empty((20, 1), dtype=object)
    for i in range(20):
        bounds[i, 0] = scipy.sparse.csc_matrix(seg.shape, dtype=bool)
    present = np.unique(seg[(seg > 0) & (seg < 255)]).astype(np.uint8).reshape(-1, 1)
    scipy.io.savemat(str(path), {"GTcls": {"Segmentation": seg.astype(np.uint8), "Boundaries": bounds,
                                           "CategoriesPresent": present}})


def _seg(seed):
    seg = np.zeros((12, 16), np.uint8)
    rng = np.random.default_rng(seed)
    seg[2:7, 3:11] = rng.integers(1, 21)
    seg[8:, :4] = rng.integers(1, 21)
    return seg


def make_sbd(root, n=3):
    for d in ("img", "cls", "inst"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        save_photo(root / "img" / f"2008_00000{i}.jpg", i)
        _gtcls(root / "cls" / f"2008_00000{i}.mat", _seg(i))
        scipy.io.savemat(str(root / "inst" / f"2008_00000{i}.mat"),
                         {"GTinst": {"Segmentation": (_seg(i) > 0).astype(np.uint8)}})
    (root / "train.txt").write_text("".join(f"2008_00000{i}\n" for i in range(n - 1)))
    (root / "val.txt").write_text(f"2008_00000{n - 1}\n")
    return root


def test_sbd_reads_gtcls(tmp_path):
    root = make_sbd(tmp_path / "dataset")
    ds = open_dataset(root)
    assert ds.kind == "sbd" and ds.class_names == list(VOC_CLASSES) and ds.label_format == "mat"
    assert np.array_equal(ds.palette[:21], voc_palette(21))
    assert ds.splits == {"train": ["2008_000000", "2008_000001"], "val": ["2008_000002"]}
    for i in range(3):
        assert np.array_equal(ds.label(i), _seg(i))


def test_sbd_bad_inputs(tmp_path):
    root = make_sbd(tmp_path / "dataset")
    cls = root / "cls"
    seg = _seg(0)
    seg[1, 1] = 30
    _gtcls(cls / "2008_000000.mat", seg)
    with pytest.raises(DataError, match=r"2008_000000\.mat: label has value 30 at \(x=1, y=1\)"):
        open_dataset(root).label("2008_000000")
    (cls / "2008_000000.mat").write_bytes((root / "inst" / "2008_000000.mat").read_bytes())
    with pytest.raises(DataError, match=r"2008_000000\.mat: holds GTinst \(an SBD instance map"):
        open_dataset(root).label("2008_000000")
    (cls / "2008_000000.mat").write_text("not a mat file")
    with pytest.raises(DataError, match=r"2008_000000\.mat: not a readable MATLAB \.mat file"):
        open_dataset(root).label("2008_000000")
    _gtcls(cls / "2008_000001.mat", np.zeros((5, 5), np.uint8))
    with pytest.raises(DataError, match=r"2008_000001\.mat: label is 5x5 but its image"):
        open_dataset(root).label("2008_000001")
    (root / "img" / "2008_000002.jpg").unlink()
    with pytest.raises(DataError, match=r"2008_000002\.mat: class map has no image"):
        open_dataset(root)
    (cls / "2008_000002.mat").unlink()
    with pytest.raises(DataError, match=r"val\.txt: split lists 1 image"):
        open_dataset(root)


def _labelme(path, shapes):
    path.write_text(json.dumps({"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": None,
                                "imageData": None, "imageHeight": 12, "imageWidth": 16}))


def test_labelme_mask_shapes_placed_like_labelme(tmp_path):
    box = np.zeros((4, 6), bool)  # the box (3,2)-(8,5), corners inclusive: 6 wide, 4 high
    box[1:3, 1:5] = True
    box[0, 0] = True
    shapes = [
        {"label": "cat", "points": [[0, 0], [15, 0], [15, 11], [0, 11]], "shape_type": "polygon"},
        # labelme casts the corners to int; fractional corners as the AI tools may write them
        {"label": "dog", "points": [[3.7, 2.2], [8.9, 5.6]], "shape_type": "mask", "mask": png_b64(box)},
    ]
    _labelme(tmp_path / "a.json", shapes)
    _, lab = rasterize_labelme(tmp_path / "a.json", ["_background_", "cat", "dog"], with_image=False)
    want = np.ones((12, 16), np.uint8)
    want[2:6, 3:9][box] = 2  # labelme: mask[y1:y2 + 1, x1:x2 + 1] = shape["mask"], later shapes on top
    assert np.array_equal(lab, want)


@pytest.mark.parametrize("shape, problem", [
    ({"points": [[3, 2], [8, 5]], "mask": png_b64(np.ones((3, 3)))}, r"mask is 3x3 but its box .* is 6x4"),
    ({"points": [[10, 2], [17, 5]], "mask": png_b64(np.ones((4, 8)))}, r"\(10,2\)-\(17,5\) is not inside"),
    ({"points": [[3, 2], [8, 5]]}, r"has no 'mask' \(a base64 PNG\)"),
    ({"points": [[3, 2], [8, 5]], "mask": "bm90IGEgcG5n"}, "'mask' is not a base64 PNG"),
    ({"points": [[3, 2]], "mask": png_b64(np.ones((4, 6)))}, r"needs 2 points"),
])
def test_labelme_bad_mask_shapes(tmp_path, shape, problem):
    _labelme(tmp_path / "b.json", [dict(shape, label="dog", shape_type="mask")])
    with pytest.raises(DataError, match=r"b\.json: mask shape 'dog'.*" + problem):
        rasterize_labelme(tmp_path / "b.json", ["_background_", "dog"], with_image=False)
