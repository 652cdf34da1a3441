"""NYUDv2 and SIFT Flow in fcn.berkeleyvision.org's layouts: tiny fixtures, real names and .mat fields."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

scipy_io = pytest.importorskip("scipy.io")

from fcn_core.data import DataError, open_dataset, write_palette_png  # noqa: E402
from fcn_core.data.formats.nyud import NYUD_CLASSES, NYUDDataset  # noqa: E402
from fcn_core.data.formats.siftflow import SUBDIR, SiftFlowDataset  # noqa: E402

H, W = 6, 8


def _nyud(root):
    rng = np.random.default_rng(0)
    for sub in ("data/images", "data/depth", "data/hha", "segmentation"):
        (root / sub).mkdir(parents=True)
    stems = ["5001", "5002", "5003"]
    labels = {}
    for i, stem in enumerate(stems):
        photo = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        Image.fromarray(photo).save(root / f"data/images/img_{stem}.png")
        depth = (rng.integers(500, 10000, (H, W))).astype(np.uint16)
        Image.fromarray(depth).save(root / f"data/depth/img_{stem}.png")  # 16-bit PNG
        Image.fromarray(np.full((H, W, 3), 40 * i, np.uint8)).save(root / f"data/hha/img_{stem}.png")
        seg = rng.integers(0, 41, (H, W)).astype(np.uint8)
        seg[0, :3] = (0, 1, 40)
        scipy_io.savemat(root / f"segmentation/img_{stem}.mat", {"segmentation": seg})
        labels[stem] = seg
    (root / "train.txt").write_text("5001\n5002\n")
    (root / "val.txt").write_text("5003\n")
    (root / "test.txt").write_text("5003\n")
    return labels


def test_nyud_layout_labels_depth_hha_and_splits(tmp_path):
    labels = _nyud(tmp_path / "nyud")
    ds = open_dataset(tmp_path / "nyud")
    assert isinstance(ds, NYUDDataset) and ds.kind == "nyud"
    assert ds.class_names == list(NYUD_CLASSES) and ds.num_classes == 40
    assert ds.stems == ["5001", "5002", "5003"]
    assert ds.splits == {"train": ["5001", "5002"], "val": ["5003"], "test": ["5003"]}
    got = ds.label("5001")
    assert got.dtype == np.uint8 and tuple(got[0, :3]) == (255, 0, 39)  # 0 void, 1..40 -> 0..39
    expected = labels["5001"].astype(np.int64) - 1
    expected[expected < 0] = 255
    assert np.array_equal(got, expected)
    depth = ds.depth("5002")
    assert depth.dtype == np.float32 and depth.shape == (H, W) and depth.min() >= 500
    assert ds.hha("5003").shape == (H, W, 3) and int(ds.hha("5003")[0, 0, 0]) == 80
    assert set(ds.inputs("5001")) == {"color", "depth", "hha"}
    assert ds.input_names == ("color", "depth", "hha")


def test_nyud_bad_mat_files_name_the_file(tmp_path):
    _nyud(tmp_path / "nyud")
    root = tmp_path / "nyud"
    scipy_io.savemat(root / "segmentation/img_5001.mat", {"labels": np.zeros((H, W), np.uint8)})
    (root / "segmentation/img_5002.mat").write_bytes(b"MATLAB 5.0 MAT-file garbage" * 3)
    scipy_io.savemat(root / "segmentation/img_5003.mat", {"segmentation": np.full((H, W), 41, np.uint8)})
    ds = open_dataset(root)
    with pytest.raises(DataError, match="img_5001.mat.*no variable 'segmentation'"):
        ds.label("5001")
    with pytest.raises(DataError, match="img_5002.mat"):
        ds.label("5002")
    with pytest.raises(DataError, match=r"img_5003.mat.*\[41\] are outside 0..40"):
        ds.label("5003")
    (root / "val.txt").write_text("9999\n")
    with pytest.raises(DataError, match="val.txt.*9999"):
        open_dataset(root)


def test_nyud_corrections_replace_the_mat_label(tmp_path):
    _nyud(tmp_path / "nyud")
    fixes = tmp_path / "fixes"
    fixes.mkdir()
    write_palette_png(fixes / "5002.png", np.full((H, W), 7, np.uint8))
    ds = open_dataset(tmp_path / "nyud", labels_dir=fixes)
    assert ds.sample("5002").corrected and (ds.label("5002") == 7).all()
    assert not (ds.original_label("5002") == 7).all()  # the .mat label is still there


def _siftflow(root):
    for sub in ("Images", "SemanticLabels", "GeoLabels"):
        (root / sub / SUBDIR).mkdir(parents=True)
    rng = np.random.default_rng(1)
    names = ["coast_arnat59", "street_urb506"]
    for name in names:
        photo = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        Image.fromarray(photo).save(root / "Images" / SUBDIR / f"{name}.jpg")
        sem = rng.integers(0, 34, (H, W)).astype(np.float64)  # the dataset stores doubles
        sem[0, :3] = (0, 1, 33)
        geo = rng.integers(-1, 4, (H, W)).astype(np.int16)
        geo[0, :4] = (-1, 0, 1, 3)
        scipy_io.savemat(root / "SemanticLabels" / SUBDIR / f"{name}.mat", {"S": sem, "names": ["awning"]})
        scipy_io.savemat(root / "GeoLabels" / SUBDIR / f"{name}.mat", {"S": geo})
    (root / "trainval.txt").write_text("coast_arnat59\n")
    (root / "test.txt").write_text("street_urb506\n")


def test_siftflow_semantic_and_geometric_labels(tmp_path):
    _siftflow(tmp_path / "sift-flow")
    ds = open_dataset(tmp_path / "sift-flow")
    assert isinstance(ds, SiftFlowDataset) and ds.num_classes == 33
    assert ds.task_class_names == {"geo": ["sky", "horizontal", "vertical"]}
    assert ds.splits == {"trainval": ["coast_arnat59"], "test": ["street_urb506"]}
    assert ds.image("coast_arnat59").shape == (H, W, 3)
    sem = ds.label("coast_arnat59")
    assert tuple(sem[0, :3]) == (255, 0, 32)
    geo = ds.geo_label("coast_arnat59")
    assert geo.dtype == np.uint8 and tuple(geo[0, :4]) == (255, 255, 0, 2)  # -1 and 0 void; 1..3 -> 0..2
    assert set(np.unique(geo)) <= {0, 1, 2, 255}
    both = ds.task_labels("street_urb506")
    assert set(both) == {"sem", "geo"} and both["geo"].shape == (H, W)


def test_siftflow_missing_field_and_wrong_size(tmp_path):
    root = tmp_path / "sift-flow"
    _siftflow(root)
    scipy_io.savemat(root / "GeoLabels" / SUBDIR / "coast_arnat59.mat", {"S": np.zeros((3, 3), np.int16)})
    scipy_io.savemat(root / "SemanticLabels" / SUBDIR / "street_urb506.mat", {"T": np.zeros((H, W))})
    ds = open_dataset(root)
    with pytest.raises(DataError, match="coast_arnat59.mat.*3x3"):
        ds.geo_label("coast_arnat59")
    with pytest.raises(DataError, match="street_urb506.mat.*no variable 'S'"):
        ds.label("street_urb506")
