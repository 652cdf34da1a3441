"""Demo scenes with depth and geometric labels, and training the RGB-D and two-headed nets on them."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from fcn_core.cli import main as fcn_main
from fcn_core.data import DataError, open_dataset
from fcn_core.demo_data import DEMO_CLASSES, demo_depth_and_geometry, make_demo_dataset, make_demo_sample
from fcn_core.training import TrainConfig, train_model
from fcn_core.weights import load_model

SKY, ROAD = DEMO_CLASSES.index("sky"), DEMO_CLASSES.index("road")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("d") / "demo", count=6, seed=2, size=(64, 48),
                             depth=True, geometric=True)


def test_depth_and_geometric_labels_follow_the_scene(scenes):
    ds = open_dataset(scenes)
    desc = json.loads((scenes / "dataset.json").read_text())
    assert desc["depth"]["folder"] == "Depth" and desc["geometric"]["class_names"] == ["sky", "horizontal",
                                                                                      "vertical"]
    for stem in ds.stems:
        labels = ds.label(stem)
        depth = cv2.imread(str(scenes / "Depth" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        geo = cv2.imread(str(scenes / "GeoLabels" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert depth.dtype == np.uint16 and depth.shape == labels.shape
        assert (geo[labels == SKY] == 0).all() and (geo[labels == ROAD] == 1).all()
        assert (geo[(labels != SKY) & (labels != ROAD)] == 2).all()
        has_road = (labels == ROAD).any(1)
        road_depth = np.where(labels == ROAD, depth.astype(float), np.nan)[has_road]
        rows = np.nanmean(road_depth, axis=1)
        assert rows[0] > rows[-1]  # the road comes closer towards the bottom of the image
        assert depth[labels == SKY].min() > depth[labels == ROAD].max() * 0.9


def test_without_the_flags_the_demo_files_are_unchanged(tmp_path):
    a = make_demo_dataset(tmp_path / "a", count=2, seed=0, size=(64, 48))
    b = make_demo_dataset(tmp_path / "b", count=2, seed=0, size=(64, 48), geometric=True)
    for rel in ("JPEGImages/demo_00000.jpg", "SegmentationClass/demo_00001.png"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert not (a / "Depth").exists() and not (b / "Depth").exists() and (b / "GeoLabels").is_dir()
    _, lab = make_demo_sample(0, 0, (64, 48))
    d1, _ = demo_depth_and_geometry(lab, 0, 0)
    d2, _ = demo_depth_and_geometry(lab, 0, 0)
    assert np.array_equal(d1, d2)  # deterministic


def test_cli_demo_data_flags(tmp_path, capsys):
    assert fcn_main(["demo-data", "--out", str(tmp_path / "x"), "--count", "2", "--size", "40x32",
                     "--depth"]) == 0
    assert (tmp_path / "x" / "Depth" / "demo_00001.png").is_file()
    assert not (tmp_path / "x" / "GeoLabels").exists()


TINY = {"width": 0.0625, "batch_size": 2, "crop": (48, 64), "num_workers": 0, "show_progress": False,
        "scale_range": (1.0, 1.0), "lr": 5e-3}


@pytest.mark.parametrize("arch", ["nyud-fcn32s-color-d", "siftflow-fcn16s"])
def test_rgbd_and_two_headed_nets_train_on_the_demo_scenes(scenes, tmp_path, arch):
    events = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_model(TrainConfig(data=scenes, out=tmp_path / "run", arch=arch, max_iters=8, **TINY),
                             progress=events.append)
    finally:
        torch.set_num_threads(threads)
    losses = [e["loss"] for e in events if e["event"] == "iteration"]
    heads = 2 if arch.startswith("siftflow") else 1
    # Score layers start at zero: ln(8) for the semantic head, + ln(3) for the geometric one.
    assert losses[0] == pytest.approx(np.log(8) + (np.log(3) if heads == 2 else 0), rel=1e-3)
    assert np.mean(losses[-2:]) < losses[0]
    loaded = load_model(result.best)
    assert loaded.arch == arch
    names = [i["name"] for i in loaded.metadata["inputs"]]
    assert names == (["color", "depth"] if "color-d" in arch else ["color"])
    if heads == 2:
        assert loaded.metadata["task_classes"] == {"geo": ["sky", "horizontal", "vertical"]}


def test_a_net_needing_depth_on_data_without_it_names_the_missing_file(tmp_path):
    data = make_demo_dataset(tmp_path / "plain", count=3, seed=0, size=(64, 48))
    cfg = TrainConfig(data=data, out=tmp_path / "run", arch="nyud-fcn32s-color-d", max_iters=1, **TINY)
    with pytest.raises(DataError, match=r"Depth/demo_0000\d.png: depth file not found"):
        train_model(cfg)
