"""`fcn evaluate`: folders of label PNGs and a model on a dataset, JSON/CSV reports, named errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from fcn_core.cli import main
from fcn_core.data import open_dataset, write_palette_png
from fcn_core.evaluation import evaluate_dataset
from fcn_core.metrics import ConfusionAccumulator, image_scores
from tests.bad_inputs import label_map, make_voc, save_png
from tests.conftest import shared_data_path


@pytest.fixture(scope="module")
def voc_folders(tmp_path_factory):
    """20 real VOC labels as GT and a perturbed copy as predictions."""
    src = open_dataset(shared_data_path("voc2012-sample"))
    root = tmp_path_factory.mktemp("evalfolders")
    rng = np.random.default_rng(1)
    pairs = {}
    for stem in src.stems[:20]:
        gt = src.label(stem)
        pred = np.roll(gt, 5, axis=1).copy()
        pred[pred == 255] = 0
        pred[rng.random(pred.shape) < 0.05] = 15
        write_palette_png(root / "gt" / f"{stem}.png", gt)
        write_palette_png(root / "pred" / f"{stem}.png", pred)
        pairs[stem] = (gt, pred)
    names = shared_data_path("voc2012-sample") / "class_names.txt"
    (root / "class_names.txt").write_text(names.read_text())
    return root, pairs


def test_folders_json_csv_and_table(voc_folders, tmp_path, capsys):
    root, pairs = voc_folders
    rc = main(["evaluate", "--pred", str(root / "pred"), "--gt", str(root / "gt"), "--json",
               str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"), "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "mean IU" in out and "aeroplane" in out
    rep = json.loads((tmp_path / "r.json").read_text())
    assert {"pixel_acc", "mean_acc", "mean_iu", "fw_iu", "per_class", "per_image", "confusion"} <= set(rep)
    acc = ConfusionAccumulator(21)
    for gt, pred in pairs.values():
        acc.update(gt, pred)
    want = acc.scores()
    for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
        assert rep[key] == pytest.approx(want[key], abs=1e-12)
    assert np.array_equal(np.array(rep["confusion"]), acc.matrix)
    assert list(rep["per_class"])[:2] == ["background", "aeroplane"]  # names from class_names.txt
    stem, (gt, pred) = next(iter(pairs.items()))
    assert rep["per_image"][stem]["mean_iu"] == pytest.approx(image_scores(gt, pred, 21)["mean_iu"])
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert len(rows) == 20 and float(rows[0]["pixel_acc"]) == pytest.approx(
        rep["per_image"][rows[0]["stem"]]["pixel_acc"], abs=1e-6)


def test_folder_errors_are_named_and_exit_nonzero(tmp_path, capsys):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    save_png(gt / "a.png", label_map(), "P")
    save_png(gt / "b.png", label_map(), "P")
    save_png(pred / "a.png", label_map() % 21, "P")
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "b" in err and "no prediction" in err
    save_png(pred / "b.png", label_map(13, 16) % 21, "P")
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 1  # a scored
    err = capsys.readouterr().err
    assert "b.png" in err and "16x13" in err
    assert main(["evaluate", "--pred", str(pred)]) == 2
    assert "both needed" in capsys.readouterr().err


def test_camvid_style_ignore_index(tmp_path, capsys):
    lab = np.minimum(label_map(n=11), 11)
    lab[lab == 255] = 11
    save_png(tmp_path / "gt" / "x.png", lab, "L")
    pred = lab.copy()
    pred[lab == 11] = 3  # whatever is predicted on void does not count
    save_png(tmp_path / "pred" / "x.png", pred, "L")
    rc = main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
               "--num-classes", "11", "--ignore-index", "11", "--json", str(tmp_path / "r.json"),
               "--no-progress"])
    assert rc == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["pixel_acc"] == 1.0 and rep["mean_iu"] == 1.0 and len(rep["confusion"]) == 11
    capsys.readouterr()
    # Forgetting --ignore-index: the GT file is named, with its stray value and the option to use.
    rc = main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
               "--num-classes", "11", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1 and str(tmp_path / "gt" / "x.png") in err and "[11]" in err and "--ignore-index" in err


def _tiny_multistride_checkpoint(path):
    from fcn_core.models import build_model
    from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

    torch.manual_seed(0)
    model = build_model("fcn-multi", num_classes=21, width=0.0625)
    with torch.no_grad():  # score layers start at zero: give them values so predictions differ by stride
        for name, p in model.named_parameters():
            if name.startswith("score"):
                p.normal_(0, 0.5)
    save_checkpoint(path, model, arch="fcn-multi", class_names=list(map(str, range(21))),
                    preprocessing=CAFFE_PREPROCESSING)


def test_model_on_dataset_reports_every_stride(tmp_path, capsys):
    ds_root = make_voc(tmp_path / "ds", n=3, h=24, w=30)
    ckpt = tmp_path / "m.safetensors"
    _tiny_multistride_checkpoint(ckpt)
    rc = main(["evaluate", "--weights", str(ckpt), "--data", str(ds_root), "--split", "train",
               "--device", "cpu", "--json", str(tmp_path / "r.json"), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert "32s" in capsys.readouterr().out
    rep = json.loads((tmp_path / "r.json").read_text())
    assert set(rep) == {"32s", "16s", "8s"}
    assert set(rep["8s"]["per_image"]) == {"img0", "img1"}

    # The same numbers computed directly from the predictor's outputs.
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    predictor = Predictor(load_model(ckpt), device="cpu")
    ds = open_dataset(ds_root)
    accs = {s: ConfusionAccumulator(21) for s in (32, 16, 8)}
    for stem in ("img0", "img1"):
        for stride, res in predictor.predict(ds.image(stem)).items():
            accs[stride].update(ds.label(stem), res.labels)
    for stride, acc in accs.items():
        assert rep[f"{stride}s"]["mean_iu"] == pytest.approx(acc.scores()["mean_iu"], abs=1e-12)
        assert np.array_equal(np.array(rep[f"{stride}s"]["confusion"]), acc.matrix)

    stops = iter([False, True])
    partial = evaluate_dataset(predictor, ds, should_stop=lambda: next(stops))
    assert partial[8]["images"] == 1 and partial[8]["stopped"]


def test_model_errors(tmp_path, capsys):
    ds_root = make_voc(tmp_path / "ds", n=2)
    assert main(["evaluate", "--weights", str(tmp_path / "none.safetensors"), "--data", str(ds_root)]) == 2
    assert "none.safetensors" in capsys.readouterr().err
    ckpt = tmp_path / "m.safetensors"
    _tiny_multistride_checkpoint(ckpt)
    assert main(["evaluate", "--weights", str(ckpt), "--data", str(ds_root), "--split", "test",
                 "--device", "cpu"]) == 2
    assert "test.txt" in capsys.readouterr().err


def test_model_with_other_classes_than_the_dataset(tmp_path, capsys):
    from fcn_core.data.palette import VOC_CLASSES
    from fcn_core.evaluation import class_names_mismatch
    from fcn_core.models import build_model
    from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

    ds_root = make_voc(tmp_path / "ds", n=2, h=24, w=30)
    model = build_model("fcn32s", num_classes=3, width=0.0625)
    three = tmp_path / "three.safetensors"
    save_checkpoint(three, model, class_names=["sky", "road", "car"], preprocessing=CAFFE_PREPROCESSING)
    assert main(["evaluate", "--weights", str(three), "--data", str(ds_root), "--device", "cpu",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "3 classes (sky, road, car)" in err and "has 21" in err and str(ds_root) in err

    # Same count, other names: refused (as the app withholds scores), naming the classes that differ ...
    named = tmp_path / "named.safetensors"
    names = ["background", "plane", *VOC_CLASSES[2:]]
    save_checkpoint(named, build_model("fcn32s", num_classes=21, width=0.0625), class_names=names,
                    preprocessing=CAFFE_PREPROCESSING)
    report = tmp_path / "r.json"
    args = ["evaluate", "--weights", str(named), "--data", str(ds_root), "--device", "cpu", "--no-progress",
            "--json", str(report)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "1 of 21" in err and "'plane' vs 'aeroplane'" in err and "--ignore-class-names" in err
    assert not report.exists()
    # ... unless asked to score by index (the app's "Score by class index"): then scored, with a warning.
    assert main([*args, "--ignore-class-names"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "1 of 21" in err and report.is_file()
    # Case/spacing differences and placeholder names ("0", "class 3") are not a mismatch.
    assert class_names_mismatch(["Sky", "Road Side"], ["sky", "road_side"]) is None
    assert class_names_mismatch(["0", "1"], ["sky", "road"]) is None
    assert class_names_mismatch(["class 0", "class 1"], ["sky", "road"]) is None
    # The yes/no form the app uses agrees.
    from fcn_core.evaluation import same_class_names

    assert same_class_names(["Sky", "Road Side"], ["sky", "road_side"]) and same_class_names(["0"], ["sky"])
    assert not same_class_names(names, list(VOC_CLASSES)) and not same_class_names(["a"], ["a", "b"])
