"""`fcn regions`: from a model and from prediction folders (flat, per stride, with confidence maps); named
errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from fcn_core.cli import main
from fcn_core.data import open_dataset, write_palette_png
from fcn_core.data.predictions import stored_path, write_probability_png
from fcn_core.predictor import Predictor
from fcn_core.regions import LABEL_SUSPECT, MODEL_WRONG, extract_regions
from fcn_core.weights import load_model

H, W = 48, 64
NAMES = ["background", "square"]


def _image(seed: int) -> np.ndarray:
    img = np.full((H, W, 3), 40, np.uint8)
    img[12:36, 16:48] = 210
    return img


@pytest.fixture
def squares(tmp_path):
    """Three images of a bright square; GT of img1 has its right border 6 px too far out; img2 has no
    square in its GT (erased). Saved as PNG (lossless) in VOC layout."""
    root = tmp_path / "ds"
    (root / "JPEGImages").mkdir(parents=True)
    seg = root / "ImageSets" / "Segmentation"
    seg.mkdir(parents=True)
    truth = np.zeros((H, W), np.uint8)
    truth[12:36, 16:48] = 1
    gts = {"img0": truth.copy(), "img1": truth.copy(), "img2": np.zeros((H, W), np.uint8)}
    gts["img1"][12:36, 48:54] = 1
    for stem, gt in gts.items():
        Image.fromarray(_image(0)).save(root / "JPEGImages" / f"{stem}.png")
        write_palette_png(root / "SegmentationClass" / f"{stem}.png", gt)
    (seg / "val.txt").write_text("img0\nimg1\nimg2\n")
    (seg / "train.txt").write_text("img0\n")
    (root / "class_names.txt").write_text("\n".join(NAMES) + "\n")
    return root, truth


def _write_preds(folder, truth, stems=("img0", "img1", "img2")):
    for stem in stems:
        write_palette_png(folder / f"{stem}.png", truth)


def _run(capsys, *args):
    rc = main(["regions", *map(str, args), "--no-progress"])
    return rc, capsys.readouterr()


def test_flat_prediction_folder_without_confidence(squares, tmp_path, capsys):
    root, truth = squares
    _write_preds(tmp_path / "pred", truth)
    rc, out = _run(capsys, "--pred", tmp_path / "pred", "--data", root, "--split", "val", "--json",
                   tmp_path / "r.json")
    assert rc == 0, out.err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["images"] == 3
    got = sorted((r["image"], tuple(r["box"]), r["area"], r["true_class"], r["predicted_class"])
                 for r in rep["regions"])
    assert got == [("img1", (48, 12, 54, 36), 144, "square", "background"),
                   ("img2", (16, 12, 48, 36), 768, "background", "square")]
    for r in rep["regions"]:
        assert r["stride"] is None and r["confidence"] is None and r["verdict"] == MODEL_WRONG
    assert "2 regions in 3 images" in out.out


def test_stride_folders_with_confidence_maps(squares, tmp_path, capsys):
    root, truth = squares
    pred = tmp_path / "pred"
    for s in (32, 16, 8):
        _write_preds(pred / f"{s}s", truth)
    # confidence maps as `fcn predict --save-confidence` writes them (16-bit, value / 65535), 8s only
    for stem, p in (("img0", 0.95), ("img1", 0.95), ("img2", 0.9)):
        write_probability_png(stored_path(pred, stem, 8, True, "confidence"), np.full((H, W), p, np.float32))
    rc, out = _run(capsys, "--pred", pred, "--data", root, "--split", "val", "--json", tmp_path / "r.json")
    assert rc == 0, out.err
    regions = {r["image"]: r for r in json.loads((tmp_path / "r.json").read_text())["regions"]}
    assert regions["img1"]["stride"] == 8 and regions["img1"]["confidence"] == pytest.approx(0.95)
    assert regions["img2"]["confidence"] == pytest.approx(0.9, abs=1e-4)
    assert regions["img1"]["agreement"] == 1.0
    # the label's border is off the image edge, the model's is on it: the label is suspect
    assert regions["img1"]["verdict"] == LABEL_SUSPECT and regions["img2"]["verdict"] == LABEL_SUSPECT
    rc, out = _run(capsys, "--pred", pred, "--data", root, "--stride", "16", "--json", tmp_path / "r16.json")
    assert rc == 0
    regions16 = json.loads((tmp_path / "r16.json").read_text())["regions"]
    assert {r["stride"] for r in regions16} == {16} and all(r["confidence"] is None for r in regions16)


def test_model_regions_match_extract_regions(squares, tmp_path, capsys):
    from fcn_core.models import build_model
    from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

    root, _ = squares
    torch.manual_seed(0)
    model = build_model("fcn-multi", num_classes=2, width=0.0625)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("score"):
                p.normal_(0, 0.5)
    ckpt = tmp_path / "m.safetensors"
    save_checkpoint(ckpt, model, arch="fcn-multi", class_names=NAMES, preprocessing=CAFFE_PREPROCESSING)
    rc, out = _run(capsys, "--weights", ckpt, "--data", root, "--split", "val", "--device", "cpu",
                   "--min-area", "1", "--json", tmp_path / "r.json")
    assert rc == 0, out.err
    rep = json.loads((tmp_path / "r.json").read_text())
    predictor = Predictor(load_model(ckpt), device="cpu")
    ds = open_dataset(root)
    expected = []
    for stem in ("img0", "img1", "img2"):
        image = ds.image(stem)
        for r in extract_regions(image, ds.label(stem), predictor.predict(image), 8, min_area=1):
            expected.append(r.to_json(NAMES, stem))
    key = lambda r: (r["image"], r["box"], r["true_class"])  # noqa: E731
    assert sorted(rep["regions"], key=key) == sorted(expected, key=key) and expected
    assert all(r["stride"] == 8 and r["confidence"] is not None for r in rep["regions"])
    # suspects first, then by area
    order = [(r["verdict"] != LABEL_SUSPECT, -r["area"]) for r in rep["regions"]]
    assert order == sorted(order)


def test_errors_name_the_problem(squares, tmp_path, capsys):
    root, truth = squares
    out_json = tmp_path / "r.json"
    rc, out = _run(capsys, "--pred", tmp_path / "nowhere", "--data", root, "--json", out_json)
    assert rc == 2 and "nowhere" in out.err and "not found" in out.err
    bad = tmp_path / "bad"
    _write_preds(bad, truth)
    write_palette_png(bad / "img1.png", truth[:, :-3])
    rc, out = _run(capsys, "--pred", bad, "--data", root, "--json", out_json)
    assert rc == 2 and str(bad / "img1.png") in out.err and "61x48" in out.err
    some = tmp_path / "some"
    _write_preds(some, truth, stems=("img0",))
    rc, out = _run(capsys, "--pred", some, "--data", root, "--split", "val", "--json", out_json)
    assert rc == 0 and "2 image(s) have no prediction" in out.err
    none = tmp_path / "none"
    _write_preds(none, truth, stems=("other",))
    rc, out = _run(capsys, "--pred", none, "--data", root, "--json", out_json)
    assert rc == 2 and "no image" in out.err
    folders = tmp_path / "folders"
    _write_preds(folders / "8s", truth)
    rc, out = _run(capsys, "--pred", folders, "--data", root, "--stride", "32", "--json", out_json)
    assert rc == 2 and "not 32" in out.err
    conf_bad = tmp_path / "conf_bad"
    _write_preds(conf_bad, truth)
    bad_map = stored_path(conf_bad, "img0", 8, False, "confidence")
    write_probability_png(bad_map, np.full((H // 2, W), 0.5, np.float32))
    rc, out = _run(capsys, "--pred", conf_bad, "--data", root, "--json", out_json)
    assert rc == 2 and str(bad_map) in out.err and f"{W}x{H // 2}" in out.err
