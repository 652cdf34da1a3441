"""Folder prediction pipeline (fcn_core.pipeline): batching, equality with per-image prediction, failures."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from fcn_core.data.palette import VOC_CLASSES, voc_palette
from fcn_core.models import build_model
from fcn_core.pipeline import (
    PipelineError,
    check_unique_stems,
    expand_inputs,
    predict_paths,
    render_panels,
)


def tiny_checkpoint(folder: Path, arch: str) -> Path:
    """A width-1/16 model with fixed-seed random convs (so predictions are not all one class)."""
    from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

    torch.manual_seed(0)
    model = build_model(arch, len(VOC_CLASSES), width=0.0625)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.normal_(m.bias, std=0.01)
    path = folder / f"{arch}.safetensors"
    save_checkpoint(path, model, arch=arch, class_names=list(VOC_CLASSES),
                    preprocessing=CAFFE_PREPROCESSING, options={"width": 0.0625})
    return path


def tiny_predictor(folder: Path, arch: str):
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    return Predictor(load_model(tiny_checkpoint(folder, arch)), device="cpu")


def write_photo(path: Path, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    Image.fromarray(img).save(path)  # PNG: lossless, so the test can compare exact pixels
    return img


class FakePredictor:
    """Records batch sizes/shapes; labels = first channel of the image (so outputs identify inputs)."""

    strides = (32, 16, 8)
    palette = voc_palette()
    device = "cpu"

    def __init__(self, fail_width: int | None = None) -> None:
        self.batches: list[list[tuple[int, int]]] = []
        self.fail_width = fail_width
        self.lock = threading.Lock()

    def predict_batch(self, images, strides=None, with_confidence=True):
        with self.lock:
            self.batches.append([im.shape[:2] for im in images])
        if any(im.shape[1] == self.fail_width for im in images):
            raise RuntimeError("boom")
        return [{s: SimpleNamespace(labels=(im[..., 0] % 21).astype(np.uint8)) for s in self.strides}
                for im in images]

    def predict(self, image):
        return self.predict_batch([image])[0]


def test_expand_inputs_sorted_filtered_deduplicated(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.JPG", "a.png", "c.txt", "d.webp"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub" / "e.png").write_bytes(b"x")
    got = expand_inputs([tmp_path, tmp_path / "a.png", tmp_path / "missing.jpg"])
    assert [p.name for p in got] == ["a.png", "b.JPG", "d.webp", "missing.jpg"]


def test_duplicate_stems_name_both_files(tmp_path):
    a, b = tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.png"
    with pytest.raises(PipelineError) as err:
        check_unique_stems([a, tmp_path / "y.jpg", b])
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_batches_hold_only_equal_sizes(tmp_path):
    sizes = [(20, 30), (20, 30), (25, 31), (20, 30), (25, 31), (40, 12), (20, 30), (20, 30)] * 3
    paths = []
    for i, (h, w) in enumerate(sizes):
        paths.append(tmp_path / f"im{i:02d}.png")
        write_photo(paths[-1], h, w, i)
    fake = FakePredictor()
    rep = predict_paths(fake, paths, tmp_path / "out", batch_size=3, workers=2, max_parked=4)
    assert rep.ok == len(paths) and not rep.failed
    assert sum(len(b) for b in fake.batches) == len(paths)
    for batch in fake.batches:
        assert len(batch) <= 3 and len(set(batch)) == 1  # never mixes sizes
    for p in paths:
        labels = np.asarray(Image.open(tmp_path / "out" / f"{p.stem}.png"))
        assert labels.shape == np.asarray(Image.open(p)).shape[:2]
        assert np.array_equal(labels, np.asarray(Image.open(p))[..., 0] % 21)


def test_images_held_in_memory_stay_bounded_with_many_sizes(tmp_path, monkeypatch):
    # 48 images in 12 sizes with batch 8: buckets rarely fill, so only the max_parked rule keeps memory flat.
    import fcn_core.data.images as images_mod

    paths = []
    for i in range(48):
        paths.append(tmp_path / f"im{i:02d}.png")
        write_photo(paths[-1], 10 + i % 12, 12, i)
    counts = {"decoded": 0, "predicted": 0, "worst": 0}
    lock = threading.Lock()
    real_read = images_mod.read_image

    def counting_read(path):
        img = real_read(path)
        with lock:
            counts["decoded"] += 1
            counts["worst"] = max(counts["worst"], counts["decoded"] - counts["predicted"])
        return img

    class Counting(FakePredictor):
        def predict_batch(self, images, strides=None, with_confidence=True):
            out = super().predict_batch(images, strides, with_confidence)
            with lock:
                counts["predicted"] += len(images)
            return out

    monkeypatch.setattr(images_mod, "read_image", counting_read)
    rep = predict_paths(Counting(), paths, tmp_path / "out", batch_size=8, workers=2, max_parked=4)
    assert rep.ok == 48 and counts["predicted"] == 48
    look_ahead = max(2 * 8, 2 * 2)
    assert counts["worst"] <= look_ahead + 4 + 8  # decode look-ahead + parked + one batch, never all 48


def test_failing_batch_is_retried_per_image(tmp_path):
    paths = [tmp_path / f"im{i}.png" for i in range(4)]
    for i, p in enumerate(paths):
        write_photo(p, 16, 17 if i == 2 else 16, i)
    seen = []
    rep = predict_paths(FakePredictor(fail_width=17), paths, tmp_path / "out", batch_size=4, workers=2,
                        on_failure=lambda path, msg: seen.append((path, msg)))
    assert rep.ok == 3 and [p for p, _ in rep.failed] == [paths[2]] == [p for p, _ in seen]
    assert str(paths[2]) in rep.failed[0][1] and "boom" in rep.failed[0][1]
    assert not (tmp_path / "out" / "im2.png").exists() and (tmp_path / "out" / "im3.png").exists()


def test_unknown_stride_is_refused(tmp_path):
    fake = FakePredictor()
    fake.strides = (8,)
    with pytest.raises(PipelineError, match="strides 8 only"):
        predict_paths(fake, [], tmp_path, strides=(16,))


def test_pipeline_equals_sequential_predict(tmp_path):
    from fcn_core.data.images import read_image

    predictor = tiny_predictor(tmp_path, "fcn-multi")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, (h, w) in enumerate([(40, 56), (33, 47), (40, 56), (40, 56), (33, 47)]):
        write_photo(folder / f"p{i}.png", h, w, 10 + i)
    paths = expand_inputs([folder])
    progress = []
    rep = predict_paths(predictor, paths, tmp_path / "out", strides=(32, 16, 8), batch_size=2, workers=2,
                        progress=lambda done, total: progress.append((done, total)))
    assert rep.ok == 5 and not rep.failed and rep.images_per_s > 0
    assert progress[-1] == (5, 5)
    for p in paths:
        expected = predictor.predict(read_image(p))
        for s in (32, 16, 8):
            png = Image.open(tmp_path / "out" / f"{s}s" / f"{p.stem}.png")
            assert png.mode == "P"
            assert np.array_equal(np.asarray(png), expected[s].labels), (p, s)


def test_render_panels_cpu_and_torch_colourisation_agree(tmp_path):
    predictor = tiny_predictor(tmp_path, "fcn-multi")
    rgb = write_photo(tmp_path / "im.png", 30, 41, 3)
    gt = np.full((30, 41), 255, np.uint8)
    gt[5:20, 4:30] = 7
    a = render_panels(predictor, tmp_path / "im.png", gt, None, 0.4)
    b = render_panels(predictor, rgb, gt, None, 0.4, colour_device="cpu")  # the CUDA code path, on CPU
    assert {"original", "ground_truth", "prediction", "overlay", "prediction_32s", "overlay_16s"} <= set(a)
    pal = voc_palette()
    labels = predictor.predict(rgb)[8].labels
    assert np.array_equal(a["original"], rgb)
    assert np.array_equal(a["prediction"], pal[labels]) and np.array_equal(b["prediction"], pal[labels])
    assert np.array_equal(a["ground_truth"], pal[gt]) and np.array_equal(b["ground_truth"], pal[gt])
    expected = rgb * 0.6 + pal[labels] * 0.4
    for panels in (a, b):
        assert panels["overlay"].dtype == np.uint8 and panels["overlay"].shape == (30, 41, 3)
        assert np.abs(panels["overlay"].astype(float) - expected).max() <= 1.0
    with pytest.raises(ValueError, match="does not match the image size"):
        render_panels(predictor, rgb, gt[:, :40])
