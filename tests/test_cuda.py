"""CUDA-only paths (skipped without a GPU): bf16/fp16 inference, GPU colouring, the folder pipeline, AMP
training with channels_last. Run on a GPU machine with ``scripts/gpu_checks.sh`` (no Qt needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fcn_core.demo_data import make_demo_dataset
from fcn_core.pipeline import predict_paths, render_panels
from fcn_core.predictor import Predictor
from fcn_core.training import TrainConfig, train_model
from tests.test_predictor import _images, _loaded

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_on_cuda_agrees_with_fp32(precision):
    img = _images([(187, 250)], seed=3)[0]
    ref = Predictor(_loaded(seed=4), device="cuda", precision="fp32").predict(img)
    got = Predictor(_loaded(seed=4), device="cuda", precision=precision).predict(img)
    for s in ref:
        assert got[s].labels.shape == (187, 250)
        assert (got[s].labels == ref[s].labels).mean() > 0.95, (precision, s)
        assert np.isfinite(got[s].confidence).all()


def test_cuda_batches_equal_single_images():
    imgs = _images([(96, 128)] * 5, seed=5)
    pred = Predictor(_loaded(seed=6), device="cuda", precision="fp32")
    batch = pred.predict_batch(imgs)
    for img, res in zip(imgs, batch):
        one = pred.predict(img)
        for s in one:
            assert (one[s].labels == res[s].labels).mean() > 0.999


def test_render_panels_colours_on_the_gpu_like_the_cpu():
    pred = Predictor(_loaded(seed=7), device="cuda", precision="fp32")
    rgb = _images([(61, 83)], seed=9)[0]
    gt = np.full((61, 83), 255, np.uint8)
    gt[10:40, 5:60] = 3
    on_gpu = render_panels(pred, rgb, gt, None, 0.4)
    on_cpu = render_panels(pred, rgb, gt, None, 0.4, colour_device="cpu")
    for key in ("prediction", "ground_truth", "prediction_32s"):
        assert np.array_equal(on_gpu[key], on_cpu[key]), key
    assert np.abs(on_gpu["overlay"].astype(int) - on_cpu["overlay"].astype(int)).max() <= 1


def test_folder_pipeline_on_cuda_writes_every_stride(tmp_path):
    pred = Predictor(_loaded(seed=10), device="cuda", precision="fp16")
    paths = []
    for i, img in enumerate(_images([(75, 100)] * 6 + [(64, 64)] * 2, seed=11)):
        p = tmp_path / f"im{i}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    report = predict_paths(pred, paths, tmp_path / "out", strides=(32, 16, 8), batch_size=4)
    assert not report.failed
    for p in paths:
        expected = pred.predict(np.asarray(Image.open(p).convert("RGB")))
        for s in (32, 16, 8):
            got = np.asarray(Image.open(tmp_path / "out" / f"{s}s" / f"{p.stem}.png"))
            assert (got == expected[s].labels).mean() > 0.99, (p, s)


def test_amp_channels_last_training_on_cuda_learns(tmp_path):
    data = make_demo_dataset(tmp_path / "demo", count=12, seed=1, size=(96, 72))
    events = []
    cfg = TrainConfig(data=data, out=tmp_path / "run", arch="fcn-multi", max_iters=40, lr=3e-3, width=0.125,
                      batch_size=4, crop=(64, 96), num_workers=2, device="cuda", amp=True,
                      show_progress=False)
    result = train_model(cfg, progress=events.append)
    losses = [e["loss"] for e in events if e["event"] == "iteration"]
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert next(result.model.parameters()).is_cuda
    assert (tmp_path / "run" / "best.safetensors").is_file()
