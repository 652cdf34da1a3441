"""Workspace.set_task (Qt-free): task views of the dataset and model, one ScoreBook per task."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy.io")

from app.model_set import load_model_set  # noqa: E402
from app.workspace import Workspace  # noqa: E402
from fcn_core.data import open_dataset  # noqa: E402
from tests.paper_app_fixtures import make_siftflow, save_tiny_model  # noqa: E402


def test_set_task_swaps_labels_head_and_books(tmp_path):
    root = make_siftflow(tmp_path / "sift-flow")
    ds = open_dataset(root, labels_dir=root / "corrections")
    weights = save_tiny_model(tmp_path / "m.safetensors", "siftflow-fcn32s", ds)
    ws = Workspace()
    ws.open_dataset(ds)
    ws.set_models(load_model_set([weights], device="cpu"))
    assert ws.tasks == ("sem", "geo") and ws.task == "sem"
    stem = ds.stems[0]
    image = ds.image(stem)
    sem = ws.models.predict_stem(stem, image, ws.dataset)
    ws.show(stem, image, ds.label(stem), sem, ws.model_id)
    assert ws.commit_labels(stem, ds.label(stem))
    sem_book, sem_id = ws.book, ws.model_id
    replaced = []
    ws.book_replaced.connect(replaced.append)

    ws.set_task("geo")
    assert ws.dataset.class_names == ["sky", "horizontal", "vertical"] and ws.dataset.base is ds
    assert ws.dataset.labels_dir == root / "corrections" / "geo"
    assert ws.models.model_id == f"{sem_id}:geo" and ws.num_classes == 3
    assert ws.book is not sem_book and ws.book.class_names == ["sky", "horizontal", "vertical"]
    assert replaced == [ws.book] and ws.shown.gt is None and ws.results_of(stem) is None
    geo = ws.models.predict_stem(stem, image, ws.dataset)
    assert max(int(r.labels.max()) for r in geo.values()) <= 2
    ws.show(stem, image, ws.dataset.label(stem), geo, ws.model_id)
    assert ws.commit_labels(stem, ws.dataset.label(stem))
    assert ws.book.rows[stem][32]["per_class_iu"].__len__() == 3
    assert ws.results_of(stem) is geo

    ws.set_task("sem")
    assert ws.book is sem_book and ws.model_id == sem_id and ws.dataset is ds
    cached = ws.cache.get_all(stem, sem_id, ws.models.strides)
    assert cached is not None and np.array_equal(cached[32].labels, sem[32].labels)  # no re-prediction
    with pytest.raises(ValueError, match="not available"):
        ws.set_task("depth")
    ws.set_task("geo")
    ws.set_models(load_model_set([weights], device="cpu"))  # a model opens on the semantic task
    assert ws.task == "sem" and ws.dataset is ds
