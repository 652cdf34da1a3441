"""Predictor: result shapes and ranges, agreement with the model, batching, precision, OOM fallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fcn_core.data.palette import voc_palette
from fcn_core.models import build_model, forward_strides
from fcn_core.predictor import Predictor, StrideResult
from fcn_core.weights import CAFFE_PREPROCESSING, IMAGENET_PREPROCESSING, LoadedModel

TINY = 0.0625


def _loaded(arch: str = "fcn-multi", n_class: int = 5, seed: int = 0, preprocessing=IMAGENET_PREPROCESSING):
    model = build_model(arch, n_class, width=TINY)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.2 if name.startswith(("score", "upscore")) else (2.0 / max(1, p[0].numel())) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g) * std)
    names = [f"c{i}" for i in range(n_class)]
    return LoadedModel(model=model.eval(), arch=arch, num_classes=n_class, class_names=names,
                       palette=voc_palette(256), void_index=255, preprocessing=preprocessing)


def _images(sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for h, w in sizes:
        # Smooth-ish content so that predictions are not pure noise.
        base = rng.integers(0, 256, (-(-h // 8), -(-w // 8), 3), dtype=np.uint8)
        img = np.repeat(np.repeat(base, 8, axis=0), 8, axis=1)[:h, :w]
        out.append(np.ascontiguousarray(img))
    return out


def test_results_shapes_types_and_ranges():
    pred = Predictor(_loaded(), device="cpu")
    assert pred.device == "cpu" and pred.precision == "fp32" and pred.describe() == "cpu fp32"
    assert pred.strides == (32, 16, 8) and pred.num_classes == 5 and pred.class_names[0] == "c0"
    assert pred.palette.shape == (256, 3)
    img = _images([(37, 53)])[0]
    res = pred.predict(img)
    assert sorted(res) == [8, 16, 32]
    for r in res.values():
        assert isinstance(r, StrideResult)
        assert r.labels.shape == r.confidence.shape == r.margin.shape == (37, 53)
        assert r.labels.dtype == np.uint8
        assert r.confidence.dtype == r.margin.dtype == np.float32
        assert r.labels.max() < 5
        assert (r.confidence >= 1 / 5 - 1e-6).all() and (r.confidence <= 1 + 1e-6).all()
        assert (r.margin >= 0).all() and (r.margin <= r.confidence + 1e-6).all()
    assert len(np.unique(res[8].labels)) > 1


def test_labels_and_confidence_equal_the_model_softmax():
    loaded = _loaded(preprocessing=CAFFE_PREPROCESSING)
    img = _images([(40, 60)], seed=1)[0]
    # Independent path: numpy preprocessing (BGR, minus mean), plain forward, softmax.
    bgr = img[:, :, ::-1].astype(np.float32) - np.array(CAFFE_PREPROCESSING.mean, dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]
    with torch.no_grad():
        expect = {s: torch.softmax(z, 1)[0].numpy() for s, z in forward_strides(loaded.model, x).items()}
    res = Predictor(loaded, device="cpu").predict(img)
    for s, prob in expect.items():
        top = np.sort(prob, axis=0)
        clear = (top[-1] - top[-2]) > 1e-4
        assert np.array_equal(res[s].labels[clear], prob.argmax(0)[clear])
        np.testing.assert_allclose(res[s].confidence, top[-1], atol=1e-5)
        np.testing.assert_allclose(res[s].margin, top[-1] - top[-2], atol=1e-5)


def test_batch_equals_single_and_keeps_order():
    pred = Predictor(_loaded(), device="cpu", batch_size=2)
    imgs = _images([(30, 40), (50, 20), (30, 40), (30, 40), (1, 1)], seed=2)
    batch = pred.predict_batch(imgs)
    assert len(batch) == 5
    for img, got in zip(imgs, batch):
        single = pred.predict(img)
        for s in single:
            assert got[s].labels.shape == img.shape[:2]
            assert np.array_equal(got[s].labels, single[s].labels)
            np.testing.assert_allclose(got[s].confidence, single[s].confidence, atol=1e-5)


def test_single_stride_model_and_stride_filter():
    pred = Predictor(_loaded("fcn16s"), device="cpu")
    assert pred.strides == (16,)
    assert list(pred.predict(_images([(25, 35)])[0])) == [16]
    multi = Predictor(_loaded(), device="cpu")
    assert list(multi.predict(_images([(25, 35)])[0], strides=[8])) == [8]


def test_bf16_agrees_with_fp32_on_most_pixels():
    img = _images([(64, 80)], seed=3)[0]
    fp32 = Predictor(_loaded(seed=4), device="cpu").predict(img)
    bf16 = Predictor(_loaded(seed=4), device="cpu", precision="bf16")
    assert bf16.precision == "bf16" and bf16.describe() == "cpu bf16"
    low = bf16.predict(img)
    for s in fp32:
        assert (fp32[s].labels == low[s].labels).mean() > 0.9
        assert low[s].confidence.dtype == np.float32


def test_more_classes_than_8_bit_labels_hold_is_refused():
    with pytest.raises(ValueError, match="256 classes; at most 255"):
        Predictor(_loaded(arch="fcn32s", n_class=256), device="cpu")


def test_fp16_on_cpu_falls_back_with_a_note():
    pred = Predictor(_loaded(), device="cpu", precision="fp16")
    assert pred.precision == "fp32"
    assert any("fp16" in n for n in pred.notes)
    with pytest.raises(ValueError, match="precision"):
        Predictor(_loaded(), device="cpu", precision="int4")  # int8 is the ONNX Runtime preview


def test_image_input_checks():
    pred = Predictor(_loaded(), device="cpu")
    gray = _images([(20, 30)])[0][:, :, 0]
    assert pred.predict(gray)[8].labels.shape == (20, 30)
    rgba = np.dstack([_images([(20, 30)])[0], np.full((20, 30), 255, np.uint8)])
    assert np.array_equal(pred.predict(rgba)[8].labels, pred.predict(rgba[:, :, :3].copy())[8].labels)
    with pytest.raises(ValueError, match="uint8"):
        pred.predict(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        pred.predict(np.zeros((4, 4, 5), np.uint8))


class _FlakyForward:
    """Wraps a model and raises CUDA out-of-memory for the first ``fails`` calls (or for batches > limit)."""

    def __init__(self, model, fails: int = 0, max_batch: int | None = None):
        self.model, self.fails, self.max_batch, self.calls = model, fails, max_batch, []

    def __call__(self, x):
        self.calls.append(int(x.shape[0]))
        if self.fails > 0 or (self.max_batch is not None and x.shape[0] > self.max_batch):
            self.fails -= 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.model(x)


def test_out_of_memory_shrinks_the_batch_and_still_answers():
    imgs = _images([(30, 30)] * 4, seed=5)
    expected = Predictor(_loaded(seed=6), device="cpu").predict_batch(imgs)
    pred = Predictor(_loaded(seed=6), device="cpu", batch_size=4)
    flaky = _FlakyForward(pred.model, max_batch=1)
    pred._forward = flaky
    got = pred.predict_batch(imgs)
    assert flaky.calls[:3] == [4, 2, 1] and pred.batch_size == 1
    assert any("batch size reduced" in n for n in pred.notes)
    for a, b in zip(expected, got):
        assert np.array_equal(a[8].labels, b[8].labels)


def test_out_of_memory_at_batch_one_falls_back_to_cpu_fp32():
    pred = Predictor(_loaded(seed=7), device="cpu", precision="bf16", batch_size=2)
    flaky = _FlakyForward(pred.model, fails=2)  # batch 2 fails, batch 1 fails -> CPU fp32
    pred._forward = flaky
    res = pred.predict_batch(_images([(20, 24)] * 2))
    assert len(res) == 2 and res[0][8].labels.shape == (20, 24)
    assert pred.device == "cpu" and pred.precision == "fp32" and pred.describe() == "cpu fp32"
    assert any("fell back" in n for n in pred.notes)
    assert next(pred.model.parameters()).dtype == torch.float32


def test_out_of_memory_on_cpu_fp32_is_a_clear_error_and_other_errors_propagate():
    pred = Predictor(_loaded(), device="cpu", batch_size=1)
    pred._forward = _FlakyForward(pred.model, fails=10)
    with pytest.raises(MemoryError, match="not enough memory"):
        pred.predict(_images([(10, 10)])[0])

    def broken(x):
        raise RuntimeError("some other failure")

    pred._forward = broken
    with pytest.raises(RuntimeError, match="some other failure"):
        pred.predict(_images([(10, 10)])[0])


def test_compile_failure_falls_back_to_eager(monkeypatch):
    def fake_compile(model, **kwargs):
        def compiled(x):
            raise RuntimeError("inductor: no C++ compiler found")

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    img = _images([(21, 26)], seed=10)[0]
    expected = Predictor(_loaded(seed=11), device="cpu").predict(img)
    pred = Predictor(_loaded(seed=11), device="cpu", compile=True)
    assert pred.describe() == "cpu fp32 compiled"
    got = pred.predict(img)
    assert pred.describe() == "cpu fp32" and any("torch.compile failed" in n for n in pred.notes)
    assert np.array_equal(got[8].labels, expected[8].labels)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_channels_last_matches_cpu():
    img = _images([(96, 128)], seed=8)[0]
    cpu = Predictor(_loaded(seed=9), device="cpu").predict(img)
    gpu = Predictor(_loaded(seed=9), device="cuda", precision="fp16")
    assert gpu.channels_last and gpu.describe() == "cuda fp16"
    res = gpu.predict(img)
    for s in cpu:
        assert (cpu[s].labels == res[s].labels).mean() > 0.95


def test_labels_do_not_depend_on_confidence_with_tied_logits(tmp_path):
    """topk (confidence path) and argmax (labels-only path, what ``fcn evaluate`` uses) broke ties
    differently: the app showed class 6 where ``fcn evaluate`` scored class 0 on the same image."""
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model
    from tests.gui_helpers import make_tiny_model

    names = [f"c{i}" for i in range(8)]
    p = Predictor(load_model(make_tiny_model(tmp_path / "m.safetensors", names)), device="cpu")
    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    full, labels_only = p.predict(img), p.predict(img, with_confidence=False)
    assert full[8].confidence.min() == pytest.approx(1 / 8)  # every class tied: the case that differed
    for s in full:
        assert np.array_equal(full[s].labels, labels_only[s].labels)
