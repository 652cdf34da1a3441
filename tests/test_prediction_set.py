"""app.prediction_set (Qt-free): a PredictionSet duck-types ModelSet, needs a dataset, and its model_id
follows the files (a rewritten prediction is a new source, so no stale cached result is reused)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from app.model_set import ModelSet
from app.prediction_set import load_prediction_set
from fcn_core.data import open_dataset
from fcn_core.data.labels import write_palette_png
from fcn_core.demo_data import make_demo_dataset


@pytest.fixture
def flat(tmp_path):
    ds = make_demo_dataset(tmp_path / "ds", count=3, seed=2, size=(40, 32))
    dataset = open_dataset(ds)
    folder = tmp_path / "preds"
    folder.mkdir()
    for stem in dataset.stems:
        write_palette_png(folder / f"{stem}.png", np.zeros((32, 40), np.uint8), dataset.palette)
    return dataset, folder


def test_prediction_set_duck_types_a_model_set(flat):
    dataset, folder = flat
    ps = load_prediction_set(folder, dataset)
    for name in ("paths", "predictors", "model_id", "strides", "num_classes", "class_names", "palette",
                 "device", "precision", "arch", "info", "has_confidence"):
        assert hasattr(ps, name) and hasattr(ModelSet, "__dataclass_fields__")
    assert set(ModelSet.__dataclass_fields__) <= set(ps.__dataclass_fields__) | {"info"}
    assert ps.predictors == [] and ps.device == "disk" and ps.precision == "stored"
    assert ps.arch == "stored predictions" and ps.strides == (8,) and not ps.has_confidence
    assert ps.class_names == dataset.class_names and ps.paths == [folder]
    assert "no confidence stored" in ps.describe() and str(folder) in ps.describe()
    out = ps.predict_stem(dataset.stems[0], dataset.image(0))
    assert out[8].labels.shape == (32, 40) and not out[8].labels.any()
    with pytest.raises(ValueError, match="looked up by image name"):
        ps.predict(dataset.image(0))


def test_model_id_follows_the_files_and_a_dataset_is_needed(flat):
    dataset, folder = flat
    first = load_prediction_set(folder, dataset).model_id
    assert load_prediction_set(folder, dataset).model_id == first
    target = folder / f"{dataset.stems[1]}.png"
    write_palette_png(target, np.ones((32, 40), np.uint8), dataset.palette)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert load_prediction_set(folder, dataset).model_id != first
    with pytest.raises(ValueError, match="open a dataset first"):
        load_prediction_set(folder, None)


def test_model_set_predict_stem_is_its_predict():
    class Fixed:
        def predict(self, image):
            return {8: image.sum()}

    ms = ModelSet(paths=[], predictors=[Fixed()], model_id="x", strides=(8,), num_classes=2,
                  class_names=["a", "b"], palette=np.zeros((256, 3), np.uint8), device="cpu",
                  precision="fp32", arch="fcn8s")
    assert ms.predict_stem("any", np.ones((2, 2, 3))) == {8: 12.0} and ms.has_confidence
