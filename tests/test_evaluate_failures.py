"""Evaluation goes on past bad files: every one is listed at the end (stderr, JSON, result), exit status 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fcn_core.cli import main
from fcn_core.data import DataError, open_dataset
from fcn_core.data.palette import VOC_CLASSES
from fcn_core.evaluation import evaluate_dataset, evaluate_folders
from fcn_core.metrics import confusion_matrix
from tests.bad_inputs import label_map, labelme_folder, make_voc, save_png


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from fcn_core.models import build_model
    from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

    torch.manual_seed(0)
    model = build_model("fcn-multi", num_classes=21, width=0.0625)
    with torch.no_grad():  # score layers start at zero: give them values so predictions vary
        for name, p in model.named_parameters():
            if name.startswith("score"):
                p.normal_(0, 0.5)
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    save_checkpoint(path, model, class_names=list(VOC_CLASSES), preprocessing=CAFFE_PREPROCESSING)
    return path


@pytest.fixture
def predictor(checkpoint):
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    return Predictor(load_model(checkpoint), device="cpu")


def _bad_folders(tmp_path):
    """GT and prediction folders: 'a' and 'e' good, then a size mismatch, a stray value, an unreadable GT."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for stem in "abcde":
        save_png(gt / f"{stem}.png", label_map(seed=ord(stem)), "P")
        save_png(pred / f"{stem}.png", label_map(seed=ord(stem) + 1) % 21, "P")
    save_png(pred / "b.png", label_map(13, 16) % 21, "P")
    stray = label_map(seed=ord("c"))
    stray[3, 3] = 40
    save_png(gt / "c.png", stray, "P")
    (gt / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    bad = {"b": (pred / "b.png", "16x13"), "c": (gt / "c.png", "[40]"), "d": (gt / "d.png", "")}
    return gt, pred, bad


def test_folders_cli_lists_every_bad_file(tmp_path, capsys):
    gt, pred, bad = _bad_folders(tmp_path)
    report = tmp_path / "r.json"
    rc = main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--num-classes", "21", "--json", str(report),
               "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 1, captured.err
    assert "mean IU" in captured.out and "2 images" in captured.out
    assert "3 of 5 images could not be scored" in captured.err
    for path, detail in bad.values():
        assert str(path) in captured.err and detail in captured.err
    rep = json.loads(report.read_text())
    assert rep["images"] == 2 and sorted(rep["per_image"]) == ["a", "e"]
    assert [(f["stem"], f["file"]) for f in rep["failed"]] == [(s, str(p)) for s, (p, _) in bad.items()]
    want = sum(confusion_matrix(np.asarray(label_map(seed=ord(s))), label_map(seed=ord(s) + 1) % 21, 21)
               for s in "ae")
    assert np.array_equal(np.array(rep["confusion"]), want)


def test_folders_api_reports_instead_of_raising(tmp_path):
    gt, pred, bad = _bad_folders(tmp_path)
    calls = []
    rep = evaluate_folders(pred, gt, num_classes=21, on_image=lambda *a: calls.append(a))
    assert [f["stem"] for f in rep["failed"]] == ["b", "c", "d"] and rep["images"] == 2
    assert [c[0] for c in calls] == list("abcde")
    assert set(calls[0][1]) == {0} and calls[0][2] is None
    assert calls[1][1] is None and isinstance(calls[1][2], DataError) and "b.png" in str(calls[1][2])
    # Nothing scorable at all: still a report (no scores), every file listed, exit status 1, no table.
    for stem in "ae":
        (gt / f"{stem}.png").write_bytes(b"junk")
    rep = evaluate_folders(pred, gt, num_classes=21)
    assert rep["images"] == 0 and len(rep["failed"]) == 5


def _bad_voc(tmp_path):
    root = make_voc(tmp_path / "ds", n=5, h=24, w=30)
    seg = root / "SegmentationClass"
    save_png(seg / "img1.png", label_map(23, 30, seed=1), "P")  # wrong size
    lab = label_map(24, 30, seed=2)
    lab[5, 5] = 40  # no class
    save_png(seg / "img2.png", lab, "P")
    (seg / "img3.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    # split train: img0..img3, val: img4
    return root, {"img1": "30x23", "img2": "[40]", "img3": "img3.png"}


def test_model_cli_lists_every_bad_file(tmp_path, checkpoint, capsys):
    root, bad = _bad_voc(tmp_path)
    report = tmp_path / "r.json"
    rc = main(["evaluate", "--weights", str(checkpoint), "--data", str(root), "--device", "cpu",
               "--json", str(report), "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 1, captured.err
    assert "3 of 5 images could not be scored" in captured.err
    for stem, detail in bad.items():
        assert str(root / "SegmentationClass" / f"{stem}.png") in captured.err and detail in captured.err
    rep = json.loads(report.read_text())
    for stride in ("32s", "16s", "8s"):
        assert sorted(rep[stride]["per_image"]) == ["img0", "img4"]
        assert [f["stem"] for f in rep[stride]["failed"]] == ["img1", "img2", "img3"]


def test_model_api_reports_per_image(tmp_path, predictor):
    root, bad = _bad_voc(tmp_path)
    ds = open_dataset(root)
    calls = []
    reports = evaluate_dataset(predictor, ds, "train", on_image=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == ["img0", "img1", "img2", "img3"]
    stem, matrices, error = calls[0]
    assert error is None and set(matrices) == {32, 16, 8}
    results = predictor.predict(ds.image("img0"))
    for stride, cm in matrices.items():
        assert np.array_equal(cm, confusion_matrix(ds.label("img0"), results[stride].labels, 21))
        assert np.array_equal(np.array(reports[stride]["confusion"]), cm)  # the only image scored
        assert reports[stride]["images"] == 1
    for (stem, matrices, error), detail in zip(calls[1:], bad.values()):
        assert matrices is None and isinstance(error, DataError) and detail in str(error), (stem, error)
    assert [f["stem"] for f in reports[8]["failed"]] == ["img1", "img2", "img3"]
    # ``stems`` picks the images (the app's filtered list); each stride has a report even if none scored.
    reports = evaluate_dataset(predictor, ds, stems=["img3", "img4"])
    assert set(reports) == {32, 16, 8} and reports[8]["images"] == 1
    assert list(reports[8]["per_image"]) == ["img4"] and reports[8]["failed"][0]["stem"] == "img3"
    reports = evaluate_dataset(predictor, ds, stems=["img1"])
    assert set(reports) == {32, 16, 8} and reports[16]["images"] == 0 and len(reports[16]["failed"]) == 1


def test_labelme_file_that_is_truncated_is_listed(tmp_path, predictor):
    bad = labelme_folder(tmp_path / "lm")
    reports = evaluate_dataset(predictor, open_dataset(tmp_path / "lm"))
    assert sorted(reports[8]["per_image"]) == ["b", "c"]
    assert [(f["file"], "not valid labelme JSON" in f["error"]) for f in reports[8]["failed"]] == [
        (str(bad), True)]
