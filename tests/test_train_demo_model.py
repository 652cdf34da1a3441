"""The bundled demo model: loads, is small, and scores mean IU >= 0.8 (8s >= 32s) on its own val split."""

from __future__ import annotations

import pytest
import torch

from fcn_core import resources
from fcn_core.data import open_dataset
from fcn_core.demo_data import DEMO_CLASSES
from fcn_core.weights import load_model, read_checkpoint_metadata


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not resources.DEMO_MODEL.is_file():
        pytest.fail(f"bundled demo model missing: {resources.DEMO_MODEL}")
    mp = pytest.MonkeyPatch()
    mp.setenv("FCN_STUDIO_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        yield resources.demo_paths()
    finally:
        mp.undo()


def test_demo_model_file_is_a_small_multi_stride_checkpoint(demo):
    _, model_path = demo
    assert model_path.stat().st_size <= 20 * 1024 * 1024
    meta = read_checkpoint_metadata(model_path)
    assert meta["arch"] == "fcn-multi"
    assert meta["class_names"] == list(DEMO_CLASSES)
    assert meta["metadata"]["recipe"] == "scratch"
    loaded = load_model(model_path)
    assert loaded.strides == (32, 16, 8)


def test_demo_model_meets_its_targets_on_the_val_split(demo):
    from fcn_core.evaluation import evaluate_dataset
    from fcn_core.predictor import Predictor

    data_dir, model_path = demo
    dataset = open_dataset(data_dir)
    assert len(dataset.split("val")) == resources.DEMO_COUNT // 5
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        reports = evaluate_dataset(Predictor(load_model(model_path), device="cpu"), dataset, "val")
    finally:
        torch.set_num_threads(before)
    miu = {s: reports[s]["mean_iu"] for s in reports}
    assert miu[8] >= 0.8, miu
    assert miu[8] >= miu[32], miu


def test_demo_model_on_scenes_it_never_saw(tmp_path):
    """On 200 freshly drawn scenes of another seed (7; the model was trained on seed 0's): FCN-8s mean IU
    0.856 (issue 15 aims at >= 0.85; the model of session 3 scored 0.795), and 8s > 16s > 32s by clear margins
    (the thin poles and wires need stride 8). The floor is the measured value less a little for other CPUs."""
    from fcn_core.demo_data import make_demo_dataset
    from fcn_core.evaluation import evaluate_dataset
    from fcn_core.predictor import Predictor

    make_demo_dataset(tmp_path / "fresh", count=200, seed=7)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        reports = evaluate_dataset(Predictor(load_model(resources.DEMO_MODEL), device="cpu"),
                                   open_dataset(tmp_path / "fresh"))
    finally:
        torch.set_num_threads(before)
    miu = {s: reports[s]["mean_iu"] for s in reports}
    assert miu[8] >= 0.852, miu
    assert miu[8] - miu[16] >= 0.05 and miu[16] - miu[32] >= 0.05, miu
