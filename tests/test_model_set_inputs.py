"""The worker's predict_stem helper passes a ModelSet both the sample's extra inputs (depth) and the tile
progress callback; a stand-in predictor with only ``predict(image)`` still works (merge of issue 14 with
large-image tiling)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy.io")
pytest.importorskip("PySide6")

from app.model_set import ModelSet  # noqa: E402
from app.workers import predict_stem  # noqa: E402
from fcn_core.data import open_dataset  # noqa: E402
from tests.paper_app_fixtures import make_nyud  # noqa: E402


class Recording:
    extra_inputs = ("depth",)

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict(self, image, **options):
        self.calls.append(options)
        return {32: image.shape}


def _set(predictor) -> ModelSet:
    return ModelSet(paths=[], predictors=[predictor], model_id="x", strides=(32,), num_classes=2,
                    class_names=["a", "b"], palette=np.zeros((256, 3), np.uint8), device="cpu",
                    precision="fp32", arch="fcn32s")


def test_predict_stem_gives_a_model_set_the_depth_and_the_progress(tmp_path):
    ds = open_dataset(make_nyud(tmp_path / "nyud"))
    rec = Recording()

    def progress(done: int, total: int) -> None:
        pass

    out = predict_stem(_set(rec), "5001", ds.image("5001"), progress=progress, dataset=ds)
    assert out == {32: ds.image("5001").shape}
    (options,) = rec.calls
    assert options["progress"] is progress
    assert np.array_equal(options["extra"]["depth"], ds.depth("5001"))


def test_a_predictor_with_only_predict_image_is_asked_that_way():
    class Plain:
        def predict(self, image):
            return {32: image.sum()}

    assert predict_stem(_set(Plain()), "any", np.ones((2, 2, 3))) == {32: 12.0}
