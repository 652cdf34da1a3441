"""The inference worker: stale requests dropped, latest delivered, errors reported, prefetch used."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.inference_client import InferenceClient
from tests.gui_helpers import make_tiny_dataset, make_tiny_model


class SlowDataset:
    """Images that take 50 ms to decode; records which stems were read (and from which thread)."""

    def __init__(self, bad: str | None = None):
        self.stems = [f"img{i:02d}" for i in range(20)]
        self.read: list[str] = []
        self.threads: set[int] = set()
        self.bad = bad
        self.num_classes = 3

    def image(self, stem: str) -> np.ndarray:
        self.threads.add(threading.get_ident())
        time.sleep(0.05)
        if stem == self.bad:
            raise ValueError(f"{stem}.jpg: not an image file (cannot decode)")
        self.read.append(stem)
        return np.full((8, 8, 3), int(stem[3:]), np.uint8)

    def label(self, stem: str) -> np.ndarray:
        return np.zeros((8, 8), np.uint8)


@pytest.fixture
def client(qtbot):
    c = InferenceClient()
    yield c
    c.shutdown()


def test_quick_flipping_computes_fewer_and_delivers_the_last(qtbot, client):
    ds = SlowDataset()
    client.set_dataset(ds)
    delivered = []
    client.result_ready.connect(lambda r: delivered.append((r.req_id, r.stem)))
    ids = [client.request(f"img{i:02d}") for i in range(10)]  # a user flipping through 10 images
    qtbot.waitUntil(lambda: any(rid == ids[-1] for rid, _ in delivered), timeout=10_000)
    qtbot.wait(200)
    assert delivered[-1] == (ids[-1], "img09")
    assert client.stats["computed"] < 10 and client.stats["dropped"] >= 1
    assert client.stats["computed"] == len(delivered)
    assert "img05" not in ds.read  # stale requests never decoded
    assert threading.get_ident() not in ds.threads  # decoding happened off the GUI thread


def test_errors_are_reported_and_worker_keeps_going(qtbot, client):
    ds = SlowDataset(bad="img03")
    client.set_dataset(ds)
    with qtbot.waitSignal(client.failed, timeout=10_000) as failed:
        rid = client.request("img03")
    assert failed.args[0] == rid and failed.args[1] == "img03" and "img03.jpg" in failed.args[2]
    with qtbot.waitSignal(client.result_ready, timeout=10_000) as ok:
        client.request("img04")
    assert ok.args[0].stem == "img04" and ok.args[0].image[0, 0, 0] == 4


def test_prefetch_makes_the_next_image_ready(qtbot, client):
    ds = SlowDataset()
    client.set_dataset(ds)
    with qtbot.waitSignal(client.result_ready, timeout=10_000):
        client.request("img00", prefetch=["img01"])
    qtbot.waitUntil(lambda: "img01" in ds.read, timeout=10_000)
    reads = len(ds.read)
    with qtbot.waitSignal(client.result_ready, timeout=10_000) as ok:
        client.request("img01")
    assert ok.args[0].stem == "img01" and len(ds.read) == reads  # served from the prefetch, not re-read


def test_real_model_set_and_bad_model_file(qtbot, client, tmp_path):
    ds_path = make_tiny_dataset(tmp_path / "ds", count=3)
    names = (ds_path / "class_names.txt").read_text().split()
    from fcn_core.data import open_dataset

    client.set_dataset(open_dataset(ds_path))
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00garbage")
    with qtbot.waitSignal(client.models_failed, timeout=30_000) as failed:
        client.load_models([bad])
    assert "broken.safetensors" in failed.args[0]
    model = make_tiny_model(tmp_path / "m.safetensors", names)
    with qtbot.waitSignal(client.models_loaded, timeout=30_000) as loaded:
        client.load_models([model], "cpu")
    ms = loaded.args[0]
    assert ms.strides == (32, 16, 8) and ms.device == "cpu"
    with qtbot.waitSignal(client.result_ready, timeout=30_000) as ok:
        client.request("demo_00001")
    r = ok.args[0]
    assert set(r.results) == {32, 16, 8} and r.results[8].labels.shape == r.image.shape[:2]
    # the image's own confusion matrix per stride (what the workspace turns into its scores)
    from fcn_core.metrics import confusion_matrix

    assert set(r.confusions) == {32, 16, 8}
    for s in (32, 16, 8):
        assert np.array_equal(r.confusions[s], confusion_matrix(r.gt, r.results[s].labels, ms.num_classes))


def test_separate_stride_checkpoints_form_one_set(qtbot, client, tmp_path):
    names = ["a", "b", "c"]
    files = [make_tiny_model(tmp_path / f"{a}.safetensors", names, arch=a)
             for a in ("fcn32s", "fcn16s", "fcn8s")]
    with qtbot.waitSignal(client.models_loaded, timeout=60_000) as loaded:
        client.load_models(files, "cpu")
    assert loaded.args[0].strides == (32, 16, 8) and len(loaded.args[0].predictors) == 3
    with qtbot.waitSignal(client.models_failed, timeout=60_000) as failed:
        client.load_models([files[2], files[2]], "cpu")
    assert "stride 8s is already given" in failed.args[0]
