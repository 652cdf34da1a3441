"""Stored predictions (fcn_core.data.predictions): what `fcn predict --stride all --save-confidence`
writes is read back exactly; `fcn evaluate --pred DIR --data DS` equals scoring the model itself; label images
from any model (palette, L, 16-bit, RGB colours) are read through the dataset's classes; bad and missing files
name the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fcn_core.cli import main as fcn_main
from fcn_core.data import DataError, open_dataset
from fcn_core.data.labels import write_palette_png
from fcn_core.data.predictions import (
    FLAT_STRIDE,
    SCALE,
    encode_probability_png,
    open_predictions,
    read_probability_png,
)
from fcn_core.demo_data import make_demo_dataset
from fcn_core.evaluation import evaluate_dataset

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A tiny dataset and what `fcn predict --stride all --save-confidence` wrote for its photos."""
    root = tmp_path_factory.mktemp("stored")
    ds = make_demo_dataset(root / "ds", count=5, seed=1, size=(96, 64))
    out = root / "preds"
    assert fcn_main(["predict", str(ds / "JPEGImages"), "--weights", str(DEMO_MODEL), "--stride", "all",
                     "--save-confidence", "--device", "cpu", "--backend", "torch", "--out", str(out),
                     "--no-progress"]) == 0  # compared below with torch's own confidence
    return ds, out


def test_predict_save_confidence_round_trips_labels_confidence_and_margin(written):
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    ds, out = written
    for kind in ("", "confidence", "margin"):
        for s in (32, 16, 8):
            assert len(list((out / kind / f"{s}s").glob("*.png"))) == 5
    img16 = Image.open(out / "confidence" / "8s" / "demo_00000.png")
    assert img16.mode.startswith("I")  # 16-bit grey
    dataset = open_dataset(ds)
    preds = open_predictions(out, dataset)
    assert preds.strides == (32, 16, 8) and preds.per_stride_dirs and preds.has_confidence
    live = Predictor(load_model(DEMO_MODEL), device="cpu").predict(dataset.image("demo_00002"))
    stored = preds.predict_stem("demo_00002", dataset.image("demo_00002"))
    for s in (32, 16, 8):
        assert np.array_equal(stored[s].labels, live[s].labels)
        assert np.abs(stored[s].confidence - live[s].confidence).max() <= 0.5 / SCALE + 1e-6
        assert np.abs(stored[s].margin - live[s].margin).max() <= 0.5 / SCALE + 1e-6
        assert stored[s].confidence.min() > 0  # real values, not the placeholder


def test_probability_png_encoding_is_round_p_times_65535(tmp_path):
    p = np.array([[0.0, 1.0, 0.5, 1 / 3]], np.float32)
    path = tmp_path / "c.png"
    path.write_bytes(encode_probability_png(p))
    raw = np.asarray(Image.open(path))
    assert raw.tolist() == [[0, 65535, 32768, 21845]]
    assert np.allclose(read_probability_png(path), p, atol=0.5 / SCALE)


def test_fcn_evaluate_pred_data_equals_the_model_float_for_float(written, tmp_path):
    ds, out = written
    stored, live = tmp_path / "stored.json", tmp_path / "live.json"
    assert fcn_main(["evaluate", "--pred", str(out), "--data", str(ds), "--json", str(stored),
                     "--no-progress"]) == 0
    assert fcn_main(["evaluate", "--weights", str(DEMO_MODEL), "--data", str(ds), "--device", "cpu",
                     "--json", str(live), "--no-progress"]) == 0
    a, b = json.loads(stored.read_text()), json.loads(live.read_text())
    assert set(a) == {"32s", "16s", "8s"}
    for s in ("32s", "16s", "8s"):
        assert a[s]["confusion"] == b[s]["confusion"] and a[s]["images"] == 5
        for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu", "per_image"):
            assert a[s][key] == b[s][key]


def test_missing_prediction_is_listed_as_failed_with_the_file(written, tmp_path, capsys):
    ds, out = written
    missing = out / "16s" / "demo_00003.png"
    kept = missing.read_bytes()
    missing.unlink()
    try:
        report = tmp_path / "r.json"
        code = fcn_main(["evaluate", "--pred", str(out), "--data", str(ds), "--json", str(report),
                         "--no-progress"])
    finally:
        missing.write_bytes(kept)
    assert code == 1
    failed = json.loads(report.read_text())["8s"]["failed"]
    assert [f["stem"] for f in failed] == ["demo_00003"] and failed[0]["file"] == str(missing)
    assert "no prediction" in failed[0]["error"] and str(missing) in capsys.readouterr().err


def _flat(tmp_path, ds):
    """A flat folder with the GT itself stored in four encodings (so every score is 1)."""
    dataset = open_dataset(ds)
    folder = tmp_path / "flat"
    folder.mkdir()
    stems = dataset.stems
    for i, stem in enumerate(stems):
        gt = dataset.label(stem)
        gt = np.where(gt == 255, 0, gt).astype(np.uint8)
        kind = ("P", "L", "I;16", "RGB")[i % 4]
        if kind == "P":
            write_palette_png(folder / f"{stem}.png", gt, dataset.palette)
        elif kind == "L":
            Image.fromarray(gt, mode="L").save(folder / f"{stem}.png")
        elif kind == "I;16":
            Image.fromarray(gt.astype(np.uint16)).save(folder / f"{stem}.png")
        else:
            Image.fromarray(dataset.palette[gt]).save(folder / f"{stem}.png")
    return dataset, folder


def test_flat_folder_of_any_models_label_images(written, tmp_path):
    ds, _ = written
    dataset, folder = _flat(tmp_path, ds)
    preds = open_predictions(folder, dataset)
    assert preds.strides == (FLAT_STRIDE,) and not preds.per_stride_dirs and not preds.has_confidence
    one = preds.predict_stem(dataset.stems[3])[FLAT_STRIDE]  # the RGB one
    assert np.array_equal(one.labels, np.where(dataset.label(3) == 255, 0, dataset.label(3)))
    assert not np.isnan(one.confidence).any() and float(one.confidence.max()) == 0.0
    report = evaluate_dataset(preds, dataset)[FLAT_STRIDE]
    assert report["images"] == 5 and not report["failed"] and report["pixel_acc"] == 1.0


def test_bad_prediction_files_name_the_file(written, tmp_path):
    ds, _ = written
    dataset, folder = _flat(tmp_path, ds)
    stems = dataset.stems
    odd = dataset.palette[np.zeros((64, 96), np.uint8)]
    odd[2, 2] = (1, 2, 3)
    Image.fromarray(odd).save(folder / f"{stems[0]}.png")
    big = np.zeros((64, 96), np.uint8)
    big[0, 0] = 30
    Image.fromarray(big, mode="L").save(folder / f"{stems[1]}.png")
    write_palette_png(folder / f"{stems[2]}.png", np.zeros((10, 10), np.uint8))
    preds = open_predictions(folder, dataset)
    with pytest.raises(DataError, match=r"colours that are not in the palette: \(1,2,3\)") as e:
        preds.predict_stem(stems[0])
    assert e.value.path == str(folder / f"{stems[0]}.png")
    with pytest.raises(DataError, match=r"values \[30\]"):
        preds.predict_stem(stems[1])
    report = evaluate_dataset(preds, dataset)[FLAT_STRIDE]
    assert {f["stem"] for f in report["failed"]} == set(stems[:3])
    assert any("10x10" in f["error"] and f["file"].endswith(f"{stems[2]}.png") for f in report["failed"])


def test_folder_without_predictions_says_what_it_expects(written, tmp_path):
    ds, _ = written
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="32s/ 16s/ 8s/"):
        open_predictions(tmp_path / "empty", open_dataset(ds))


def test_fcn_evaluate_pred_data_split_scores_that_split_only(written, tmp_path):
    ds, out = written
    report = tmp_path / "val.json"
    assert fcn_main(["evaluate", "--pred", str(out), "--data", str(ds), "--split", "val", "--format", "voc",
                     "--json", str(report), "--no-progress"]) == 0
    val = open_dataset(ds).splits["val"]
    assert sorted(json.loads(report.read_text())["8s"]["per_image"]) == sorted(val) and 0 < len(val) < 5
