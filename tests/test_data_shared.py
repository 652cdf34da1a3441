"""Every label in ../shared/data opens with the documented values and sizes; VOC labels round-trip exactly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fcn_core.data import open_dataset, read_label, write_index_png, write_palette_png
from fcn_core.data.images import image_size
from fcn_core.data.labelme import rasterize_labelme, read_labels_txt
from fcn_core.data.labels import read_png_palette
from fcn_core.data.palette import VOC_CLASSES, voc_palette
from tests.conftest import shared_data_path


@pytest.fixture(scope="module")
def voc():
    """The VOC sample dataset and all its labels, read once for the module."""
    ds = open_dataset(shared_data_path("voc2012-sample"))
    return ds, {s.stem: ds.label(s.stem) for s in ds.samples}


@pytest.fixture(scope="module")
def camvid():
    """CamVid and all its labels (void 11 → 255), read once for the module."""
    ds = open_dataset(shared_data_path("camvid"))
    return ds, {s.stem: ds.label(s.stem) for s in ds.samples}


def test_voc_layout_and_labels(voc):
    ds, labels = voc
    assert ds.kind == "voc" and ds.label_format == "palette" and ds.void_value == 255
    assert ds.class_names == list(VOC_CLASSES)
    assert len(ds) == 330 and len(labels) == 330
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 264, "val": 66}
    assert set(ds.splits["train"]).isdisjoint(ds.splits["val"])
    assert (ds.palette == voc_palette()).all()
    allowed = set(range(21)) | {255}
    seen = set()
    for stem, lab in labels.items():
        assert lab.dtype == np.uint8 and lab.ndim == 2
        values = set(np.unique(lab).tolist())
        assert values <= allowed, (stem, values - allowed)
        seen |= values
        w, h = image_size(ds.sample(stem).image_path)
        assert lab.shape == (h, w)
    assert 255 in seen and len(seen) >= 15  # borders are void; many classes appear


def test_voc_round_trip_values_and_palette(voc, tmp_path):
    ds, labels = voc
    for stem, lab in labels.items():
        src = ds.sample(stem).label_path
        out = tmp_path / f"{stem}.png"
        write_palette_png(out, lab)
        with Image.open(out) as img:
            assert img.mode == "P"
        assert np.array_equal(read_label(out), lab)
        assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(src)))
        assert np.array_equal(read_png_palette(out), read_png_palette(src))


def test_camvid_void_11_and_sizes(camvid, tmp_path):
    ds, labels = camvid
    assert ds.kind == "voc" and ds.label_format == "index" and ds.void_value == 11
    assert ds.num_classes == 11 and ds.class_names[0] == "Sky"
    # Drawn in SegNet's CamVid colours (PROVENANCE.md), not VOC's: road is purple, sky grey, car dark violet.
    assert ds.palette[3].tolist() == [128, 64, 128]
    assert ds.palette[0].tolist() == [128, 128, 128] and ds.palette[8].tolist() == [64, 0, 128]
    assert len(labels) == 468
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 367, "val": 101}
    allowed = set(range(11)) | {255}
    void_pixels = 0
    for stem, lab in labels.items():
        assert lab.shape == (360, 480), stem
        assert set(np.unique(lab).tolist()) <= allowed, stem
        void_pixels += int((lab == 255).sum())
    assert void_pixels > 0
    # The files hold 11 where memory holds 255, and writing back restores the file's values exactly.
    stem = next(s for s, lab in labels.items() if (lab == 255).any())
    raw = np.asarray(Image.open(ds.sample(stem).label_path))
    assert np.array_equal(raw == 11, labels[stem] == 255)
    write_index_png(tmp_path / "back.png", labels[stem], void_value=11)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "back.png")), raw)


def test_camvid_images_decode(camvid):
    ds, _ = camvid
    for stem in ds.stems[:: max(1, len(ds) // 8)]:  # a spread of images: decoding all would be slow
        img = ds.image(stem)
        assert img.shape == (360, 480, 3) and img.dtype == np.uint8


def test_labelme_matches_its_voc_export():
    root = shared_data_path("labelme-example")
    names = read_labels_txt(root / "labels.txt")
    assert names[0] == "_background_" and len(names) == 21
    ds = open_dataset(root)
    assert ds.kind == "labelme" and len(ds) == 3
    export = open_dataset(root / "data_dataset_voc")
    total = agree = 0
    for stem in ds.stems:
        ours = ds.label(stem)
        ref = export.label(stem)
        img, lab = rasterize_labelme(ds.sample(stem).label_path, names)
        assert np.array_equal(lab, ours) and img.shape[:2] == ours.shape
        npy = np.load(root / "data_dataset_voc" / "SegmentationClassNpy" / f"{stem}.npy")
        assert np.array_equal(ref, npy.astype(np.uint8))  # -1 (ignore) is 255 in the PNG
        assert ours.shape == ref.shape
        assert set(np.unique(ours).tolist()) == set(np.unique(ref).tolist())
        total += ours.size
        agree += int((ours == ref).sum())
    # Same drawing routine as labelme (Pillow polygon, outline included): identical up to a stray pixel.
    assert agree / total >= 0.99999, agree / total
